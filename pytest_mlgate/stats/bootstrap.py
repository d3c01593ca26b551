"""Bootstrap machinery: percentile intervals and the Monte Carlo top-up.

Resampling is always paired: one draw of row weights serves the candidate and
the baseline, so the interval reflects only the difference between them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from .result import Interval

FloatArray = NDArray[np.float64]

DEFAULT_N_BOOT = 2_000
TOP_UP_N_BOOT = 10_000
"""Replicates used when a bound lies within three Monte Carlo errors of a boundary."""

_CHUNK = 500


def percentile_interval(replicates: FloatArray, confidence: float) -> Interval:
    alpha = 1.0 - confidence
    # Inverted-CDF quantiles make "U < -m" equivalent to "share of replicates >= -m is <= alpha/2".
    low, high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0], method="inverted_cdf")
    return Interval(float(low), float(high))


def _quantile_mc_error(replicates: FloatArray, q: float) -> float:
    """Monte Carlo standard error of the ``q`` sample quantile.

    Uses the asymptotic sqrt(q(1-q)/B)/f(x_q), with the density estimated from
    neighbouring quantiles.
    """
    b = replicates.size
    h = min(0.01, q / 2.0, (1.0 - q) / 2.0)
    lo, hi = np.quantile(replicates, [q - h, q + h])
    inverse_density = (hi - lo) / (2.0 * h)
    return float(np.sqrt(q * (1.0 - q) / b) * inverse_density)


def near_boundary(replicates: FloatArray, confidence: float, boundaries: Sequence[float]) -> bool:
    """True when an interval bound is within 3 Monte Carlo errors of a boundary."""
    if not boundaries:
        return False
    alpha = 1.0 - confidence
    for q in (alpha / 2.0, 1.0 - alpha / 2.0):
        bound = float(np.quantile(replicates, q))
        tolerance = 3.0 * _quantile_mc_error(replicates, q)
        if any(abs(bound - b) <= tolerance for b in boundaries):
            return True
    return False


def draw_replicates(
    draw: Callable[[np.random.Generator, int], FloatArray],
    rng: np.random.Generator,
    n_boot: int,
    confidence: float,
    boundaries: Sequence[float] = (),
) -> FloatArray:
    """Draw ``n_boot`` replicates in chunks, topping up to 10,000 near a boundary.

    ``draw(rng, k)`` returns ``k`` replicates of the statistic. ``boundaries``
    are the decision thresholds on the statistic's own scale.
    """
    parts = [_draw_chunked(draw, rng, n_boot)]
    replicates = parts[0]
    if n_boot < TOP_UP_N_BOOT and near_boundary(replicates, confidence, boundaries):
        parts.append(_draw_chunked(draw, rng, TOP_UP_N_BOOT - n_boot))
        replicates = np.concatenate(parts)
    return replicates


def _draw_chunked(
    draw: Callable[[np.random.Generator, int], FloatArray], rng: np.random.Generator, total: int
) -> FloatArray:
    out = np.empty(total, dtype=np.float64)
    for start in range(0, total, _CHUNK):
        stop = min(total, start + _CHUNK)
        out[start:stop] = draw(rng, stop - start)
    return out


def row_weights(rng: np.random.Generator, n: int, k: int) -> NDArray[np.int64]:
    """``k`` rows of bootstrap multiplicities for ``n`` rows (each row sums to ``n``)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=k)
