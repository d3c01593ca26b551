"""The `properties:` section: hypothesis-based properties of the candidate model, in the report."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import GateConfig
from ..errors import ConfigError, GateFailure
from ..io.models import load_source_model
from ..results import CheckResult

if TYPE_CHECKING:
    import pandas as pd


def run_properties(config: GateConfig, rows: pd.DataFrame) -> list[CheckResult]:
    from .. import properties as props

    cfg = config.properties
    source = config.candidate
    assert cfg is not None and source is not None  # checked by the config
    model = load_source_model(source, config)
    score = _score_function(model, config)
    checks: list[CheckResult] = []

    def record(check_id: str, run: Callable[[], Any], passed: str) -> None:
        try:
            run()
        except GateFailure as exc:
            checks.append(
                CheckResult(
                    id=check_id, kind="properties", status="fail", metric="property", message=str(exc)
                )
            )
        except ConfigError:
            raise
        except Exception as exc:  # the model raised on a generated row; hypothesis notes which
            notes = "; ".join(getattr(exc, "__notes__", []))
            message = f"the model raised on a generated row: {type(exc).__name__}: {exc}" + (
                f" ({notes})" if notes else ""
            )
            checks.append(
                CheckResult(
                    id=check_id, kind="properties", status="error", metric="property", message=message
                )
            )
        else:
            checks.append(
                CheckResult(id=check_id, kind="properties", status="pass", metric="property", message=passed)
            )

    for feature, direction in cfg.monotonic.items():
        increasing = direction == "increasing"
        record(
            f"properties:monotonic:{feature}",
            partial(
                props.assert_monotonic,
                score,
                rows,
                feature,
                increasing=increasing,
                atol=cfg.atol,
                max_examples=cfg.max_examples,
                seed=config.seed,
            ),
            f"the score {'rises' if increasing else 'falls'} with `{feature}` on {cfg.max_examples} generated examples",
        )
    for feature in cfg.invariant:
        record(
            f"properties:invariant:{feature}",
            partial(
                props.assert_invariant,
                score,
                rows,
                feature,
                atol=cfg.atol,
                max_examples=cfg.max_examples,
                seed=config.seed,
            ),
            f"`{feature}` does not move the score on {cfg.max_examples} generated examples",
        )
    if cfg.robust is not None:
        noise = float(cfg.robust.get("noise", 0.01))
        limit = float(cfg.robust.get("max_flip_rate", 0.01))
        record(
            "properties:robust",
            lambda: props.assert_robust(
                model.predict, rows, noise=noise, max_flip_rate=limit, seed=config.seed
            ),
            f"noise of {noise:g}σ flips at most {limit:.2%} of labels",
        )
    return checks


def _score_function(model: Any, config: GateConfig) -> Callable[[pd.DataFrame], Any]:
    if config.task == "regression" or not hasattr(model, "predict_proba"):
        return lambda frame: np.asarray(model.predict(frame), dtype=np.float64)
    classes = [str(c) for c in getattr(model, "classes_", [])]
    positive = (
        str(config.positive_label) if config.positive_label is not None else ("1" if "1" in classes else None)
    )
    if config.task == "binary" and positive in classes:
        column = classes.index(positive)
    elif config.task == "binary" and set(classes) == {"False", "True"}:
        column = classes.index("True")
    else:
        raise ConfigError(
            f"`positive_label` must name one of the model's classes {classes} for property tests on its probability"
        )
    return lambda frame: np.asarray(model.predict_proba(frame))[:, column]
