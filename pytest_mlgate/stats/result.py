"""Result objects of the statistical engine.

They are plain frozen dataclasses so that they can be compared, hashed and
serialised, and their ``__str__`` reads like a scipy result: a title line, then
one aligned ``name: value`` line per field that matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray


class Unmeasurable(ValueError):
    """The data cannot support an interval for this metric (too few rows, positives, …)."""


class Interval(NamedTuple):
    """A two-sided confidence interval."""

    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def __str__(self) -> str:
        return f"[{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of a candidate against a baseline on the same rows.

    ``delta`` is ``candidate - baseline`` in the metric's own direction; use
    ``oriented_delta``/``oriented_ci`` (higher is better) to reason about gains.
    """

    metric: str
    candidate: float
    baseline: float
    delta: float
    ci: Interval
    n: int
    method: str
    higher_is_better: bool
    confidence: float
    pvalue: float | None = None
    """Two-sided p-value of ``delta == 0`` when the method has one (McNemar, DeLong, t)."""
    n_boot: int | None = None
    """Bootstrap replicates behind ``ci``; ``None`` for analytic intervals."""
    se: float | None = None
    """Standard error of ``delta`` for analytic (normal or t) intervals."""
    df: float | None = None
    """Degrees of freedom of a t-interval; ``None`` means a normal interval."""
    discordant: int | None = None
    """Rows on which the two models' labels differ (label metrics only)."""
    replicates: NDArray[np.float64] | None = field(default=None, compare=False, repr=False)
    """Bootstrap replicates of ``delta`` (metric direction), for p-values and top-ups."""
    paired: bool = True
    """False for two independent samples (canary and A/B arms): ``n`` is then both arms together."""

    def pvalue_worse_than(self, margin: float) -> float:
        """One-sided p-value of H0 "oriented delta >= -margin" (small: confidently worse).

        It is the test dual to the interval: ``oriented_ci.high < -margin`` exactly when
        this p-value is below ``(1 - confidence) / 2``.
        """
        bound = -margin
        if self.replicates is not None:
            oriented = self.replicates if self.higher_is_better else -self.replicates
            return float(np.mean(oriented >= bound))
        if self.se is None or self.se == 0.0:
            return 0.0 if self.oriented_delta < bound else 1.0
        # Imported here: reading a report (the actions' summary and comment steps) needs Interval from
        # this module, and scipy.stats alone costs those short processes over a second.
        from scipy import stats as _sps

        z = (self.oriented_delta - bound) / self.se
        if self.df is None:
            return float(_sps.norm.cdf(z))
        return float(_sps.t.cdf(z, self.df))

    @property
    def is_finite(self) -> bool:
        """False when the estimate or its interval is NaN or inf: the metric is undefined here."""
        return all(math.isfinite(x) for x in (self.candidate, self.baseline, self.delta, *self.ci))

    @property
    def oriented_delta(self) -> float:
        return self.delta if self.higher_is_better else -self.delta

    @property
    def oriented_ci(self) -> Interval:
        if self.higher_is_better:
            return self.ci
        return Interval(-self.ci.high, -self.ci.low)

    def __str__(self) -> str:
        level = f"{self.confidence:.0%}"
        lines = [
            f"{'Paired' if self.paired else 'Two-sample'} comparison of {self.metric} ({self.method})",
            f"  candidate: {_fmt(self.candidate)}",
            f"  baseline:  {_fmt(self.baseline)}",
            f"  delta:     {_fmt(self.delta)}  {level} CI {self.ci}",
            f"  n:         {self.n}",
        ]
        if self.pvalue is not None:
            lines.append(f"  p-value:   {self.pvalue:.4g}")
        if self.n_boot is not None:
            lines.append(f"  resamples: {self.n_boot}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Estimate:
    """A single model's metric with its confidence interval (used for floors)."""

    metric: str
    value: float
    ci: Interval
    n: int
    method: str
    confidence: float

    @property
    def is_finite(self) -> bool:
        return all(math.isfinite(x) for x in (self.value, *self.ci))

    def __str__(self) -> str:
        return (
            f"Estimate of {self.metric} ({self.method})\n"
            f"  value: {_fmt(self.value)}  {self.confidence:.0%} CI {self.ci}\n"
            f"  n:     {self.n}"
        )


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.3e}"
    return f"{x:.4f}"
