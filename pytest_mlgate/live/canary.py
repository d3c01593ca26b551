"""Canary analysis: the canary arm against the control arm over the same window.

The log is streamed once, in chunks; each arm of each window is reduced to
mergeable totals (request and error counts, a latency histogram on a fixed
log grid, a score histogram, label counts). Memory is bounded by the chunk
size plus 8 bytes a row for the duplicate-id check (16 while they are sorted).

Each metric is judged on the interval of Δ = canary − control against its
allowed degradation (``judge_degradation``): pass when the whole interval is
within it, fail when the whole interval is beyond it. A proportion (error rate,
accuracy) fails only when exact per-arm bounds confirm it too, so small counts
cannot roll back more often than 1 − confidence. With ``sequential: mixture``
(the default with steps) the intervals are always-valid confidence sequences
and each step spends its share of alpha, so repeated looks (cron runs over the
window since the canary started) and successive steps together keep the
false-rollback rate of each metric within 1 − confidence. The verdict then follows
Kayenta's shape: a failed critical metric rolls back at once; below the
minimum data the canary continues; a weighted score of the passing metrics
promotes at ``pass_score``; a failure with a score under ``marginal_score``
rolls back; anything else continues.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import DataError
from ..results import CheckResult, GateReport, Status
from ..stats.bootstrap import percentile_interval
from ..stats.decision import MIN_ROWS, judge_interval
from ..stats.drift import SMOOTHING, compare_counts
from ..stats.result import Comparison, Interval, Unmeasurable
from ..stats.rng import stream
from ..stats.sequential import (
    beta_binomial_bound,
    clopper_pearson,
    effective_size,
    mixture_confidence,
    mixture_z,
    split_alpha,
)
from ..stats.twosample import (
    GRID_BINS,
    Sample,
    grid_counts,
    grid_quantile,
    mean_difference,
    proportion_difference,
    statistic_difference,
)
from .common import build_report, comparison_check, judge_degradation, window_text
from .config import Allowance, CanaryConfig, LiveConfig
from .logs import LogReader, labels_equal, parse_instant

_OPTIONAL = ("latency_ms", "error", "prediction", "score", "label")
_NEEDS = {
    "error_rate": "error",
    "latency_p50": "latency_ms",
    "latency_p90": "latency_ms",
    "latency_p95": "latency_ms",
    "latency_p99": "latency_ms",
    "accuracy": "prediction",
    "mae": "prediction",
}


@dataclass
class ArmTotals:
    """One arm in one window, reduced to sums that merge exactly across chunks."""

    requests: int = 0
    errors: int = 0
    latency: Any = field(default_factory=lambda: np.zeros(GRID_BINS, dtype=np.int64))
    latency_missing: int = 0
    scores: Any = field(default_factory=lambda: np.zeros(GRID_BINS, dtype=np.int64))
    labelled: int = 0
    correct: int = 0
    abs_error: tuple[float, float] = (0.0, 0.0)
    """Sum and sum of squares of |prediction − label| (mae)."""

    def add(self, frame: Any, present: Sequence[str]) -> None:
        import pandas as pd

        self.requests += len(frame)
        if "error" in present:
            self.errors += int(frame["error"].to_numpy().sum())
        if "latency_ms" in present:
            values = frame["latency_ms"].to_numpy(dtype=np.float64)
            self.latency_missing += int(np.isnan(values).sum())
            self.latency += grid_counts(values)
        scored = "score" if "score" in present else None
        if scored:
            self.scores += grid_counts(frame["score"].to_numpy(dtype=np.float64))
        if "label" in present and "prediction" in present:
            known = frame["label"].notna() & frame["prediction"].notna()
            labels, predictions = frame["label"][known], frame["prediction"][known]
            self.labelled += int(known.sum())
            self.correct += int(labels_equal(labels, predictions).sum())
            y = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=np.float64)
            p = pd.to_numeric(predictions, errors="coerce").to_numpy(dtype=np.float64)
            gaps = np.abs(p - y)
            gaps = gaps[np.isfinite(gaps)]
            total, squares = self.abs_error
            self.abs_error = (total + float(gaps.sum()), squares + float((gaps * gaps).sum()))


@dataclass
class Window:
    name: str
    start: Any
    end: Any
    arms: dict[str, ArmTotals]


def analyse(
    config: LiveConfig,
    *,
    since: str | None = None,
    until: str | None = None,
) -> GateReport:
    """Run the canary analysis; returns the ``GateReport`` (analysis ``canary``)."""
    cfg: CanaryConfig = config.section("canary")
    start = parse_instant(since, "--since") if since else None
    end = parse_instant(until, "--until") if until else None
    windows = _windows(cfg, start, end)
    reader = LogReader(
        config.logs,
        needed=("timestamp", "arm", "request_id"),
        optional=_OPTIONAL,
        arms=(cfg.control, cfg.canary),
        unique_per="log",
    )
    stepped_end = windows[-1].end if cfg.steps and windows[-1].end != end else None
    after_steps = 0
    for frame in reader.chunks():
        stamps = frame["timestamp"]
        if stepped_end is not None:
            after_steps += int((stamps >= stepped_end).sum())
        for window in windows:
            inside = np.ones(len(frame), dtype=bool)
            if window.start is not None:
                inside &= (stamps >= window.start).to_numpy()
            if window.end is not None:
                inside &= (stamps < window.end).to_numpy()
            if not inside.any():
                continue
            part = frame[inside]
            arm = part["arm"].to_numpy()
            for name, totals in window.arms.items():
                chosen = arm == name
                if chosen.any():
                    totals.add(part[chosen], reader.present)
    _check_columns(cfg, reader.present, config)
    used = [w for w in windows if sum(a.requests for a in w.arms.values()) > 0]
    if not used:
        span = f"{reader.first.isoformat()} … {reader.last.isoformat()}"
        asked = window_text(start, end)
        raise DataError(
            f"log `{config.logs.path}` has no requests in the window {asked['start'] or 'start'} … "
            f"{asked['end'] or 'end'} (the log spans {span})"
        )
    results = [_judge_window(config, cfg, w, reader.present, len(windows) > 1) for w in used]
    return _report(config, cfg, windows, used, results, reader, after_steps)


def _windows(cfg: CanaryConfig, start: Any, end: Any) -> list[Window]:
    from ..errors import ConfigError

    def fresh() -> dict[str, ArmTotals]:
        return {cfg.control: ArmTotals(), cfg.canary: ArmTotals()}

    if not cfg.steps:
        return [Window("window", start, end, fresh())]
    out, previous, last = [], start, None
    for name, until_text in cfg.steps:
        stop = parse_instant(until_text, f"canary.steps.{name}.until")
        if last is not None and stop <= last:
            raise ConfigError(
                f"`canary.steps.{name}.until`={until_text!r} must be after the previous step's end"
            )
        last = stop
        if start is not None and stop <= start:
            continue  # the step ended before --since: not part of this run
        if end is not None and stop > end:
            stop = end
        if previous is None or stop > previous:
            out.append(Window(name, previous, stop, fresh()))
        previous = stop
    if not out:
        raise ConfigError(f"every `canary.steps` window ends before `--since`={start.isoformat()}")
    return out


def _check_columns(cfg: CanaryConfig, present: Sequence[str], config: LiveConfig) -> None:
    for allowance in cfg.metrics:
        column = _NEEDS.get(allowance.metric)
        if allowance.metric == "prediction_drift":
            column = "score"
        if column and column not in present:
            raise DataError(
                f"log `{config.logs.path}` has no column `{config.logs.column(column)}` "
                f"(`logs.columns.{column}`), which canary metric `{allowance.metric}` needs"
            )
        if allowance.metric in ("accuracy", "mae") and "label" not in present:
            raise DataError(
                f"log `{config.logs.path}` has no column `{config.logs.column('label')}` "
                f"(`logs.columns.label`), which canary metric `{allowance.metric}` needs"
            )


@dataclass(frozen=True)
class WindowResult:
    name: str
    verdict: str
    reason: str
    score: float
    checks: tuple[CheckResult, ...]
    requests: dict[str, int]


def _judge_window(
    config: LiveConfig, cfg: CanaryConfig, window: Window, present: Sequence[str], stepped: bool
) -> WindowResult:
    control, canary = window.arms[cfg.control], window.arms[cfg.canary]
    prefix = f"canary[{window.name}]:" if stepped else "canary:"
    checks: list[CheckResult] = []
    for allowance in cfg.metrics:
        check_id = prefix + allowance.metric
        try:
            checks.append(_metric_check(config, cfg, allowance, check_id, control, canary))
        except Unmeasurable as exc:
            checks.append(
                CheckResult(
                    id=check_id,
                    kind="drift" if allowance.metric == "prediction_drift" else "comparison",
                    status="inconclusive",
                    metric=allowance.metric,
                    message=f"not measurable yet: {exc}",
                    details={"critical": allowance.critical},
                )
            )
    requests = {"control": control.requests, "canary": canary.requests}
    enough = min(requests.values()) >= cfg.min_requests
    checks.append(
        CheckResult(
            id=prefix + "minimum_data",
            kind="validation",
            status="pass" if enough else "inconclusive",
            metric="requests",
            message=(
                f"{canary.requests:,} canary and {control.requests:,} control requests"
                + ("" if enough else f"; the minimum-data rule needs {cfg.min_requests:,} per arm")
            ),
            value=float(canary.requests),
            baseline=float(control.requests),
            n=canary.requests + control.requests,
            threshold={"min": float(cfg.min_requests)},
        )
    )
    metric_checks = checks[:-1]
    judged = list(zip(cfg.metrics, metric_checks, strict=True))
    total = sum(a.weight for a in cfg.metrics) or 1.0
    score = 100.0 * sum(a.weight for a, c in judged if c.status == "pass") / total
    critical = [a.metric for a, c in judged if a.critical and c.status == "fail"]
    failed = [a.metric for a, c in judged if c.status == "fail"]
    if critical:
        verdict, reason = "rollback", f"critical metric {', '.join(critical)} failed"
    elif not enough:
        verdict, reason = (
            "continue",
            (
                f"minimum-data rule: {min(requests.values()):,} requests in the smaller arm, {cfg.min_requests:,} needed"
            ),
        )
    elif failed and score < cfg.marginal_score:
        verdict, reason = (
            "rollback",
            (f"{', '.join(failed)} failed and the score {score:.0f} < marginal {cfg.marginal_score:g}"),
        )
    elif score >= cfg.pass_score and not failed:
        verdict, reason = (
            "promote",
            f"score {score:.0f} ≥ {cfg.pass_score:g}: every metric is within its allowance",
        )
    else:
        waiting = [a.metric for a, c in judged if c.status != "pass"]
        verdict, reason = (
            "continue",
            f"score {score:.0f} < {cfg.pass_score:g}; not yet shown: {', '.join(waiting)}",
        )
    return WindowResult(window.name, verdict, reason, score, tuple(checks), requests)


def _allowed(allowance: Allowance, control_value: float) -> float:
    if allowance.max_relative_increase is not None:
        return allowance.max_relative_increase * abs(control_value)
    return float(
        allowance.max_increase if allowance.max_increase is not None else allowance.max_decrease or 0.0
    )


@dataclass(frozen=True)
class Look:
    """How one window's intervals are built: one look (fixed) or an always-valid sequence."""

    alpha: float
    """Two-sided error of this window's intervals: 1 − confidence, or its step's share of it."""
    sequential: bool

    @classmethod
    def of(cls, config: LiveConfig, cfg: CanaryConfig) -> Look:
        alpha = 1.0 - config.confidence
        if cfg.sequential == "mixture":
            return cls(split_alpha(alpha, max(1, len(cfg.steps))), True)
        return cls(alpha, False)

    def confidence(self, sizes: tuple[int, int], tuned_at: int) -> float:
        """The fixed-sample confidence as wide as the mixture boundary at these arm sizes."""
        if not self.sequential:
            return 1.0 - self.alpha
        # Tuned at the minimum data, both arms at it; depends on counts only, never on outcomes.
        ratio = float(effective_size(*sizes)) / (tuned_at / 2.0)
        return mixture_confidence(max(ratio, 1e-9), self.alpha)

    def z(self, sizes: tuple[int, int], tuned_at: int) -> float:
        ratio = float(effective_size(*sizes)) / (tuned_at / 2.0)
        return float(mixture_z(max(ratio, 1e-9), self.alpha))

    def describe(self, confidence: float) -> dict[str, Any]:
        return {
            "method": "mixture" if self.sequential else "fixed",
            "alpha": self.alpha,
            "confidence": confidence,
        }


