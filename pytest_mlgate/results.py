"""What a gate run produces: check results and the report (a public contract).

``GateReport.to_dict`` is the JSON report (``schema_version`` below); change it
only together with ``schemas/report.schema.json`` and the version.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError
from .stats.result import Interval

SCHEMA_VERSION = "1.11"

Status = Literal["pass", "fail", "warn", "inconclusive", "error"]
Decision = Literal["promote", "keep", "reject", "pass"]
"""``pass`` is a gate that judged no model (data checks only): there is nothing to promote."""
MODEL_CHECK_KINDS = frozenset(
    {"comparison", "threshold", "fairness", "regression", "operational", "properties", "llm"}
)
"""Check kinds that judge a model; a gate with none of them can pass but never promote."""
FAILING_STATUSES = ("fail", "error")

__all__ = ["SCHEMA_VERSION", "CheckResult", "GateReport", "Interval"]


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``value`` is the candidate's, ``baseline`` the baseline's."""

    id: str
    kind: Literal[
        "comparison",
        "threshold",
        "drift",
        "validation",
        "fairness",
        "regression",
        "operational",
        "properties",
        "llm",
        "deepchecks",
    ]
    status: Status
    metric: str
    message: str
    value: float | None = None
    baseline: float | None = None
    delta: float | None = None
    ci: Interval | None = None
    """Interval of ``delta`` for comparisons, of ``value`` for thresholds."""
    n: int | None = None
    threshold: dict[str, float | None] = field(default_factory=dict)
    verdict: Decision | None = None
    method: str | None = None
    pvalue: float | None = None
    n_boot: int | None = None
    higher_is_better: bool | None = None
    underpowered: bool = False
    n_needed: int | None = None
    mde: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Kind-specific figures: per-group rates, per-rule violations, drift statistics."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "metric": self.metric,
            "value": _num(self.value),
            "baseline": _num(self.baseline),
            "delta": _num(self.delta),
            "ci": None if self.ci is None else [_num(self.ci.low), _num(self.ci.high)],
            "n": self.n,
            "threshold": {k: _num(v) for k, v in self.threshold.items()},
            "message": self.message,
            "verdict": self.verdict,
            "method": self.method,
            "pvalue": _num(self.pvalue),
            "n_boot": self.n_boot,
            "higher_is_better": self.higher_is_better,
            "underpowered": self.underpowered,
            "n_needed": self.n_needed,
            "mde": _num(self.mde),
            "details": _clean(self.details),
        }

    def __str__(self) -> str:
        ci = "" if self.ci is None else f"  CI {self.ci}"
        return f"{self.id}: {self.status} — {self.message}{ci}"


@dataclass(frozen=True)
class GateReport:
    decision: Decision
    mode: str
    confidence: float
    seed: int
    fail_on: str
    checks: tuple[CheckResult, ...]
    provenance: dict[str, Any]
    summary: str
    analysis: str = "gate"
    """gate, or one of the live analyses: canary, shadow, abtest, monitor."""
    verdict: str | None = None
    """The analysis's own word (canary: promote, continue or rollback); ``decision`` is its gate equivalent."""
    details: dict[str, Any] = field(default_factory=dict)
    """Analysis-wide figures: the canary score and steps, the sample-ratio test, the window."""
    plots: dict[str, Any] = field(default_factory=dict)
    """Curve data for the HTML figures (ROC, calibration, confusion, residuals, slices), from 1.6."""

    def failed(self, fail_on: str | None = None) -> bool:
        """Whether this decision fails a run under ``fail_on`` (reject, keep or never)."""
        rule = fail_on or self.fail_on
        if any(c.status == "error" for c in self.checks):
            return True  # a check that could not compute fails closed, whatever fail_on says
        if rule == "never":
            return False
        if rule == "keep":
            return self.decision in ("keep", "reject")
        return self.decision == "reject"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "analysis": self.analysis,
            "verdict": self.verdict or self.decision,
            "decision": self.decision,
            "summary": self.summary,
            "mode": self.mode,
            "confidence": self.confidence,
            "seed": self.seed,
            "fail_on": self.fail_on,
            "checks": [c.to_dict() for c in self.checks],
            "provenance": self.provenance,
            "details": _clean(self.details),
        }
        if self.plots:
            out["plots"] = _clean(self.plots)
        return out

    def write(self, path: Path) -> None:
        """Write the JSON report; a path that cannot be written is a usage error."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.to_json(), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"report path `{path}` cannot be written: {exc.strerror or exc}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=False) + "\n"

    def __str__(self) -> str:
        what = "Gate decision" if self.analysis == "gate" else f"{self.analysis.capitalize()} verdict"
        word = (self.verdict or self.decision).upper()
        lines = [f"{what}: {word} ({self.mode}, {self.confidence:.0%} intervals)"]
        lines += [f"  {c}" for c in self.checks]
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    """Details as strict JSON: tuples to lists, NaN/inf to null, numpy scalars to Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or hasattr(value, "dtype"):
        as_float = float(value)
        if hasattr(value, "dtype") and value.dtype.kind in "iu":
            return int(value)
        return _num(as_float)
    return str(value)


def _num(x: float | None) -> float | None:
    """JSON has no NaN or inf: an undefined number is written as null."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)
