"""A/B test: units (users) split between a control and a treatment arm.

Outcomes are first reduced per unit (a user converted or not, a user's
revenue), because the unit is what was randomised; a quantile outcome (time to
resolution) is compared over rows. Then:

* the sample ratio is tested first: a mismatch (χ² p < ``srm_alpha``) means the
  split is broken and every other figure is biased, so the test is ``invalid``;
* each outcome's Δ = treatment − control gets an interval: Newcombe for a
  proportion, the bootstrap for a mean (heavy tails) or a quantile;
* before ``planned_units`` per arm the figures are a *peek*: the verdict stays
  ``continue`` and the report warns, since fixed-sample intervals read
  repeatedly would stop on noise far more often than 5%;
* at the planned size: ``promote`` when every primary outcome's lower bound
  clears its pre-registered ``min_effect``; ``rollback`` when any outcome is
  confidently worse than its ``margin``; otherwise ``keep`` (no effect shown).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ..results import CheckResult, GateReport, Status
from ..stats.decision import MIN_ROWS, bound_text
from ..stats.result import Comparison, Unmeasurable
from ..stats.rng import stream
from ..stats.twosample import (
    Sample,
    UnitTotals,
    proportion_difference,
    ratio_difference,
    sample_ratio,
    shared_edges,
    statistic_difference,
)
from .common import build_report, window_text
from .config import AbtestConfig, LiveConfig, OutcomeMetric
from .logs import LogReader


def analyse(config: LiveConfig) -> GateReport:
    cfg: AbtestConfig = config.section("abtest")
    outcome_columns = list(
        dict.fromkeys(c for m in cfg.metrics for c in (m.column, m.denominator, m.covariate) if c is not None)
    )
    reader = LogReader(
        config.logs,
        needed=("timestamp", "arm", "request_id"),
        optional=("unit",),
        arms=(cfg.control, cfg.treatment),
        unique_per="log",
        extra=tuple(outcome_columns),
    )
    log = reader.read()
    missing = [c for c in outcome_columns if c not in log.columns]
    if missing:
        raise DataError(
            f"log `{config.logs.path}` has no outcome column `{missing[0]}` (named in `abtest.metrics`)"
        )
    unit = log["unit"].astype(str) if "unit" in log else log["request_id"].astype(str)
    unit_name = config.logs.column("unit") if "unit" in log else config.logs.column("request_id")
    arms_of_unit = log.groupby(unit, sort=False)["arm"].nunique()
    crossed = arms_of_unit[arms_of_unit > 1]
    if len(crossed):
        raise DataError(
            f"log `{config.logs.path}`: {len(crossed):,} unit(s) in `{unit_name}` appear in both arms, e.g. "
            f"{', '.join(map(str, crossed.index[:5]))}; a unit must stay in its arm (check the assignment)"
        )
    units = {arm: int(unit[log["arm"] == arm].nunique()) for arm in (cfg.control, cfg.treatment)}
    checks = [_srm_check(cfg, units)]
    invalid = checks[0].status == "fail"
    # An always-valid sequence may be read at any look: only fixed intervals make an early look a peek.
    peeking = min(units.values()) < cfg.planned_units and cfg.sequential != "mixture"
    checks.append(_peek_check(cfg, units))
    for metric in cfg.metrics:
        checks.append(_outcome_check(config, cfg, metric, log, unit))
    verdict, why = _verdict(cfg, checks, invalid, peeking)
    return build_report(
        analysis="abtest",
        verdict=verdict,
        summary=f"{verdict.upper()}: {why}",
        mode="superiority",
        config=config,
        checks=checks,
        candidate=cfg.treatment,
        baseline=cfg.control,
        rows=reader.rows_read,
        window=window_text(log["timestamp"].min(), log["timestamp"].max()),
        details={
            "units": units,
            "unit_column": unit_name,
            "planned_units": cfg.planned_units,
            "peeking": peeking,
        },
    )


def _srm_check(cfg: AbtestConfig, units: dict[str, int]) -> CheckResult:
    arms = (cfg.control, cfg.treatment)
    result = sample_ratio([units[a] for a in arms], [cfg.split[a] for a in arms])
    mismatch = result.pvalue < cfg.srm_alpha
    observed = ", ".join(
        f"{a}: {units[a]:,} ({s:.2%})" for a, s in zip(arms, result.observed_shares, strict=True)
    )
    planned = ", ".join(f"{s:.2%}" for s in result.expected_shares)
    message = f"units {observed}; planned {planned}; χ² p {result.pvalue:.3g}"
    if mismatch:
        message = (
            f"SAMPLE RATIO MISMATCH: {message} < {cfg.srm_alpha:g}. The split is broken (assignment, logging or "
            "bot filtering), so every effect below is biased; find the cause before reading them"
        )
    return CheckResult(
        id="abtest:sample_ratio",
        kind="validation",
        status="fail" if mismatch else "pass",
        metric="sample_ratio",
        message=message,
        value=result.observed_shares[1],
        n=sum(result.counts),
        threshold={"alpha": cfg.srm_alpha},
        method="χ² goodness of fit",
        pvalue=result.pvalue,
        details={
            "counts": dict(zip(arms, result.counts, strict=True)),
            "expected_shares": list(result.expected_shares),
        },
    )


def _always_valid(c: Comparison, cfg: AbtestConfig) -> Comparison:
    """The fixed interval of ``c`` widened to the normal-mixture confidence sequence (``sequential: mixture``).

    The standard error is read off the fixed interval (its wider side, so an
    asymmetric Newcombe interval is not narrowed); the mixture is tuned at
    ``planned_units`` per arm, from counts only.
    """
    from dataclasses import replace

    from scipy import special

    from ..stats.result import Interval
    from ..stats.sequential import mixture_confidence, mixture_z

    alpha = 1.0 - c.confidence
    z_fixed = float(special.ndtri(1.0 - alpha / 2.0))
    se = max(c.ci.high - c.delta, c.delta - c.ci.low) / z_fixed
    ratio = max(c.n / 2.0 / cfg.planned_units, 1e-9)  # ≈ per-arm size / planned, both arms alike
    half = float(mixture_z(ratio, alpha)) * se
    return replace(
        c,
        ci=Interval(c.delta - half, c.delta + half),
        confidence=mixture_confidence(ratio, alpha),
        method=f"{c.method}; normal-mixture sequence",
    )


def _peek_check(cfg: AbtestConfig, units: dict[str, int]) -> CheckResult:
    smaller = min(units.values())
    early = smaller < cfg.planned_units
    if cfg.sequential == "mixture":
        return CheckResult(
            id="abtest:planned_sample",
            kind="validation",
            status="pass",
            metric="units",
            message=f"sequential (normal mixture): {smaller:,} of {cfg.planned_units:,} planned units in the "
            "smaller arm; the intervals hold at every look, so this look may decide",
            value=float(smaller),
            n=sum(units.values()),
            threshold={"min": float(cfg.planned_units)},
        )
    message = (
        f"PEEKING: {smaller:,} units in the smaller arm of {cfg.planned_units:,} planned; these intervals hold "
        "only at the planned size, so the verdict stays continue"
        if early
        else f"planned sample reached: {smaller:,} ≥ {cfg.planned_units:,} units per arm"
    )
    return CheckResult(
        id="abtest:planned_sample",
        kind="validation",
        status="warn" if early else "pass",
        metric="units",
        message=message,
        value=float(smaller),
        n=sum(units.values()),
        threshold={"min": float(cfg.planned_units)},
    )


def _per_unit(metric: OutcomeMetric, values: Any, unit: Any) -> Any:
    if metric.aggregate == "none":
        return values
    grouped = values.groupby(unit, sort=False)
    return {"sum": grouped.sum, "mean": grouped.mean, "max": grouped.max}[metric.aggregate]()


def _outcome_check(
    config: LiveConfig, cfg: AbtestConfig, metric: OutcomeMetric, log: Any, unit: Any
) -> CheckResult:
    import pandas as pd

    check_id = f"abtest:{metric.name}"
    raw = log[metric.column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"log `{config.logs.path}`, row {i + 1:,}, column `{metric.column}`: {raw.iloc[i]!r} is not a number"
        )
    arms = {}
    repeats = False
    for arm in (cfg.control, cfg.treatment):
        chosen = (log["arm"] == arm).to_numpy() & values.notna().to_numpy()
        per_unit = _per_unit(metric, values[chosen], unit[chosen])
        arms[arm] = per_unit.to_numpy(dtype=np.float64)
        repeats = repeats or bool(unit[chosen].duplicated().any())
    treated, control = arms[cfg.treatment], arms[cfg.control]
    # Requests of one unit are correlated: an interval over requests would be too narrow.
    clustered = metric.aggregate == "none" and metric.type != "quantile" and repeats
    by_unit = metric.denominator is not None or metric.covariate is not None or clustered
    try:
        if by_unit:
            if metric.type == "proportion":
                _require_binary(metric, treated, control)
            totals = {
                arm: _unit_totals(config, metric, log, values, unit, arm)
                for arm in (cfg.control, cfg.treatment)
            }
            units_t, units_c = totals[cfg.treatment].units, totals[cfg.control].units
            if min(units_t, units_c) < MIN_ROWS:
                raise Unmeasurable(
                    f"{units_t} treatment and {units_c} control units; {MIN_ROWS} per arm are needed"
                )
            c: Comparison = ratio_difference(
                metric.name,
                totals[cfg.treatment],
                totals[cfg.control],
                higher_is_better=metric.higher_is_better,
                confidence=config.confidence,
                covariate=metric.covariate,
            )
        elif min(treated.size, control.size) < MIN_ROWS:
            raise Unmeasurable(
                f"{treated.size} treatment and {control.size} control values; {MIN_ROWS} per arm are needed"
            )
        elif metric.type == "proportion":
            _require_binary(metric, treated, control)
            c = proportion_difference(
                metric.name,
                (int(treated.sum()), treated.size),
                (int(control.sum()), control.size),
                higher_is_better=metric.higher_is_better,
                confidence=config.confidence,
            )
        else:
            sign = 1.0 if metric.higher_is_better else -1.0
            edges = shared_edges(treated, control)
            c = statistic_difference(
                metric.name,
                Sample.of(treated, edges),
                Sample.of(control, edges),
                statistic=None if metric.type == "mean" else metric.q,
                higher_is_better=metric.higher_is_better,
                rng=stream(config.seed, check_id),
                confidence=config.confidence,
                n_boot=config.n_boot,
                boundaries=[sign * metric.min_effect, -sign * metric.margin],
            )
    except Unmeasurable as exc:
        return CheckResult(
            id=check_id,
            kind="comparison",
            status="inconclusive",
            metric=metric.name,
            message=f"not measurable yet: {exc}",
            threshold={"margin": metric.margin, "gain": metric.min_effect},
            details={"role": metric.role},
        )
    if cfg.sequential == "mixture":
        c = _always_valid(c, cfg)
    low, high = c.oriented_ci
    status: Status
    if high < -metric.margin:
        status, message = (
            "fail",
            "confidently worse: " + bound_text(c, "high", "<", -metric.margin, "-margin"),
        )
    elif low > metric.min_effect:
        status, message = (
            "pass",
            "shown better: " + bound_text(c, "low", ">", metric.min_effect, "minimum effect"),
        )
    else:
        status = "inconclusive" if metric.role == "primary" else "pass"
        message = (
            f"no effect of {metric.min_effect:.4g} shown: interval of Δ {c.ci}"
            if metric.role == "primary"
            else f"guardrail holds: not confidently worse than -margin {-metric.margin:.4g} (interval of Δ {c.ci})"
        )
    return CheckResult(
        id=check_id,
        kind="comparison",
        status=status,
        metric=metric.name,
        message=f"[{metric.role}] {message}",
        value=c.candidate,
        baseline=c.baseline,
        delta=c.delta,
        ci=c.ci,
        n=c.n,
        threshold={"margin": metric.margin, "gain": metric.min_effect},
        verdict={"pass": "promote", "fail": "reject", "inconclusive": "keep"}.get(status),  # type: ignore[arg-type]
        method=c.method,
        pvalue=c.pvalue,
        n_boot=c.n_boot,
        higher_is_better=c.higher_is_better,
        details={
            "role": metric.role,
            "type": metric.type,
            "aggregate": metric.aggregate,
            "column": metric.column,
            **({"denominator": metric.denominator} if metric.denominator else {}),
            **({"covariate": metric.covariate} if metric.covariate else {}),
            "clustered_by_unit": by_unit,
        },
    )


def _require_binary(metric: OutcomeMetric, treated: Any, control: Any) -> None:
    for name, arr in (("treatment", treated), ("control", control)):
        if not np.isin(arr, (0.0, 1.0)).all():
            raise DataError(
                f"outcome `{metric.name}` is a proportion, but column `{metric.column}` holds values other than 0/1 in the {name} arm"
            )


def _numeric(config: LiveConfig, log: Any, column: str, metric: OutcomeMetric) -> Any:
    import pandas as pd

    if column not in log.columns:
        raise DataError(
            f"log `{config.logs.path}` has no column `{column}` (named in `abtest.metrics.{metric.name}`)"
        )
    raw = log[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"log `{config.logs.path}`, row {i + 1:,}, column `{column}`: {raw.iloc[i]!r} is not a number"
        )
    return values


def _unit_totals(
    config: LiveConfig, metric: OutcomeMetric, log: Any, values: Any, unit: Any, arm: str
) -> UnitTotals:
    """Per-unit sums of the outcome and its denominator (the unit's requests, unless a column is named)."""
    chosen = (log["arm"] == arm).to_numpy() & values.notna().to_numpy()
    if metric.denominator is not None:
        denominator = _numeric(config, log, metric.denominator, metric)
        missing = chosen & denominator.isna().to_numpy()
        if missing.any():
            i = int(np.argmax(missing))
            raise DataError(
                f"log `{config.logs.path}`, row {i + 1:,}: `{metric.column}` has a value but the denominator "
                f"`{metric.denominator}` is empty"
            )
        per_row = denominator[chosen]
    else:
        per_row = values[chosen] * 0.0 + 1.0
    by_unit = unit[chosen]
    if metric.aggregate in ("none", "sum") or metric.denominator is not None:
        numerator = values[chosen].groupby(by_unit, sort=False).sum()
        counts = per_row.groupby(by_unit, sort=False).sum()
        if metric.aggregate == "sum" and metric.denominator is None:
            counts = counts * 0.0 + 1.0  # a per-unit total: each unit counts once
    else:
        numerator = _per_unit(metric, values[chosen], by_unit)
        counts = numerator * 0.0 + 1.0
    covariate = None
    if metric.covariate is not None:
        pre = _numeric(config, log, metric.covariate, metric)[chosen].groupby(by_unit, sort=False).mean()
        pre = pre.reindex(numerator.index)
        if pre.isna().any():
            raise DataError(
                f"log `{config.logs.path}`, column `{metric.covariate}` (`abtest.metrics.{metric.name}.covariate`): "
                f"{int(pre.isna().sum()):,} unit(s) of arm {arm!r} have no value, e.g. {pre.index[pre.isna()][0]!r}; "
                "fill them (0 for units new in the pre-period)"
            )
        covariate = pre.to_numpy(dtype=np.float64)
    return UnitTotals(numerator.to_numpy(dtype=np.float64), counts.to_numpy(dtype=np.float64), covariate)


def _verdict(cfg: AbtestConfig, checks: list[CheckResult], invalid: bool, peeking: bool) -> tuple[str, str]:
    if invalid:
        return "invalid", checks[0].message
    outcomes = checks[2:]
    worse = [c.metric for c in outcomes if c.status == "fail"]
    if peeking:
        note = f"; {', '.join(worse)} looks worse, but a peek cannot stop the test" if worse else ""
        return "continue", f"{checks[1].message}{note}"
    if worse:
        return "rollback", f"{', '.join(worse)} confidently worse than allowed"
    primary = [c for c, m in zip(outcomes, cfg.metrics, strict=True) if m.role == "primary"]
    if all(c.status == "pass" for c in primary):
        return (
            "promote",
            f"every primary outcome ({', '.join(c.metric for c in primary)}) beats its minimum effect",
        )
    if cfg.sequential == "mixture" and (checks[1].value or 0.0) < cfg.planned_units:
        return "continue", "no primary outcome shown better by its minimum effect yet: keep collecting"
    return "keep", "no primary outcome shown better by its minimum effect: keep the control"