def _metric_check(
    config: LiveConfig,
    cfg: CanaryConfig,
    allowance: Allowance,
    check_id: str,
    control: ArmTotals,
    canary: ArmTotals,
) -> CheckResult:
    metric = allowance.metric
    look = Look.of(config, cfg)
    extra: dict[str, Any] = {"critical": allowance.critical, "weight": allowance.weight}
    if metric == "prediction_drift":
        return _drift_check(config, cfg, look, check_id, allowance, control, canary)
    c: Comparison
    if metric == "error_rate":
        sizes = (canary.requests, control.requests)
        level = look.confidence(sizes, cfg.min_requests)
        c = proportion_difference(
            metric,
            (canary.errors, canary.requests),
            (control.errors, control.requests),
            higher_is_better=False,
            confidence=level,
        )
    elif metric.startswith("latency_p"):
        q = int(metric.removeprefix("latency_p")) / 100.0
        sizes = (int(canary.latency.sum()), int(control.latency.sum()))
        if min(sizes) < 2:
            raise Unmeasurable("fewer than 2 latencies logged in an arm")
        allowed_guess = _allowed(allowance, grid_quantile(control.latency, q))
        level = look.confidence(sizes, cfg.min_requests)
        # A sequence reads the order-statistic draws at its own level rather than as Δ̂ ± z·sd: one
        # unbounded draw makes the sd inf, and a tail quantile's interval is skewed.
        c = statistic_difference(
            metric,
            Sample.from_grid(canary.latency),
            Sample.from_grid(control.latency),
            statistic=q,
            higher_is_better=False,
            rng=stream(config.seed, check_id),
            confidence=level,
            n_boot=_draws_at(level, config.n_boot),
            boundaries=[allowed_guess],
        )
        if look.sequential:
            c = replace(c, method=f"{c.method}; normal-mixture sequence")
        extra["latency_missing"] = {"canary": canary.latency_missing, "control": control.latency_missing}
    else:  # accuracy, mae: on the labelled rows
        sizes = (canary.labelled, control.labelled)
        if min(sizes) < cfg.min_labels:
            raise Unmeasurable(
                f"{canary.labelled:,} canary and {control.labelled:,} control rows have labels; "
                f"{cfg.min_labels:,} per arm are needed"
            )
        level = look.confidence(sizes, cfg.min_labels)
        if metric == "accuracy":
            c = proportion_difference(
                metric,
                (canary.correct, canary.labelled),
                (control.correct, control.labelled),
                higher_is_better=True,
                confidence=level,
            )
        else:
            c = mean_difference(
                metric,
                (canary.labelled, *canary.abs_error),
                (control.labelled, *control.abs_error),
                higher_is_better=False,
                confidence=level,
            )
    allowed = _allowed(allowance, c.baseline)
    status, message = judge_degradation(c, allowed, sizes)
    extra["sequential"] = look.describe(level)
    if status == "fail" and metric in ("error_rate", "accuracy"):
        exact = _exact_check(look, allowance, canary, control)
        extra["exact"] = exact
        if not exact["confirmed"]:
            status = "inconclusive"
            message = (
                f"the interval of Δ {c.ci} lies beyond the allowed {allowed:.4g}, but the exact per-arm "
                f"bounds ({exact['method']}: {exact['worse_arm']} ≥ {exact['worse_low']:.4g}, "
                f"{exact['better_arm']} ≤ {exact['better_high']:.4g}) do not confirm it yet"
            )
    if allowance.critical:
        message = f"[critical] {message}"
    return comparison_check(check_id, c, status, message, allowed, **extra)


