"""Drift between a reference and a current distribution, from binned counts.

Numeric features are binned on *frozen* reference quantile edges, with an
underflow and an overflow bin; categorical features on the reference's
categories plus an "other" bin. Everything here works on counts, so a stored
profile of the reference is enough: the raw reference data is not needed.

Effect sizes (PSI, Jensen–Shannon in bits, W1/σ_ref, KS D) say how much the
distribution moved; the χ² homogeneity test on the same bins says whether the
move is more than sampling noise. A feature is flagged only when both hold
(DESIGN §3): the effect rule stops large-n false alarms, the test small-n ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import integrate
from scipy import stats as sps

FloatArray = NDArray[np.float64]

SMOOTHING = 0.5
"""Added to every bin count before taking logs: one empty bin must not dominate PSI."""

N_QUANTILE_BINS = 10
QUANTILE_GRID = np.linspace(0.0, 1.0, 1001)
"""Per-mille quantiles stored in a numeric profile, for W1 and KS without the raw reference."""


@dataclass(frozen=True)
class DriftStats:
    """Drift of one feature. ``pvalue`` is the χ² homogeneity test on the PSI bins."""

    psi: float
    js: float
    """Jensen–Shannon divergence, base 2 (0 = identical, 1 = disjoint)."""
    pvalue: float
    noise_floor: float
    """Expected PSI with no drift at these sample sizes: (B−1)(1/M + 1/N)."""
    n_reference: int
    n_current: int
    bins: int
    share_change: float = 0.0
    """Largest absolute change of any bin's share (unsmoothed): the L∞ distance."""
    w1: float | None = None
    """Wasserstein-1 distance divided by the reference's standard deviation (numeric only)."""
    ks: float | None = None
    """Kolmogorov–Smirnov D on the reference percentile grid (numeric only)."""
    ks_pvalue: float | None = None


def numeric_edges(values: FloatArray, bins: int = N_QUANTILE_BINS) -> FloatArray:
    """Interior bin edges: the reference's quantiles at 1/bins … (bins−1)/bins, deduplicated."""
    if values.size == 0:
        return np.empty(0)
    qs = np.quantile(values, np.arange(1, bins) / bins)
    return np.unique(qs)


def numeric_counts(values: FloatArray, edges: FloatArray, low: float, high: float) -> NDArray[np.int64]:
    """Counts in [underflow, regular bins…, overflow] for frozen ``edges`` and reference range."""
    return sorted_counts(np.sort(values), edges, low, high)


def sorted_counts(ordered: FloatArray, edges: FloatArray, low: float, high: float) -> NDArray[np.int64]:
    """``numeric_counts`` for values already sorted: O(bins · log n) instead of O(n · log bins)."""
    # A sort (vectorised in numpy ≥ 2) plus a few binary searches beats n binary searches.
    below = np.searchsorted(ordered, low, side="left")
    above = np.searchsorted(ordered, high, side="right")
    cuts = np.clip(np.searchsorted(ordered, edges, side="right"), below, above)
    bounds = np.concatenate([[0, below], cuts, [above, ordered.size]])
    return np.diff(bounds).astype(np.int64)


def compare_counts(reference: NDArray[np.int64], current: NDArray[np.int64]) -> DriftStats:
    """PSI, JS and the χ² homogeneity p-value of two count vectors over the same bins."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    m, n = float(ref.sum()), float(cur.sum())
    if m == 0 or n == 0:
        raise ValueError("both reference and current need at least one value")
    used = (ref + cur) > 0
    bins = int(used.sum())
    p = (ref[used] + SMOOTHING) / (m + SMOOTHING * bins)
    q = (cur[used] + SMOOTHING) / (n + SMOOTHING * bins)
    psi = float(np.sum((q - p) * np.log(q / p)))
    mid = 0.5 * (p + q)
    js = float(0.5 * np.sum(p * np.log2(p / mid)) + 0.5 * np.sum(q * np.log2(q / mid)))
    if bins < 2:
        pvalue = 1.0
    else:
        table = np.vstack([ref[used], cur[used]])
        pvalue = float(sps.chi2_contingency(table, correction=False).pvalue)
    noise = (bins - 1) * (1.0 / m + 1.0 / n)
    return DriftStats(
        psi=psi,
        js=max(js, 0.0),
        pvalue=pvalue,
        noise_floor=noise,
        n_reference=int(m),
        n_current=int(n),
        bins=bins,
        share_change=float(np.max(np.abs(cur / n - ref / m))),
    )


def quantile_shift(
    reference_quantiles: FloatArray, reference_std: float, ordered: FloatArray, n_reference: int
) -> tuple[float, float, float]:
    """W1/σ_ref, KS D and its p-value, from the reference's quantile grid and *sorted* current values.

    W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du on the grid, which stays right when values
    tie (flags, counts). D compares the two step CDFs at the reference's quantiles,
    the reference CDF read off its own grid so that ties count as ties.
    """
    n = ordered.size
    current_cdf = np.searchsorted(ordered, reference_quantiles, side="right") / n
    return shift_from_quantiles(
        reference_quantiles, reference_std, _sorted_quantiles(ordered), current_cdf, n, n_reference
    )


def shift_from_quantiles(
    reference_quantiles: FloatArray,
    reference_std: float,
    current_quantiles: FloatArray,
    current_cdf: FloatArray,
    n: int,
    n_reference: int,
) -> tuple[float, float, float]:
    """``quantile_shift`` from the current data's quantiles on the grid and its CDF at the reference's.

    A distributed engine gets both without sorting: the CDF by exact counts, the
    quantiles from a sketch.
    """
    # scipy's trapezoid, not numpy's: np.trapezoid is numpy ≥ 2.0 only and np.trapz is deprecated there.
    w1 = float(integrate.trapezoid(np.abs(current_quantiles - reference_quantiles), QUANTILE_GRID))
    if reference_std > 0:
        w1_scaled = w1 / reference_std
    else:
        w1_scaled = 0.0 if w1 == 0 else float("inf")
    reference_cdf = (
        np.searchsorted(reference_quantiles, reference_quantiles, side="right") / reference_quantiles.size
    )
    d = float(min(np.max(np.abs(reference_cdf - current_cdf)), 1.0))
    m = n_reference
    ks_p = float(sps.kstwobign.sf(d * np.sqrt(m * n / (m + n))))
    return w1_scaled, d, ks_p


def _sorted_quantiles(ordered: FloatArray) -> FloatArray:
    """``np.quantile(ordered, QUANTILE_GRID)`` (linear) for data already sorted, in O(grid)."""
    position = QUANTILE_GRID * (ordered.size - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, ordered.size - 1)
    weight = position - below
    return np.asarray(ordered[below] * (1.0 - weight) + ordered[above] * weight, dtype=np.float64)


def benjamini_hochberg(pvalues: FloatArray) -> FloatArray:
    """BH-adjusted p-values (the step-up FDR procedure)."""
    if pvalues.size == 0:
        return pvalues
    return np.asarray(sps.false_discovery_control(np.clip(pvalues, 0.0, 1.0), method="bh"), dtype=np.float64)
