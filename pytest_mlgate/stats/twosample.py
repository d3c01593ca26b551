"""Two independent samples: a control arm and a treated arm (canary, A/B, monitoring).

The gate core compares two models on the *same* rows (paired). Live traffic is
split instead: each request is served by one arm, so the arms are independent
samples and every interval here is for a difference of two independent
estimates, ``delta = treated - control``.

Everything works on small sufficient statistics (counts, value/count tables,
histograms), so logs of any length can be reduced chunk by chunk and merged
exactly before the statistics run:

* proportions (error rate, conversion): Newcombe's hybrid score interval, built
  from two Wilson intervals; it keeps its coverage at rates near 0, where the
  Wald interval fails;
* means of heavy-tailed values (revenue): the bootstrap, drawn as multinomial
  counts over the distinct values (exactly the row bootstrap, at O(B·distinct));
  above 1,024 distinct values, over quantile bins that keep their within-bin
  variance and give repeated values bins of their own;
* quantiles (latency p95, time to resolution): draws from the binomial
  order-statistic confidence distribution of each arm's quantile (see
  :meth:`Sample.quantile_draws`), over a value/count table, or over a fixed
  log-spaced histogram when the values are streamed (:data:`GRID`, 1% relative
  resolution);
* sample-ratio mismatch: χ² goodness of fit of the arm counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from .bootstrap import DEFAULT_N_BOOT, draw_replicates, percentile_interval
from .result import Comparison, Interval, Unmeasurable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_RATIO = 1.01
_LOW, _HIGH = 1e-6, 1e12
_POSITIVE = (
    np.exp(np.arange(math.ceil(math.log(_HIGH / _LOW) / math.log(_RATIO)) + 1) * math.log(_RATIO)) * _LOW
)
GRID: FloatArray = np.concatenate([-_POSITIVE[::-1], _POSITIVE])
"""Edges of the streaming histogram: ±1e-6 … ±1e12 in steps of 1%, and one bin around 0.

