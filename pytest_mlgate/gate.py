"""Run the configured checks and aggregate them into one decision (DESIGN §2)."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable
from functools import partial
from typing import Any, Literal, TypeVar

import numpy as np

from . import __version__
from .config import GateConfig, MetricConfig
from .data import EvalData, load
from .errors import ConfigError
from .golden import UpdateMode
from .io.callables import load_callable
from .io.models import quiet_feature_names
from .progress import Progress
from .results import MODEL_CHECK_KINDS, CheckResult, Decision, GateReport, Status
from .stats.decision import MIN_ROWS, MetricDecision, Verdict, decide, judge_threshold
from .stats.metrics import METRICS
from .stats.paired import compare, compare_callable, estimate
from .stats.result import Comparison, Estimate, Unmeasurable
from .stats.rng import stream

_STATUS_OF: dict[Verdict, Status] = {
    Verdict.PROMOTE: "pass",
    Verdict.KEEP: "inconclusive",
    Verdict.REJECT: "fail",
}


def run_gate(
    config: GateConfig, *, golden_mode: UpdateMode = "never", force_update: bool = False
) -> GateReport:
    """Load the data, run every check, decide. Raises ConfigError/DataError on bad input.

    ``golden_mode`` says whether the `regression:` golden files may be (re)written.
    """
    if config.task == "llm":
        from .llm.gate import run_llm_gate

        return run_llm_gate(config)
    if config.data.engine == "spark":
        from .spark.gate import run_spark_gate

        return run_spark_gate(config)
    with quiet_feature_names():
        data = load(config)
    steps = len(config.metrics) + 1 + bool(config.regression)
    steps += (config.properties is not None) + (config.operational is not None)
    steps += config.deepchecks is not None
    with Progress("gate", total=steps, unit="steps") as progress, quiet_feature_names():
        checks = _run_checks(config, data, golden_mode, force_update, progress)
    llm_provenance = None
    if config.llm is not None:
        from .llm.gate import llm_checks

        llm_provenance = llm_checks(config, checks)
    first_run = data.missing_baseline
    decision, summary = _aggregate(
        checks,
        has_baseline=data.baseline is not None or first_run is not None,
        preface=f"first run, no champion yet (`{first_run['uri']}` is not set), so only absolute floors "
        "were judged"
        if first_run
        else None,
    )
    return GateReport(
        decision=decision,
        mode=config.mode,
        confidence=config.confidence,
        seed=config.seed,
        fail_on=config.fail_on,
        checks=tuple(checks),
        provenance={**_provenance(config, data), **({"llm": llm_provenance} if llm_provenance else {})},
        summary=summary,
        plots=_plots(config, data),
    )


def _plots(config: GateConfig, data: EvalData) -> dict[str, Any]:
    if not config.report_plots:
        return {}
    from .figures import report_plots

    return report_plots(config, data)


def _run_checks(
    config: GateConfig, data: Any, golden_mode: UpdateMode, force_update: bool, progress: Progress
) -> list[CheckResult]:
    checks: list[CheckResult] = []
    compared: list[tuple[MetricConfig, Comparison]] = []
    for metric in config.metrics:
        progress.advance(1, f"compare:{metric.name}")
        if data.baseline is not None:
            result = _guard(
                f"compare:{metric.name}", "comparison", metric, partial(_compare, config, data, metric)
            )
            if isinstance(result, CheckResult):
                checks.append(result)
            else:
                compared.append((metric, result))
        if metric.min is not None or metric.max is not None:
            checks.append(_threshold_check(config, data, metric))
    if compared:
        decisions = decide(
            [c for _, c in compared],
            [m.margin for m, _ in compared],
            [m.gain for m, _ in compared],
            config.mode,
        )
        checks += [_comparison_check(m, c, d, config) for (m, c), d in zip(compared, decisions, strict=True)]
    order = {m.name: i for i, m in enumerate(config.metrics)}
    checks.sort(key=lambda c: (order.get(c.metric, len(order)), c.kind != "comparison"))
    progress.advance(1, "data checks")
    checks += _data_checks(config, data)
    if config.regression:
        progress.advance(1, "golden cases")
        from .checks.regression import run_regression

        checks += run_regression(
            config, data.classes, _candidate_inputs(config, data), golden_mode, force_update
        )
    if config.properties is not None:
        progress.advance(1, "properties")
        from .checks.properties import run_properties

        checks += run_properties(config, _candidate_inputs(config, data))
    if config.operational is not None:
        progress.advance(1, "operational")
        from .checks.operational import run_operational

        checks += run_operational(config, data.frame)
    if config.deepchecks is not None:
        progress.advance(1, "deepchecks")
        from .checks.deepchecks import run_deepchecks

        checks += run_deepchecks(config.deepchecks, config, data)
    return checks


def _candidate_inputs(config: GateConfig, data: EvalData) -> Any:
    """The evaluation rows as the candidate model takes them (its own columns, in its order)."""
    from .data import source_features
    from .io.models import load_source_model

    assert config.candidate is not None  # the config requires a candidate model for these checks
    model = load_source_model(config.candidate, config)
    return data.frame[source_features(data.frame, config, config.candidate, model)]


def _data_checks(config: GateConfig, data: EvalData) -> list[CheckResult]:
    from .io.tables import read_table

    checks: list[CheckResult] = []
    if config.drift is not None:
        from .checks.drift import run_drift

        current = (
            data.frame
            if config.drift.current is None
            else read_table(config.drift.current, what="drift current")
        )
        checks += run_drift(config.drift, current, config.data.target)
    if config.validation is not None:
        from .checks.validation import run_validation

        table = (
            data.frame
            if config.validation.data is None
            else read_table(config.validation.data, what="validation")
        )
        checks += run_validation(config.validation, table)
    if config.fairness is not None:
        from .checks.fairness import run_fairness

        assert data.candidate is not None and data.candidate.labels is not None  # config requires a candidate
        checks += run_fairness(
            config.fairness,
            data.frame,
            np.asarray(data.y, dtype=np.intp),
            data.candidate.labels,
            data.baseline.labels if data.baseline is not None else None,
            seed=config.seed,
            n_boot=config.n_boot,
            confidence=config.confidence,
            base_dir=config.source.parent if config.source else None,
        )
    return checks


T = TypeVar("T", Comparison, Estimate)


def _guard(
    check_id: str,
    kind: Literal["comparison", "threshold"],
    metric: MetricConfig,
    compute: Callable[[], T],
    threshold: dict[str, float | None] | None = None,
) -> T | CheckResult:
    """Run one computation. Unmeasurable data keeps; a crash or a NaN is an `error`, which fails closed."""

    def result(status: Status, message: str) -> CheckResult:
        return CheckResult(
            id=check_id,
            kind=kind,
            status=status,
            metric=metric.name,
            message=message,
            threshold=threshold or {},
        )

    try:
        value = compute()
    except ConfigError:
        raise
    except Unmeasurable as exc:
        return result("inconclusive", f"KEEP: not measurable: {exc}")
    except Exception as exc:
        return result("error", f"could not compute {metric.name}: {type(exc).__name__}: {exc}")
    if not value.is_finite:
        return result(
            "error", f"{metric.name} is undefined on this data (NaN or inf in the estimate or its interval)"
        )
    return value


def _arrays(
    data: EvalData, metric: MetricConfig
) -> tuple[str, np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
    if data.task == "regression":
        needs = "values"
    elif metric.callable is None:
        needs = METRICS[metric.name].needs
    else:
        needs = metric.needs or "labels"
    assert data.candidate is not None  # metrics require a candidate (config)
    cand = data.candidate.for_needs(needs, metric.name)
    base = data.baseline.for_needs(needs, metric.name) if data.baseline is not None else None
    return needs, cand, base


def _compare(config: GateConfig, data: EvalData, metric: MetricConfig) -> Comparison:
    _, cand, base = _arrays(data, metric)
    assert base is not None
    rng = stream(config.seed, f"compare:{metric.name}")
    boundaries = [metric.gain, -metric.margin]
    if metric.callable is not None:
        return compare_callable(
            metric.name,
            _import_callable(metric, config),
            data.y,
            cand,
            base,
            higher_is_better=metric.higher_is_better,
            rng=rng,
            confidence=config.confidence,
            n_boot=config.n_boot,
            boundaries=boundaries,
        )
    return compare(
        metric.name,
        data.y,
        cand,
        base,
        rng=rng,
        confidence=config.confidence,
        n_boot=config.n_boot,
        boundaries=boundaries,
        n_classes=max(data.n_classes, 2),
    )


def _threshold_check(config: GateConfig, data: EvalData, metric: MetricConfig) -> CheckResult:
    check_id = f"threshold:{metric.name}"
    limits = {"min": metric.min, "max": metric.max}

    def compute() -> Estimate:
        _, cand, _ = _arrays(data, metric)
        return estimate(
            metric.name,
            data.y,
            cand,
            rng=stream(config.seed, check_id),
            confidence=config.confidence,
            n_boot=config.n_boot,
            boundaries=[b for b in (metric.min, metric.max) if b is not None],
            n_classes=max(data.n_classes, 2),
        )

    return threshold_result(metric, _guard(check_id, "threshold", metric, compute, limits))


def threshold_result(metric: MetricConfig, est: Estimate | CheckResult) -> CheckResult:
    """An estimate judged against the metric's min/max (a guarded failure passes through)."""
    if isinstance(est, CheckResult):
        return est
    check_id = f"threshold:{metric.name}"
    limits = {"min": metric.min, "max": metric.max}
    status = judge_threshold(est, metric.min, metric.max) if est.n >= MIN_ROWS else "inconclusive"
    bound = " and ".join(
        f"{op} {v:.4g}" for op, v in ((">=", metric.min), ("<=", metric.max)) if v is not None
    )
    message = {
        "pass": f"{metric.name} {bound}: the whole interval {est.ci} is within the limit",
        "fail": f"{metric.name} {bound} fails: the whole interval {est.ci} is outside the limit",
        "inconclusive": f"{metric.name} {bound} not shown: the interval {est.ci} straddles the limit"
        if est.n >= MIN_ROWS
        else f"{metric.name} {bound} not judged: only {est.n} rows, at least {MIN_ROWS} are needed",
    }[status]
    return CheckResult(
        id=check_id,
        kind="threshold",
        status=status,
        metric=metric.name,
        message=message,
        value=est.value,
        ci=est.ci,
        n=est.n,
        threshold=limits,
        method=est.method,
        higher_is_better=METRICS[metric.name].higher_is_better,
    )