def _draws_at(level: float, n_boot: int) -> int:
    """Enough draws that about 20 lie beyond each bound of a ``level`` interval (at most a million)."""
    return max(n_boot, min(1_000_000, math.ceil(40.0 / (1.0 - level))))


def _exact_check(look: Look, allowance: Allowance, canary: ArmTotals, control: ArmTotals) -> dict[str, Any]:
    """Exact per-arm bounds on the two rates, and whether they separate them by more than the allowance.

    Under "no worse than allowed", the canary's lower bound clears the control's
    upper bound (plus the allowance) only if one of them misses its rate: at most
    alpha/2 each, at every n, and with the mixture at every look too.
    """
    if allowance.metric == "error_rate":
        worse, better = (
            (canary.errors, canary.requests, "canary"),
            (control.errors, control.requests, "control"),
        )
        ratio = None if allowance.max_relative_increase is None else 1.0 + allowance.max_relative_increase
        allowed = float(allowance.max_increase or 0.0)
    else:  # accuracy falls when the control's rate of correct answers exceeds the canary's
        worse, better = (
            (control.correct, control.labelled, "control"),
            (canary.correct, canary.labelled, "canary"),
        )
        ratio, allowed = None, float(allowance.max_decrease or 0.0)
    bound = beta_binomial_bound if look.sequential else clopper_pearson
    low = float(bound(worse[0], worse[1], look.alpha / 2.0, "lower"))
    high = float(bound(better[0], better[1], look.alpha / 2.0, "upper"))
    confirmed = low > ratio * high if ratio is not None else low - high > allowed
    return {
        "method": "beta-binomial confidence sequences" if look.sequential else "Clopper–Pearson",
        "worse_arm": worse[2],
        "worse_low": low,
        "better_arm": better[2],
        "better_high": high,
        "confirmed": bool(confirmed),
    }


