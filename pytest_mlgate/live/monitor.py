"""Live monitoring: the last N days of logs, judged on intervals against limits.

Labels arrive late, so quality is measured on the rows whose label has
joined, and says how many those are; too few is ``inconclusive``, never a
pass. Drift reuses the gate's drift check against a stored reference profile.
Operational health (error rate, latency quantiles, throughput) and business
KPIs are judged against absolute limits, each on its interval.

The verdict is ``retrain`` when every failing check is of a kind named in
``retrain_on`` (drift, quality, kpis), ``alert`` when anything else fails (an
outage is not fixed by retraining) or, by default, could not be told, and
``ok`` otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as sps

from ..config import DriftConfig
from ..errors import DataError
from ..results import CheckResult, GateReport
from ..stats.decision import MIN_ROWS, judge_interval
from ..stats.result import Interval
from ..stats.rng import stream
from ..stats.twosample import Sample, shared_edges, statistic_estimate, wilson
from .common import build_report, window_text
from .config import Limit, LiveConfig, MonitorConfig
from .logs import LogReader, labels_equal, parse_instant


def analyse(config: LiveConfig, *, days: float | None = None, now: str | None = None) -> GateReport:
    import pandas as pd

    cfg: MonitorConfig = config.section("monitor")
    end = parse_instant(now, "--now") if now else pd.Timestamp.now(tz="UTC")
    length = cfg.days if days is None else days
    if not length > 0:
        from ..errors import ConfigError

        raise ConfigError(f"`--days`={length!r} must be > 0")
    start = end - pd.Timedelta(days=length)
    profile = None
    if cfg.reference is not None:
        from ..checks.drift import reference_profile

        profile = reference_profile(cfg.reference)
    features = list(cfg.columns) if cfg.columns else (list(profile.columns) if profile else [])
    reader = LogReader(
        config.logs,
        needed=("timestamp", "arm", "request_id"),
        optional=("prediction", "score", "label", "latency_ms", "error"),
        unique_per="arm",
        extra=tuple(dict.fromkeys([*features, *(kpi.column for kpi in cfg.kpis)])),
    )
    parts = []
    for frame in reader.chunks():
        inside = (frame["timestamp"] >= start) & (frame["timestamp"] < end)
        if cfg.arm is not None:
            inside &= frame["arm"] == cfg.arm
        if inside.any():
            parts.append(frame[inside])
    if not parts:
        arm = f" for arm {cfg.arm!r}" if cfg.arm is not None else ""
        raise DataError(
            f"log `{config.logs.path}` has no rows{arm} in the window {start.isoformat()} … {end.isoformat()} "
            f"(the log spans {reader.first.isoformat()} … {reader.last.isoformat()}); pass --now or --days"
        )
    window = pd.concat(parts, ignore_index=True)
    covered_hours = (end - max(start, window["timestamp"].min())).total_seconds() / 3600.0

    checks: list[CheckResult] = []
    if cfg.quality_metric is not None:
        checks.append(_quality(config, cfg, window))
    if profile is not None:
        checks += _drift(config, cfg, window, features, reader)
    checks += _operational(config, cfg, window, covered_hours)
    checks += [_kpi(config, kpi.name, kpi.column, kpi.type, kpi.limit, window) for kpi in cfg.kpis]
    if not checks:
        from ..errors import ConfigError

        raise ConfigError(
            f"{config.source}: `monitor` judges nothing; give quality, reference, error_rate, latency, throughput or kpis"
        )
    verdict, why = _verdict(cfg, checks)
    return build_report(
        analysis="monitor",
        verdict=verdict,
        summary=f"{verdict.upper()}: {why}",
        mode="non-inferiority",
        config=config,
        checks=checks,
        candidate=cfg.arm or "all",
        baseline=None,
        rows=reader.rows_read,
        window=window_text(start, end),
        details={"rows_in_window": len(window), "days": length, "covered_hours": covered_hours},
        reference=cfg.reference,
    )


def _limit_check(
    check_id: str,
    kind: Any,
    metric: str,
    value: float,
    ci: Interval,
    n: int,
    limit: Limit,
    method: str,
    *,
    unit: str = "",
    details: dict[str, Any] | None = None,
) -> CheckResult:
    status = judge_interval(ci, limit.min, limit.max)
    bound = " and ".join(
        f"{op} {v:.4g}{unit}" for op, v in ((">=", limit.min), ("<=", limit.max)) if v is not None
    )
    message = {
        "pass": f"{metric} {bound}: the whole interval {ci} is within the limit",
        "fail": f"{metric} {bound} fails: the whole interval {ci} is outside the limit",
        "inconclusive": f"{metric} {bound} not shown: the interval {ci} straddles the limit",
    }[status]
    return CheckResult(
        id=check_id,
        kind=kind,
        status=status,
        metric=metric,
        message=message,
        value=value,
        ci=ci,
        n=n,
        threshold={"min": limit.min, "max": limit.max},
        method=method,
        details=details or {},
    )


def _unmeasured(
    check_id: str,
    kind: Any,
    metric: str,
    message: str,
    n: int,
    limit: Limit,
    details: dict[str, Any] | None = None,
) -> CheckResult:
    """Too little data to judge: inconclusive, never a pass."""
    return CheckResult(
        id=check_id,
        kind=kind,
        status="inconclusive",
        metric=metric,
        message=message,
        n=n,
        threshold={"min": limit.min, "max": limit.max},
        details=details or {},
    )


def _quality(config: LiveConfig, cfg: MonitorConfig, window: Any) -> CheckResult:
    import pandas as pd

    metric = cfg.quality_metric or "accuracy"
    check_id = f"monitor:quality:{metric}"
    for column in ("prediction", "label"):
        if column not in window:
            raise DataError(
                f"log `{config.logs.path}` has no column `{config.logs.column(column)}` (`logs.columns.{column}`), "
                f"which monitor quality ({metric}) needs"
            )
    known = window["label"].notna() & window["prediction"].notna()
    n, total = int(known.sum()), len(window)
    coverage = {"labelled": n, "rows": total, "coverage": n / total}
    if n < max(cfg.min_labels, 2):
        return _unmeasured(
            check_id,
            "threshold",
            metric,
            f"waiting for labels: {n:,} of {total:,} rows ({n / total:.1%}) have one; {cfg.min_labels:,} are needed",
            n,
            cfg.quality,
            coverage,
        )
    labels, predictions = window["label"][known], window["prediction"][known]
    if metric == "accuracy":
        correct = int(labels_equal(labels, predictions).sum())
        ci = wilson(correct, n, config.confidence)
        return _limit_check(
            check_id, "threshold", metric, correct / n, ci, n, cfg.quality, "Wilson", details=coverage
        )
    gaps = np.abs(
        pd.to_numeric(predictions, errors="coerce") - pd.to_numeric(labels, errors="coerce")
    ).to_numpy(np.float64)
    if not np.isfinite(gaps).all():
        raise DataError(f"log `{config.logs.path}`: mae needs numeric labels and predictions")
    mean, se = float(gaps.mean()), float(gaps.std(ddof=1) / math.sqrt(n))
    t = float(sps.t.ppf(0.5 + config.confidence / 2.0, n - 1))
    return _limit_check(
        check_id,
        "threshold",
        metric,
        mean,
        Interval(mean - t * se, mean + t * se),
        n,
        cfg.quality,
        "t",
        details=coverage,
    )


def _drift(
    config: LiveConfig, cfg: MonitorConfig, window: Any, features: list[str], reader: LogReader
) -> list[CheckResult]:
    from ..checks.drift import run_drift

    assert cfg.reference is not None
    missing = [c for c in features if c not in window.columns]
    if cfg.columns is None:
        features = [c for c in features if c in window.columns]
        if not features:
            raise DataError(
                f"log `{config.logs.path}` has none of the reference profile's columns; "
                "log the model's inputs or list `monitor.columns`"
            )
    elif missing:
        raise DataError(
            f"log `{config.logs.path}` has no column `{missing[0]}` (listed in `monitor.columns`)"
        )
    drift = DriftConfig(
        reference=cfg.reference,
        columns=tuple(features),
        psi_warn=cfg.psi_warn,
        psi_fail=cfg.psi_fail,
        max_share=cfg.max_share,
    )
    return run_drift(
        drift,
        window[features],
        target=config.logs.column("label"),
        share_counts_warnings=cfg.share_counts == "warn",
    )


def _operational(config: LiveConfig, cfg: MonitorConfig, window: Any, hours: float) -> list[CheckResult]:
    out = []
    n = len(window)
    for name, limit in cfg.operational.items():
        check_id = f"monitor:{name}"
        if name == "error_rate":
            if "error" not in window:
                raise DataError(
                    f"log `{config.logs.path}` has no column `{config.logs.column('error')}`, which monitor error_rate needs"
                )
            errors = int(window["error"].sum())
            out.append(
                _limit_check(
                    check_id,
                    "operational",
                    name,
                    errors / n,
                    wilson(errors, n, config.confidence),
                    n,
                    limit,
                    "Wilson",
                )
            )
        elif name == "throughput":
            alpha = 1.0 - config.confidence
            low = 0.0 if n == 0 else float(sps.chi2.ppf(alpha / 2, 2 * n) / 2)
            high = float(sps.chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2)
            span = max(hours, 1e-9)
            out.append(
                _limit_check(
                    check_id,
                    "operational",
                    name,
                    n / span,
                    Interval(low / span, high / span),
                    n,
                    limit,
                    "Poisson (Garwood)",
                    unit="/h",
                    details={"hours": hours},
                )
            )
        else:
            if "latency_ms" not in window:
                raise DataError(
                    f"log `{config.logs.path}` has no column `{config.logs.column('latency_ms')}`, which monitor {name} needs"
                )
            q = int(name.removeprefix("latency_p")) / 100.0
            values = window["latency_ms"].to_numpy(np.float64)
            present = values[np.isfinite(values)]
            if present.size < MIN_ROWS:
                message = (
                    f"only {present.size} latencies logged in the window; at least {MIN_ROWS} are needed"
                )
                out.append(_unmeasured(check_id, "operational", name, message, int(present.size), limit))
                continue
            value, ci, _ = statistic_estimate(
                Sample.of(present, shared_edges(present)),
                statistic=q,
                rng=stream(config.seed, check_id),
                confidence=config.confidence,
                n_boot=config.n_boot,
            )
            out.append(
                _limit_check(
                    check_id,
                    "operational",
                    name,
                    value,
                    ci,
                    int(present.size),
                    limit,
                    f"binomial order statistics (q{q:g})",
                    unit=" ms",
                )
            )
    return out


def _kpi(config: LiveConfig, name: str, column: str, kind: str, limit: Limit, window: Any) -> CheckResult:
    import pandas as pd

    check_id = f"kpi:{name}"
    if column not in window:
        raise DataError(f"log `{config.logs.path}` has no column `{column}` (KPI `{name}`)")
    values = pd.to_numeric(window[column], errors="coerce")
    bad = values.isna() & window[column].notna()
    if bad.any():
        raise DataError(
            f"log `{config.logs.path}`, column `{column}`: {window[column][bad].iloc[0]!r} is not a number (KPI `{name}`)"
        )
    present = values.dropna().to_numpy(np.float64)
    if present.size < MIN_ROWS:
        message = f"only {present.size} values; at least {MIN_ROWS} are needed"
        return _unmeasured(check_id, "threshold", name, message, int(present.size), limit)
    if kind == "proportion":
        if not np.isin(present, (0.0, 1.0)).all():
            raise DataError(
                f"KPI `{name}` is a proportion, but column `{column}` holds values other than 0/1"
            )
        hits = int(present.sum())
        return _limit_check(
            check_id,
            "threshold",
            name,
            hits / present.size,
            wilson(hits, present.size, config.confidence),
            present.size,
            limit,
            "Wilson",
            details={"kpi": True},
        )
    value, ci, _ = statistic_estimate(
        Sample.of(present, shared_edges(present)),
        statistic=None,
        rng=stream(config.seed, check_id),
        confidence=config.confidence,
        n_boot=config.n_boot,
    )
    return _limit_check(
        check_id, "threshold", name, value, ci, present.size, limit, "bootstrap", details={"kpi": True}
    )


def _category(check: CheckResult) -> str:
    if check.id.startswith("kpi:"):
        return "kpis"
    if check.kind == "drift":
        return "drift"
    if check.id.startswith("monitor:quality"):
        return "quality"
    return "operational"


def _verdict(cfg: MonitorConfig, checks: list[CheckResult]) -> tuple[str, str]:
    """Retrain only when every failure is of a kind retraining can fix; an outage alerts first."""
    failed = [c for c in checks if c.status in ("fail", "error")]
    retrain = [c for c in failed if _category(c) in cfg.retrain_on and c.status == "fail"]
    listed = "; ".join(f"{c.id}: {c.message}" for c in failed)[:800]
    if failed and len(retrain) == len(failed):
        return "retrain", listed
    if failed:
        also = (
            f" (retraining would not fix {', '.join(c.id for c in failed if c not in retrain)})"
            if retrain
            else ""
        )
        return "alert", listed + also
    unsure = [c for c in checks if c.status == "inconclusive"]
    if unsure and cfg.inconclusive == "alert":
        return "alert", "could not tell: " + "; ".join(f"{c.id}: {c.message}" for c in unsure)[:600]
    warned = [c.id for c in checks if c.status == "warn"]
    return "ok", f"all {len(checks)} checks within limits" + (
        f" (warnings: {', '.join(warned)})" if warned else ""
    )