def _comparison_check(
    metric: MetricConfig, c: Comparison, d: MetricDecision, config: GateConfig
) -> CheckResult:
    return comparison_result(f"compare:{metric.name}", c, d, metric.margin, metric.gain)


def comparison_result(
    check_id: str, c: Comparison, d: MetricDecision, margin: float, gain: float
) -> CheckResult:
    """A paired comparison and its decision as a check (the gate's, and the shadow analysis')."""
    return CheckResult(
        id=check_id,
        kind="comparison",
        status=_STATUS_OF[d.verdict],
        metric=c.metric,
        message=f"{d.verdict.value.upper()}: {d.reason}",
        value=c.candidate,
        baseline=c.baseline,
        delta=c.delta,
        ci=c.ci,
        n=c.n,
        threshold={"margin": margin, "gain": gain},
        verdict=d.verdict.value,
        method=c.method,
        pvalue=c.pvalue,
        n_boot=c.n_boot,
        higher_is_better=c.higher_is_better,
        underpowered=d.underpowered,
        n_needed=d.n_needed,
        mde=d.mde,
    )


def _aggregate(
    checks: list[CheckResult], *, has_baseline: bool, preface: str | None = None
) -> tuple[Decision, str]:
    """The decision and its one-line summary, ``DECISION: [preface; ]reason``."""
    decision, reason = _decide(checks, has_baseline=has_baseline)
    return decision, f"{decision.upper()}: {preface + '; ' if preface else ''}{reason}"