Bin ``i`` (1 ≤ i < len(GRID)) is ``[GRID[i-1], GRID[i])``; bin 0 and the last bin
catch values beyond ±1e12. A quantile read off it is within 1% (relative) of
the exact one, and counts on it merge exactly across chunks.
"""
GRID_BINS = GRID.size + 1


def grid_counts(values: FloatArray) -> IntArray:
    """Counts of finite ``values`` on :data:`GRID` (NaN is the caller's to count or refuse)."""
    finite = values[np.isfinite(values)]
    index = np.searchsorted(GRID, finite, side="right")
    return np.bincount(index, minlength=GRID_BINS).astype(np.int64)


def _grid_support(counts: IntArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """(low edge, high edge, count) of the occupied bins, for quantiles by interpolation."""
    used = np.flatnonzero(counts)
    edges = np.concatenate([[GRID[0]], GRID, [GRID[-1]]])
    return edges[used].astype(np.float64), edges[used + 1].astype(np.float64), counts[used]


def grid_quantile(counts: IntArray, q: float) -> float:
    """The ``q`` quantile of values summarised by :func:`grid_counts`."""
    low, high, weights = _grid_support(counts)
    return float(_quantiles(low, high, weights[None, :].astype(np.float64), q)[0])


def value_table(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct finite values and how often each occurs: the sufficient statistic of the row bootstrap."""
    uniq, counts = np.unique(values[np.isfinite(values)], return_counts=True)
    return uniq.astype(np.float64), counts.astype(np.int64)


def _quantiles(low: FloatArray, high: FloatArray, weights: FloatArray, q: float) -> FloatArray:
    """Row-wise ``q`` quantile of tables ``weights`` (one per row) over bins ``[low, high]``.

    The rank ``q·n`` is located in the cumulative counts and interpolated
    linearly inside its bin; where ``low == high`` (exact values) that is the
    inverted-CDF quantile.
    """
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1]
    rank = np.maximum(q * total, np.nextafter(0.0, 1.0))
    position = np.minimum((cumulative < rank[:, None]).sum(axis=1), weights.shape[1] - 1)
    rows = np.arange(weights.shape[0])
    before = np.where(position > 0, cumulative[rows, np.maximum(position - 1, 0)], 0.0)
    inside = weights[rows, position]
    fraction = np.clip((rank - before) / np.where(inside > 0, inside, 1.0), 0.0, 1.0)
    return np.asarray(low[position] + fraction * (high[position] - low[position]), dtype=np.float64)


MAX_EXACT_VALUES = 1024
"""Above this many distinct values a sample is binned on shared quantile edges (see ``Sample.of``)."""


@dataclass(frozen=True)
class Sample:
    """One arm's values as a table of bins ``[low, high]`` (equal for exact values) with counts.

    ``centre`` is each bin's mean and ``spread`` the standard deviation of the
    values inside it (0 for exact values), so that a binned mean resamples with
    the variance of the row bootstrap, not only the variance between bins.
    """

    low: FloatArray
    high: FloatArray
    counts: IntArray
    centre: FloatArray
    spread: FloatArray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def exact(cls, values: FloatArray) -> Sample:
        uniq, counts = value_table(np.asarray(values, dtype=np.float64))
        return cls(uniq, uniq, counts, uniq, np.zeros(uniq.size))

    @classmethod
    def from_grid(cls, counts: IntArray) -> Sample:
        low, high, weights = _grid_support(np.asarray(counts, dtype=np.int64))
        # Uniform within a 1% bin: its spread is negligible but not zero.
        return cls(low, high, weights, (low + high) / 2.0, (high - low) / math.sqrt(12.0))

    @classmethod
    def of(cls, values: FloatArray, edges: FloatArray | None = None) -> Sample:
        """Exact when there are few distinct values, else binned on ``edges`` (see :func:`shared_edges`).

        The bootstrap costs O(B · bins): binning 10⁵ distinct values into about
        1,024 quantile bins keeps it in milliseconds. A value repeated often
        (the zeros of a revenue column) keeps a bin of its own, so a quantile
        never interpolates across a point mass; elsewhere it moves by at most
        one bin, about 1/1,024 of the mass. Means keep their within-bin variance.
        """
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values)]
        uniq, counts = np.unique(values, return_counts=True)
        if edges is None or uniq.size <= MAX_EXACT_VALUES:
            return cls.exact(values)
        heavy = counts >= max(2, values.size // MAX_EXACT_VALUES)
        rest = values[~np.isin(values, uniq[heavy])]
        index = np.clip(np.searchsorted(edges, rest, side="right") - 1, 0, edges.size - 2)
        bins = edges.size - 1
        count = np.bincount(index, minlength=bins).astype(np.int64)
        sums = np.bincount(index, weights=rest, minlength=bins)
        squares = np.bincount(index, weights=rest * rest, minlength=bins)
        used = count > 0
        centre = sums[used] / count[used]
        spread = np.sqrt(np.maximum(squares[used] / count[used] - centre * centre, 0.0))
        low = np.concatenate([uniq[heavy], edges[:-1][used]])
        high = np.concatenate([uniq[heavy], edges[1:][used]])
        order = np.lexsort((high, low))
        return cls(
            low[order],
            high[order],
            np.concatenate([counts[heavy], count[used]])[order].astype(np.int64),
            np.concatenate([uniq[heavy], centre])[order],
            np.concatenate([np.zeros(int(heavy.sum())), spread])[order],
        )

    def quantile(self, q: float) -> float:
        return float(_quantiles(self.low, self.high, self.counts[None, :].astype(np.float64), q)[0])

    def mean(self) -> float:
        return float(np.sum(self.centre * self.counts) / self.n)

    def resample(self, rng: np.random.Generator, k: int) -> FloatArray:
        """``k`` bootstrap tables: multinomial counts over the bins, each summing to ``n``."""
        return rng.multinomial(self.n, self.counts / self.n, size=k).astype(np.float64)

    def statistic(self, q: float | None) -> float:
        """The mean (``q=None``) or the ``q`` quantile."""
        return self.mean() if q is None else self.quantile(q)

    def replicates(self, rng: np.random.Generator, k: int, statistic: float | None) -> FloatArray:
        """``k`` replicates of :meth:`statistic`: bootstrap means, or confidence-distribution quantiles."""
        if statistic is None:
            return self.resampled_means(rng, self.resample(rng, k))
        return self.quantile_draws(rng, k, statistic)

    def order_statistics(self, ranks: IntArray) -> FloatArray:
        """The ``ranks``-th smallest values (1 … n); a bin's c values sit at c evenly spaced points in it."""
        cumulative = np.cumsum(self.counts)
        position = ranks - 0.5
        index = np.searchsorted(cumulative, position)
        fraction = (position - (cumulative[index] - self.counts[index])) / self.counts[index]
        return np.asarray(self.low[index] + fraction * (self.high[index] - self.low[index]), dtype=np.float64)

    def quantile_draws(self, rng: np.random.Generator, k: int, q: float) -> FloatArray:
        """``k`` draws from the binomial order-statistic confidence distribution of the ``q`` quantile.

        The bootstrap's percentile interval of a tail quantile sits too low: it
        cannot reach past the sample's largest values, and it reads the skew of
        the estimate the wrong way round, so a p99 interval on 500 values covered
        about 93%. Here the count R of values below the true quantile ξ is
        Binomial(n, q) whatever the distribution, so ξ lies between the R-th and
        (R+1)-th smallest values with probability P(R). Given R = r, those r
        values are uniform below q on the probability scale and the n − r others
        above it, so ξ's distances to its two neighbours are q·Beta(1, r) and
        (1 − q)·Beta(1, n − r); the draw puts ξ at that share of the gap. The
        draws' percentiles are then the exact order-statistic bounds, interpolated
        inside a gap instead of rounded outward (which over-covers), at O(k log bins).

        R = n puts ξ above every value: +inf, since no n values bound the q
        quantile from above with more confidence than 1 − qⁿ (a 95% upper bound
        on p99 needs 367 values); R = 0 is −inf likewise.
        """
        if not 0.0 < q < 1.0:
            raise ValueError(f"`q`={q} must lie strictly between 0 and 1")
        n = self.n
        below = rng.binomial(n, q, size=k)
        inside = np.clip(below, 1, n - 1)
        under = q * rng.beta(1.0, inside)
        over = (1.0 - q) * rng.beta(1.0, n - inside)
        low = self.order_statistics(inside)
        high = self.order_statistics(inside + 1)
        draws = low + under / (under + over) * (high - low)
        return np.where(below == n, np.inf, np.where(below == 0, -np.inf, draws))

    def resampled_means(self, rng: np.random.Generator, tables: FloatArray) -> FloatArray:
        """Means of bootstrap ``tables``; a bin drawn c times adds c values of its own spread.

        The sum of c draws from a bin is c·centre plus noise of variance c·spread²
        (normal by the CLT within the bin); for exact values the noise is zero and
        this is the row bootstrap itself.
        """
        totals = tables @ self.centre
        if np.any(self.spread > 0):
            totals = totals + (np.sqrt(tables) * self.spread * rng.standard_normal(tables.shape)).sum(axis=1)
        return np.asarray(totals / self.n, dtype=np.float64)


def shared_edges(*samples: FloatArray, bins: int = MAX_EXACT_VALUES) -> FloatArray:
    """Quantile edges of the pooled samples, for :meth:`Sample.of`."""
    pooled = np.concatenate([np.asarray(s, dtype=np.float64) for s in samples])
    pooled = pooled[np.isfinite(pooled)]
    return np.unique(np.quantile(pooled, np.linspace(0.0, 1.0, bins + 1)))


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion."""
    if n <= 0:
        raise Unmeasurable("a proportion needs at least one observation")
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def proportion_difference(
    metric: str,
    treated: tuple[int, int],
    control: tuple[int, int],
    *,
    higher_is_better: bool,
    confidence: float = 0.95,
) -> Comparison:
    """``p_treated - p_control`` with Newcombe's hybrid score interval (his method 10).

    ``treated`` and ``control`` are ``(successes, n)``. The p-value is the pooled
    two-proportion z-test of no difference.
    """
    (x1, n1), (x0, n0) = treated, control
    if n1 <= 0 or n0 <= 0:
        raise Unmeasurable(f"{metric}: each arm needs at least one observation (got {n1} and {n0})")
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1, confidence)
    l0, u0 = wilson(x0, n0, confidence)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (x1 + x0) / (n1 + n0)
    se_pooled = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0))
    pvalue = 1.0 if se_pooled == 0 else float(2.0 * sps.norm.sf(abs(d) / se_pooled))
    se = math.sqrt(p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0)
    return Comparison(
        metric=metric,
        candidate=p1,
        baseline=p0,
        delta=d,
        ci=Interval(low, high),
        n=n1 + n0,
        method="Newcombe score",
        higher_is_better=higher_is_better,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
        paired=False,
    )


def statistic_difference(
    metric: str,
    treated: Sample,
    control: Sample,
    *,
    statistic: float | None,
    higher_is_better: bool,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    boundaries: Sequence[float] = (),
) -> Comparison:
    """Interval of a mean (``statistic=None``) or a ``statistic`` quantile, treated − control.

    The arms are drawn independently: a mean as multinomial counts over the
    arm's own table (the bootstrap), a quantile from its order-statistic
    confidence distribution (:meth:`Sample.quantile_draws`); the interval is the
    percentile one of the differences. A bound is ±inf when an arm is too small
    to bound its quantile. ``boundaries`` are decision thresholds on ``delta``'s
    own scale; near one the draws top up to 10,000.
    """
    if treated.n < 2 or control.n < 2:
        raise Unmeasurable(f"{metric}: each arm needs at least 2 values (got {treated.n} and {control.n})")

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        with np.errstate(invalid="ignore"):  # inf - inf: both quantiles unbounded, see _unbounded_interval
            return treated.replicates(gen, k, statistic) - control.replicates(gen, k, statistic)

    with np.errstate(invalid="ignore"):  # an unbounded draw makes the top-up's error estimate inf
        replicates = draw_replicates(draw, rng, n_boot, confidence, boundaries)
    point_t, point_c = treated.statistic(statistic), control.statistic(statistic)
    method = (
        "bootstrap (mean, independent arms)"
        if statistic is None
        else f"binomial order statistics (q{statistic:g}, independent arms)"
    )
    return Comparison(
        metric=metric,
        candidate=point_t,
        baseline=point_c,
        delta=point_t - point_c,
        ci=_unbounded_interval(replicates, confidence),
        n=treated.n + control.n,
        method=method,
        higher_is_better=higher_is_better,
        confidence=confidence,
        n_boot=int(replicates.size),
        replicates=replicates,
        paired=False,
    )


def _unbounded_interval(replicates: FloatArray, confidence: float) -> Interval:
    """Percentile interval where a draw may be ±inf, or NaN when both arms' quantiles were unbounded.

    A NaN difference could be anything, so it counts against both bounds.
    """
    unknown = np.isnan(replicates)
    if not unknown.any():
        return percentile_interval(replicates, confidence)
    low = percentile_interval(np.where(unknown, -np.inf, replicates), confidence).low
    high = percentile_interval(np.where(unknown, np.inf, replicates), confidence).high
    return Interval(low, high)


def statistic_estimate(
    sample: Sample,
    *,
    statistic: float | None,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
) -> tuple[float, Interval, int]:
    """One arm's mean (bootstrap) or quantile (order statistics) with its interval: (value, interval, draws)."""
    if sample.n < 2:
        raise Unmeasurable(f"at least 2 values are needed (got {sample.n})")

    replicates = draw_replicates(partial(sample.replicates, statistic=statistic), rng, n_boot, confidence)
    return sample.statistic(statistic), percentile_interval(replicates, confidence), int(replicates.size)


@dataclass(frozen=True)
class SampleRatioResult:
    """χ² goodness of fit of the arms' counts against the planned split."""

    counts: tuple[int, ...]
    expected_shares: tuple[float, ...]
    statistic: float
    pvalue: float

    @property
    def observed_shares(self) -> tuple[float, ...]:
        total = sum(self.counts)
        return tuple(c / total for c in self.counts)

    def __str__(self) -> str:
        observed = ", ".join(f"{s:.4f}" for s in self.observed_shares)
        expected = ", ".join(f"{s:.4f}" for s in self.expected_shares)
        return (
            "Sample ratio test (χ² goodness of fit)\n"
            f"  counts:    {', '.join(f'{c:,}' for c in self.counts)}\n"
            f"  observed:  {observed}\n"
            f"  expected:  {expected}\n"
            f"  statistic: {self.statistic:.4g}\n"
            f"  p-value:   {self.pvalue:.4g}"
        )


def sample_ratio(counts: Sequence[int], expected_shares: Sequence[float]) -> SampleRatioResult:
    """Test the arms' counts against the planned split (shares are normalised to sum to 1)."""
    observed = np.asarray(counts, dtype=np.float64)
    shares = np.asarray(expected_shares, dtype=np.float64)
    if observed.size != shares.size or observed.size < 2:
        raise ValueError("sample_ratio needs one expected share per arm, and at least two arms")
    if np.any(shares <= 0):
        raise ValueError("every expected share must be > 0")
    shares = shares / shares.sum()
    total = observed.sum()
    if total == 0:
        raise Unmeasurable("no units in any arm")
    result = sps.chisquare(observed, total * shares)
    return SampleRatioResult(
        counts=tuple(int(c) for c in counts),
        expected_shares=tuple(float(s) for s in shares),
        statistic=float(result.statistic),
        pvalue=float(result.pvalue),
    )


def mean_difference(
    metric: str,
    treated: tuple[int, float, float],
    control: tuple[int, float, float],
    *,
    higher_is_better: bool,
    confidence: float = 0.95,
) -> Comparison:
    """Welch's t-interval for ``mean_treated - mean_control`` from ``(n, sum, sum of squares)``.

    Sums merge exactly across chunks; for heavy tails prefer
    :func:`statistic_difference`, whose bootstrap does not lean on normality.
    """
    (n1, s1, q1), (n0, s0, q0) = treated, control
    if n1 < 2 or n0 < 2:
        raise Unmeasurable(f"{metric}: each arm needs at least 2 values (got {n1} and {n0})")
    m1, m0 = s1 / n1, s0 / n0
    v1 = max(q1 - n1 * m1 * m1, 0.0) / (n1 - 1)
    v0 = max(q0 - n0 * m0 * m0, 0.0) / (n0 - 1)
    a, b = v1 / n1, v0 / n0
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1)) if se > 0 else float(n1 + n0 - 2)
    t = float(sps.t.ppf(0.5 + confidence / 2.0, df))
    d = m1 - m0
    pvalue = 1.0 if se == 0 else float(2.0 * sps.t.sf(abs(d) / se, df))
    return Comparison(
        metric=metric,
        candidate=m1,
        baseline=m0,
        delta=d,
        ci=Interval(d - t * se, d + t * se),
        n=n1 + n0,
        method="Welch t",
        higher_is_better=higher_is_better,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
        df=df,
        paired=False,
    )


@dataclass(frozen=True)
class UnitTotals:
    """One arm's per-unit sums: the outcome, its denominator and an optional pre-period covariate.

    A per-request mean is the ratio ``sum(outcome) / sum(requests)`` over units,
    with ``denominator`` the unit's request count; a ratio metric (revenue per
    session) has its own denominator column. The unit, not the request, is what
    was randomised, so the unit is the independent observation.
    """

    numerator: FloatArray
    denominator: FloatArray
    covariate: FloatArray | None = None

    @property
    def units(self) -> int:
        return int(self.numerator.size)

    def ratio(self) -> float:
        return float(self.numerator.sum() / self.denominator.sum())

    def linearized(self) -> FloatArray:
        """Per-unit influence of the ratio (Deng et al. 2018): its mean is 0, its variance/n the delta-method variance."""
        ratio, mean_denominator = self.ratio(), float(self.denominator.mean())
        return np.asarray((self.numerator - ratio * self.denominator) / mean_denominator, dtype=np.float64)


def cuped_theta(arms: Sequence[tuple[FloatArray, FloatArray]]) -> float:
    """θ = cov(Y, X) / var(X), pooled over arms, each centred on its own means.

    Centring within arms keeps the treatment effect out of θ; θ = 0 when the
    covariate does not vary.
    """
    cross = spread = 0.0
    for y, x in arms:
        dx = x - x.mean()
        cross += float(np.dot(y - y.mean(), dx))
        spread += float(np.dot(dx, dx))
    return cross / spread if spread > 0 else 0.0


def ratio_difference(
    metric: str,
    treated: UnitTotals,
    control: UnitTotals,
    *,
    higher_is_better: bool,
    confidence: float = 0.95,
    covariate: str | None = None,
) -> Comparison:
    """``ratio_treated - ratio_control`` of per-unit sums, by the delta method, clustered by unit.

    Each arm's ratio ``R = ΣY / ΣN`` has delta-method variance
    ``var(Y - R·N) / (n · mean(N)²)`` over its n units, which keeps the
    correlation between one unit's requests that a per-request interval
    ignores. With a pre-period ``covariate`` X per unit (CUPED, Deng et al.
    2013), each ratio moves by ``-θ(mean X_arm - mean X)`` and its variance is
    that of the linearised outcome minus ``θ·X``: unbiased, since X was fixed
    before assignment, and narrower by the squared correlation.
    """
    for arm, name in ((treated, "treatment"), (control, "control")):
        if arm.units < 2:
            raise Unmeasurable(f"{metric}: the {name} arm has {arm.units} unit(s); at least 2 are needed")
        if not arm.denominator.sum() > 0:
            raise Unmeasurable(f"{metric}: the {name} arm's denominator sums to {arm.denominator.sum():g}")
    influence = [treated.linearized(), control.linearized()]
    ratios = [treated.ratio(), control.ratio()]
    method = "delta method (ratio of per-unit sums, clustered by unit)"
    if covariate is not None:
        if treated.covariate is None or control.covariate is None:
            raise ValueError("CUPED needs the covariate in both arms")
        covariates = [treated.covariate, control.covariate]
        theta = cuped_theta(list(zip(influence, covariates, strict=True)))
        centre = float(np.concatenate(covariates).mean())
        raw = [float(np.var(lin, ddof=1)) for lin in influence]
        ratios = [r - theta * (float(x.mean()) - centre) for r, x in zip(ratios, covariates, strict=True)]
        influence = [lin - theta * x for lin, x in zip(influence, covariates, strict=True)]
        kept = sum(float(np.var(lin, ddof=1)) for lin in influence) / max(sum(raw), np.finfo(float).tiny)
        method += f", CUPED on `{covariate}` (θ = {theta:.4g}, variance × {kept:.2f})"
    variance = sum(float(np.var(lin, ddof=1)) / lin.size for lin in influence)
    se = math.sqrt(variance)
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    delta = ratios[0] - ratios[1]
    pvalue = 1.0 if se == 0 else float(2.0 * sps.norm.sf(abs(delta) / se))
    return Comparison(
        metric=metric,
        candidate=ratios[0],
        baseline=ratios[1],
        delta=delta,
        ci=Interval(delta - z * se, delta + z * se),
        n=treated.units + control.units,
        method=method,
        higher_is_better=higher_is_better,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
        paired=False,
    )
