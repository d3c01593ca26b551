"""What the live analyses share: judging an allowance on an interval, and the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..gate import git_sha, versions
from ..io.tables import file_sha256
from ..lineage import dvc_for, warn
from ..results import CheckResult, Decision, GateReport, Status
from ..stats.decision import MIN_ROWS
from ..stats.result import Comparison
from .config import LiveConfig

VERDICT_DECISION: dict[str, Decision] = {
    "promote": "promote",
    "continue": "keep",
    "keep": "keep",
    "ok": "keep",
    "rollback": "reject",
    "reject": "reject",
    "invalid": "reject",
    "alert": "reject",
    "retrain": "reject",
}
"""Each analysis's verdict and the gate decision it stands for (``decision`` in the report)."""


def judge_degradation(c: Comparison, allowed: float, sizes: tuple[int, int]) -> tuple[Status, str]:
    """Within the allowance only when the whole interval is; beyond it only when the whole interval is.

    ``allowed`` (>= 0) is the tolerated degradation in the metric's units; the
    interval is oriented so that higher is better, like the gate's margin.
    ``sizes`` are the rows behind the metric in the treated and the control
    arm: the minimum holds for each arm, since a huge control cannot make five
    canary requests tell a p95.
    """
    low, high = c.oriented_ci
    treated, control = sizes
    if min(treated, control) < MIN_ROWS:
        return (
            "inconclusive",
            f"only {treated:,} canary and {control:,} control rows: at least {MIN_ROWS} per arm "
            "are needed before an interval is trusted",
        )
    worse = "higher" if not c.higher_is_better else "lower"
    if high < -allowed:
        return (
            "fail",
            f"confidently degraded: {worse} by more than the allowed {allowed:.4g} (interval of Δ {c.ci})",
        )
    if low >= -allowed:
        return (
            "pass",
            f"within the allowed degradation {allowed:.4g}: the whole interval of Δ, {c.ci}, lies inside it",
        )
    return (
        "inconclusive",
        f"not shown within the allowed degradation {allowed:.4g}: the interval of Δ {c.ci} straddles it",
    )


def comparison_check(
    check_id: str, c: Comparison, status: Status, message: str, allowed: float, **extra: Any
) -> CheckResult:
    verdicts: dict[Status, Decision] = {"pass": "promote", "fail": "reject", "inconclusive": "keep"}
    return CheckResult(
        id=check_id,
        kind="comparison",
        status=status,
        metric=c.metric,
        message=message,
        value=c.candidate,
        baseline=c.baseline,
        delta=c.delta,
        ci=c.ci,
        n=c.n,
        threshold={"margin": allowed},
        verdict=verdicts.get(status),
        method=c.method,
        pvalue=c.pvalue,
        n_boot=c.n_boot,
        higher_is_better=c.higher_is_better,
        details=dict(extra),
    )


def error_check(check_id: str, kind: Any, metric: str, message: str) -> CheckResult:
    return CheckResult(id=check_id, kind=kind, status="error", metric=metric, message=message)


def arm_identity(role: str, arm: str) -> dict[str, Any]:
    return {"role": role, "name": f"arm {arm}", "kind": "arm", "path": None, "sha256": None, "version": arm}


def build_report(
    *,
    analysis: str,
    verdict: str,
    summary: str,
    mode: str,
    config: LiveConfig,
    checks: Sequence[CheckResult],
    candidate: str,
    baseline: str | None,
    rows: int,
    window: Mapping[str, Any],
    details: Mapping[str, Any] | None = None,
    reference: Path | None = None,
) -> GateReport:
    provenance: dict[str, Any] = {
        "candidate": arm_identity("candidate", candidate),
        "baseline": None if baseline is None else arm_identity("baseline", baseline),
        "data": {
            "path": str(config.logs.path),
            "sha256": file_sha256(config.logs.path),
            "rows": max(rows, 1),
            "target": config.logs.column("label"),
            "window": dict(window),
        },
        "config": {"path": str(config.source), "sha256": config.sha256},
        "git_sha": git_sha(config.source.parent),
        "seed": config.seed,
        "versions": versions(),
    }
    # The logs, and a monitor's reference profile, may be tracked by DVC like a gate's data.
    tracked = dvc_for({"data": config.logs.path, "reference": reference})
    if tracked:
        provenance["dvc"] = tracked
        warn(provenance)
    return GateReport(
        decision=VERDICT_DECISION[verdict],
        mode=mode,
        confidence=config.confidence,
        seed=config.seed,
        fail_on="reject",
        checks=tuple(checks),
        provenance=provenance,
        summary=summary,
        analysis=analysis,
        verdict=verdict,
        details=dict(details or {}),
    )


def window_text(start: Any, end: Any) -> dict[str, Any]:
    return {
        "start": None if start is None else start.isoformat(),
        "end": None if end is None else end.isoformat(),
    }