def _decide(checks: list[CheckResult], *, has_baseline: bool) -> tuple[Decision, str]:
    failing = [c for c in checks if c.status in ("fail", "error")]
    if failing:
        return "reject", ", ".join(f"{c.id} ({c.status})" for c in failing)
    if not checks:
        return "keep", "nothing was measured (no baseline and no min/max limits)"
    open_checks = [c for c in checks if c.status not in ("pass", "warn")]
    if open_checks:
        underpowered = [c for c in open_checks if c.underpowered]
        others = [c for c in open_checks if not c.underpowered]
        # Name each open check with its reason: an inconclusive fairness check alone turns a promote into
        # a keep, and the decision line must say so rather than leave it to the table.
        named = "; ".join(f"{c.id} is {c.status}: {_gist(c.message)}" for c in others)
        if underpowered:
            need = max(c.n_needed or 0 for c in underpowered)
            names = ", ".join(c.metric for c in underpowered)
            return "keep", f"UNDERPOWERED on {names}; need n ≈ {need:,}" + (
                f"; also {named}" if others else ""
            )
        passed = [c.metric for c in checks if c.kind == "comparison" and c.status == "pass"]
        if passed and not any(c.kind == "comparison" for c in others):
            return "keep", f"the metric comparisons pass ({', '.join(passed)}), but {named}; so no promotion"
        return "keep", "not shown better or not measurable: " + named
    warned = [c.id for c in checks if c.status == "warn"]
    note = f" ({len(warned)} warning(s): {', '.join(warned[:5])})" if warned else ""
    if not any(c.kind in MODEL_CHECK_KINDS for c in checks):
        # Passing data checks say nothing about a model: calling that "promote" would let a release
        # job promote whatever it was pointed at.
        return "pass", f"data checks only, no model was judged; all {len(checks)} checks pass{note}"
    if not has_baseline:
        return "promote", f"no baseline; every check passes on its interval{note}"
    return "promote", f"all {len(checks)} checks pass{note}"


