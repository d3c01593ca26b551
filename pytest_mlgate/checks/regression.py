"""The `regression:` section: golden files the candidate model must reproduce."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import GateConfig
from ..errors import DataError, GateFailure
from ..golden import GoldenStore, UpdateMode
from ..io.models import load_source_model
from ..results import CheckResult, Status

if TYPE_CHECKING:
    import pandas as pd

NEW_FILE_ROWS = 100
"""Rows of the evaluation data that seed a golden file written for the first time."""


def run_regression(
    config: GateConfig, classes: tuple[str, ...], seed_inputs: pd.DataFrame, mode: UpdateMode, force: bool
) -> list[CheckResult]:
    source = config.candidate
    assert source is not None  # checked by the config
    model = load_source_model(source, config)
    scores, labels = _predictors(model, config, classes)
    base = config.source.parent if config.source else Path.cwd()
    checks = []
    for golden in config.regression:
        store = GoldenStore(
            golden.golden.parent, artifacts=base / ".mlgate-artifacts", mode=mode, force=force
        )
        check_id = f"regression:{golden.name}"
        limits: dict[str, float | None] = {
            "atol": golden.atol,
            "rtol": golden.rtol,
            "flip_budget": float(golden.flip_budget),
        }
        try:
            result = store.check(
                golden.golden.name,
                seed_inputs.head(NEW_FILE_ROWS),
                scores=scores,
                labels=labels,
                atol=golden.atol,
                rtol=golden.rtol,
                threshold=config.threshold if config.task == "binary" else None,
                flip_budget=golden.flip_budget,
                model=source.describe(),
                features=_feature_names(model),
            )
        except GateFailure as exc:
            checks.append(_result(check_id, "fail", str(exc), limits))
            continue
        except DataError as exc:
            checks.append(_result(check_id, "error", str(exc), limits))
            continue
        if result is None:
            message = f"golden file `{golden.golden.name}` written from the current model ({mode} update)"
            checks.append(_result(check_id, "pass", message, limits))
            continue
        checks.append(
            _result(
                check_id,
                "pass",
                str(result).replace("\n", ";"),
                limits,
                value=result.max_abs_diff,
                n=result.n,
                details={"label_flips": result.label_flips.tolist(), "decisive_rows": result.decisive},
            )
        )
    return checks


def _predictors(model: Any, config: GateConfig, classes: tuple[str, ...]) -> tuple[Any, Any]:
    if config.task == "regression":
        return model.predict, None
    model_classes = [str(c) for c in getattr(model, "classes_", [])]

    def labels(frame: pd.DataFrame) -> Any:
        return np.asarray(model.predict(frame)).astype(str)

    if config.task == "binary" and len(classes) == 2 and classes[1] in model_classes:
        positive = model_classes.index(classes[1])

        def scores(frame: pd.DataFrame) -> Any:
            return np.asarray(model.predict_proba(frame))[:, positive]

        def thresholded(frame: pd.DataFrame) -> Any:
            # The gate's own labels: score >= threshold, not whatever cut model.predict uses.
            return np.where(scores(frame) >= config.threshold, classes[1], classes[0])

        return scores, thresholded
    return None, labels


def _feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _result(
    check_id: str, status: Status, message: str, limits: dict[str, float | None], **figures: Any
) -> CheckResult:
    return CheckResult(
        id=check_id,
        kind="regression",
        status=status,
        metric="golden",
        message=message,
        threshold=limits,
        **figures,
    )
