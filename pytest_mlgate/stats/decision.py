"""Turning intervals into decisions (DESIGN §3).

All quantities are *oriented*: higher is better. ``margin`` (m >= 0) is the
regression the team tolerates, ``gain`` (g >= 0) the improvement required to
promote.

* superiority (default): PROMOTE when L > g
* non-inferiority:       PROMOTE when L > -m
* both:                  REJECT when U < -m (Holm-adjusted across metrics)
* otherwise KEEP, flagged UNDERPOWERED when the half-width is >= m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from scipy import stats as sps

from .result import Comparison, Estimate, Interval

Mode = Literal["superiority", "non-inferiority"]
FloorStatus = Literal["pass", "fail", "inconclusive"]

POWER = 0.8
"""Power used for the minimum detectable effect that reports quote."""
MIN_ROWS = 30
"""Below this many rows no interval is trusted: the metric keeps, whatever it shows."""
MIN_DISCORDANT = 10
"""Label metrics need this many rows where the models disagree before they decide."""


class Verdict(str, Enum):
    PROMOTE = "promote"
    KEEP = "keep"
    REJECT = "reject"


@dataclass(frozen=True)
class MetricDecision:
    verdict: Verdict
    underpowered: bool
    n_needed: int | None
    """Rows needed for the half-width to fall below the margin (when underpowered)."""
    mde: float
    """Smallest true oriented delta detected with 80% power at this n."""
    reject_pvalue: float
    """One-sided p-value of "no worse than the margin", before Holm."""
    reason: str


def decide(
    comparisons: Sequence[Comparison],
    margins: Sequence[float],
    gains: Sequence[float],
    mode: Mode = "superiority",
) -> list[MetricDecision]:
    """Decide every metric, with Holm's step-down on the reject side."""
    if not (len(comparisons) == len(margins) == len(gains)):
        raise ValueError("comparisons, margins and gains must have the same length")
    pvalues = [c.pvalue_worse_than(m) for c, m in zip(comparisons, margins, strict=True)]
    alpha_one_sided = (1.0 - comparisons[0].confidence) / 2.0 if comparisons else 0.025
    rejected = holm(pvalues, alpha_one_sided)
    return [
        _decide_one(c, m, g, mode, p, r, len(comparisons))
        for c, m, g, p, r in zip(comparisons, margins, gains, pvalues, rejected, strict=True)
    ]


def _decide_one(
    c: Comparison, margin: float, gain: float, mode: Mode, pvalue: float, rejected: bool, k: int
) -> MetricDecision:
    low, high = c.oriented_ci
    half = (high - low) / 2.0
    z_alpha = float(sps.norm.ppf(0.5 + c.confidence / 2.0))
    mde = half * (1.0 + float(sps.norm.ppf(POWER)) / z_alpha)
    promote_bar = gain if mode == "superiority" else -margin
    decisive = rejected or low > promote_bar
    if decisive:
        doubt = _too_thin(c, -margin if rejected else promote_bar)
        if doubt:
            n_needed = max(MIN_ROWS, c.n * 2) if c.n < MIN_ROWS else None
            return MetricDecision(Verdict.KEEP, c.n < MIN_ROWS, n_needed, mde, pvalue, doubt)
    worse = bound_text(c, "high", "<", -margin, "-margin")
    bar = (
        bound_text(c, "low", ">", gain, "required gain")
        if mode == "superiority"
        else bound_text(c, "low", ">", -margin, "-margin")
    )
    if rejected:
        return MetricDecision(
            Verdict.REJECT, False, None, mde, pvalue, f"confidently worse than the margin: {worse}"
        )
    if low > promote_bar:
        return MetricDecision(Verdict.PROMOTE, False, None, mde, pvalue, bar)
    underpowered = margin > 0 and half >= margin
    n_needed = math.ceil(c.n * (half / margin) ** 2) + 1 if underpowered else None
    if high < -margin:
        reason = f"{worse}, but not significant after Holm across {k} metrics"
    elif underpowered:
        reason = f"UNDERPOWERED: half-width {half:.4g} >= margin {margin:.4g}; need n ≈ {n_needed:,}"
    elif mode == "superiority":
        reason = "not shown better: " + bound_text(c, "low", "<=", gain, "required gain")
    else:
        reason = "not shown non-inferior: " + bound_text(c, "low", "<=", -margin, "-margin")
    return MetricDecision(Verdict.KEEP, underpowered, n_needed, mde, pvalue, reason)


_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def bound_text(c: Comparison, side: Literal["low", "high"], op: str, bar: float, name: str) -> str:
    """``side`` bound of the oriented interval ``op`` an oriented ``bar``, said in the metric's own units.

    Reports show Δ = candidate − baseline as measured (negative is better for a loss), so a
    decision about the oriented interval is spelled on that same raw interval: for a loss,
    "oriented lower bound > gain" reads "upper bound < -gain".
    """
    if c.higher_is_better:
        value = c.ci.low if side == "low" else c.ci.high
        return f"{'lower' if side == 'low' else 'upper'} bound {value:.4g} {op} {name} {bar + 0.0:.4g}"
    value = c.ci.high if side == "low" else c.ci.low
    flipped = name[1:] if name.startswith("-") else f"-({name})" if " " in name else f"-{name}"
    return (
        f"{'upper' if side == 'low' else 'lower'} bound {value:.4g} {_FLIP[op]} {flipped} {-bar + 0.0:.4g} "
        f"({c.metric}: lower is better)"
    )


def _too_thin(c: Comparison, bar: float) -> str:
    """Why a decisive-looking interval should not be trusted, or "" when it can be.

    ``bar`` is the boundary the interval cleared (−margin to reject, the promote bar to promote).
    """
    if c.n < MIN_ROWS:
        return f"only {c.n} rows: at least {MIN_ROWS} are needed before an interval is trusted"
    if c.discordant is not None and 0 < c.discordant < MIN_DISCORDANT:
        return (
            f"the models disagree on only {c.discordant} rows; at least {MIN_DISCORDANT} are needed "
            "before a bootstrap interval on label metrics is trusted"
        )
    # McNemar tests "no difference", so it can only confirm a boundary at exactly zero.
    if c.metric == "accuracy" and bar == 0 and c.pvalue is not None and not c.pvalue < 1.0 - c.confidence:
        return f"exact McNemar test does not confirm a difference (p = {c.pvalue:.3g})"
    return ""


def holm(pvalues: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise ``alpha``."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    rejected = [False] * len(pvalues)
    for rank, i in enumerate(order):
        if not pvalues[i] <= alpha / (len(pvalues) - rank):  # NaN never rejects
            break
        rejected[i] = True
    return rejected


def judge_threshold(estimate: Estimate, minimum: float | None, maximum: float | None) -> FloorStatus:
    """Absolute limits on the interval: pass only when the whole interval is inside."""
    return judge_interval(estimate.ci, minimum, maximum)


def judge_interval(ci: Interval, minimum: float | None, maximum: float | None) -> FloorStatus:
    """Pass when the whole interval is within the limits, fail when it is wholly outside, else inconclusive."""
    low, high = ci
    if (minimum is not None and high < minimum) or (maximum is not None and low > maximum):
        return "fail"
    if (minimum is None or low >= minimum) and (maximum is None or high <= maximum):
        return "pass"
    return "inconclusive"