def _gist(message: str, limit: int = 160) -> str:
    """A check's message for the decision line: without its verdict word, and short."""
    text = message.removeprefix("KEEP: ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _import_callable(metric: MetricConfig, config: GateConfig) -> Callable[[Any, Any], float]:
    assert metric.callable is not None
    base = config.source.parent if config.source else None
    return load_callable(metric.callable, f"metrics.{metric.name}.callable", base)


def git_sha(cwd: Any) -> str | None:
    """The commit checked out in ``cwd``, or None outside a git repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """The versions a report records, so that a figure can be reproduced."""
    import pandas
    import scipy

    return {
        "mlgate": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "python": platform.python_version(),
    }


def _provenance(config: GateConfig, data: EvalData) -> dict[str, Any]:
    from .lineage import add_lineage

    provenance = {
        "candidate": data.candidate.identity if data.candidate is not None else None,
        "baseline": data.baseline.identity if data.baseline is not None else data.missing_baseline,
        "data": {
            "path": str(data.data_path),
            "sha256": data.data_sha256,
            "rows": data.n,
            "target": config.data.target,
        },
        "task": config.task,
        "classes": list(data.classes),
        **run_provenance(config),
    }
    return add_lineage(config, provenance)


def run_provenance(config: GateConfig) -> dict[str, Any]:
    """What every gate's provenance says of the run itself: config, git commit, seed and versions."""
    return {
        "config": {
            "path": str(config.source) if config.source else None,
            "sha256": config.sha256,
            "overrides": dict(config.overrides or {}),
        },
        "git_sha": git_sha(config.source.parent if config.source else None),
        "seed": config.seed,
        "versions": versions(),
    }