def _psi(reference: Any, current: Any) -> Any:
    """PSI of count tables (one per row), smoothed as ``stats.drift.compare_counts`` smooths them."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    bins = ref.shape[-1]
    p = (ref + SMOOTHING) / (ref.sum(axis=-1, keepdims=True) + SMOOTHING * bins)
    q = (cur + SMOOTHING) / (cur.sum(axis=-1, keepdims=True) + SMOOTHING * bins)
    return np.sum((q - p) * np.log(q / p), axis=-1)


def _drift_check(
    config: LiveConfig,
    cfg: CanaryConfig,
    look: Look,
    check_id: str,
    allowance: Allowance,
    control: ArmTotals,
    canary: ArmTotals,
) -> CheckResult:
    """PSI of the canary's scores on the control's deciles (snapped to the streaming grid), on its interval.

    Both arms' decile counts are resampled (multinomially); the interval is the
    basic bootstrap one, 2·PSI − the replicates' quantiles, because PSI is biased
    upward by sampling noise and its replicates are biased once more. It is then
    judged by ``judge_interval`` against ``max``, like every other limit:
    fail only when the whole interval is above it (material *and* beyond
    noise), pass when the whole interval is at or below it.
    """
    n0, n1 = int(control.scores.sum()), int(canary.scores.sum())
    if min(n0, n1) < MIN_ROWS:
        raise Unmeasurable(f"{n1} canary and {n0} control scores; at least {MIN_ROWS} per arm are needed")
    cumulative = np.cumsum(control.scores)
    cuts = np.unique(np.searchsorted(cumulative, np.arange(1, 10) / 10.0 * n0, side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < control.scores.size)]
    ref = np.add.reduceat(control.scores, np.concatenate([[0], cuts]))
    cur = np.add.reduceat(canary.scores, np.concatenate([[0], cuts]))
    stats = compare_counts(ref, cur)
    limit = allowance.max if allowance.max is not None else 0.25
    rng = stream(config.seed, check_id)
    replicates = _psi(
        rng.multinomial(n0, ref / n0, size=config.n_boot), rng.multinomial(n1, cur / n1, size=config.n_boot)
    )
    sizes = (n1, n0)
    level = look.confidence(sizes, cfg.min_requests)
    if look.sequential:
        centre = 2.0 * stats.psi - float(np.mean(replicates))
        half = look.z(sizes, cfg.min_requests) * float(np.std(replicates, ddof=1))
        ci = Interval(max(centre - half, 0.0), max(centre + half, 0.0))
    else:
        low_q, high_q = percentile_interval(replicates, level)
        ci = Interval(max(2.0 * stats.psi - high_q, 0.0), max(2.0 * stats.psi - low_q, 0.0))
    status: Status = judge_interval(ci, None, limit)
    if status == "fail":
        message = f"the canary's scores drifted: the whole interval of PSI, {ci}, is above {limit:g}"
    elif status == "pass":
        message = (
            f"scores alike: the whole interval of PSI, {ci}, is at or below {limit:g} (PSI {stats.psi:.4f})"
        )
    else:
        message = (
            f"not shown either way: the interval of PSI, {ci}, straddles {limit:g} (PSI {stats.psi:.4f})"
        )
    if allowance.critical:
        message = f"[critical] {message}"
    return CheckResult(
        id=check_id,
        kind="drift",
        status=status,
        metric="psi",
        message=message,
        value=stats.psi,
        ci=ci,
        n=n0 + n1,
        threshold={"psi_fail": limit},
        method="basic bootstrap of PSI (both arms resampled)",
        pvalue=stats.pvalue,
        n_boot=config.n_boot,
        details={
            "critical": allowance.critical,
            "weight": allowance.weight,
            "js": stats.js,
            "noise_floor": stats.noise_floor,
            "bins": stats.bins,
            "sequential": look.describe(level),
            "histogram": {
                "labels": [f"decile {i + 1}" for i in range(ref.size)],
                "reference": [round(float(x), 6) for x in ref / ref.sum()],
                "current": [round(float(x), 6) for x in cur / cur.sum()],
            },
        },
    )


def _report(
    config: LiveConfig,
    cfg: CanaryConfig,
    windows: list[Window],
    used: list[Window],
    results: list[WindowResult],
    reader: LogReader,
    after_steps: int,
) -> GateReport:
    rolled = next((r for r in results if r.verdict == "rollback"), None)
    latest = results[-1]
    final_step = used[-1] is windows[-1]
    if rolled is not None:
        verdict, why = "rollback", (f"step {rolled.name}: " if len(windows) > 1 else "") + rolled.reason
    elif latest.verdict == "promote" and not final_step:
        following = windows[windows.index(used[-1]) + 1].name
        verdict, why = "promote", f"step {latest.name} passed ({latest.reason}); advance to {following}"
    else:
        verdict = latest.verdict
        why = (f"step {latest.name}: " if len(windows) > 1 else "") + latest.reason
    summary = f"{verdict.upper()}: {why}"
    if after_steps:
        summary += (
            f"; {after_steps:,} requests after the last step's end ({windows[-1].end.isoformat()}) "
            "were not judged: add a step for them"
        )
    checks = [c for r in results for c in r.checks]
    details = {
        "score": latest.score,
        "pass_score": cfg.pass_score,
        "marginal_score": cfg.marginal_score,
        "steps": [
            {
                "name": r.name,
                "start": window_text(w.start, w.end)["start"],
                "end": window_text(w.start, w.end)["end"],
                "verdict": r.verdict,
                "score": r.score,
                "reason": r.reason,
                "requests": r.requests,
            }
            for w, r in zip(used, results, strict=True)
        ],
        "steps_without_data": [w.name for w in windows if w not in used],
        "requests_after_last_step": after_steps,
    }
    first = used[0].start if used[0].start is not None else reader.first
    last = used[-1].end if used[-1].end is not None else reader.last
    return build_report(
        analysis="canary",
        verdict=verdict,
        summary=summary,
        mode="non-inferiority",
        config=config,
        checks=checks,
        candidate=cfg.canary,
        baseline=cfg.control,
        rows=reader.rows_read,
        window=window_text(first, last),
        details=details,
    )
