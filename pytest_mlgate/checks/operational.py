"""The `operational:` section: latency of the candidate against the baseline, measured here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import GateConfig
from ..data import source_features
from ..io.models import load_source_model, model_size
from ..operational import compare_latency, measure, peak_memory_mib
from ..results import CheckResult
from ..stats.rng import stream

if TYPE_CHECKING:
    import pandas as pd


def run_operational(config: GateConfig, inputs: pd.DataFrame) -> list[CheckResult]:
    cfg = config.operational
    assert cfg is not None and config.candidate is not None and config.baseline is not None
    sources = (config.candidate, config.baseline)
    models = [load_source_model(source, config) for source in sources]
    method = "predict_proba" if config.task != "regression" else "predict"
    # Time the model itself: an MLflow model's prediction cache would make every call after the first free.
    predicts = [getattr(getattr(model, "uncached", model), method) for model in models]
    columns = [source_features(inputs, config, s, m) for s, m in zip(sources, models, strict=True)]
    if columns[0] == columns[1]:
        inputs = inputs[columns[0]]
    else:
        # Models trained on different columns each get their own; both pay the same selection cost.
        predicts = [_on_columns(p, c) for p, c in zip(predicts, columns, strict=True)]
    sizes = [model_size(model, source) for model, source in zip(models, sources, strict=True)]
    checks = []
    for batch in sorted({1, cfg.batch_size}):
        timings = measure(
            predicts[0], predicts[1], inputs, batch_size=batch, rounds=cfg.rounds, calls=cfg.calls
        )
        result = compare_latency(
            *timings,
            batch_size=batch,
            max_slowdown=cfg.max_slowdown,
            max_p95_ms=cfg.max_p95_ms if batch == 1 else None,
            max_cv=cfg.max_cv,
            rng=stream(config.seed, f"operational:latency_b{batch}"),
            confidence=config.confidence,
        )
        details: dict[str, Any] = {
            "candidate_ms": {k: [v, list(ci)] for k, (v, ci) in result.candidate_ms.items()},
            "baseline_ms": {k: [v, list(ci)] for k, (v, ci) in result.baseline_ms.items()},
            "rows_per_second": list(result.rows_per_second),
            "round_cv": result.cv,
            "model_bytes": sizes,
        }
        if batch == cfg.batch_size:
            details["peak_memory_mib"] = [peak_memory_mib(p, inputs.head(batch)) for p in predicts]
        checks.append(
            CheckResult(
                id=f"operational:latency_b{batch}",
                kind="operational",
                status=result.status,
                metric="median_latency_ratio",
                message=result.message,
                value=result.candidate_ms["p50"][0],
                baseline=result.baseline_ms["p50"][0],
                ci=result.slowdown_ci,
                n=int(timings[0].calls.size),
                threshold={
                    "max_slowdown": cfg.max_slowdown,
                    "max_p95_ms": cfg.max_p95_ms if batch == 1 else None,
                },
                details=details,
            )
        )
    return checks


def _on_columns(predict: Any, columns: list[str]) -> Any:
    def call(frame: pd.DataFrame) -> Any:
        return predict(frame[columns])

    return call
