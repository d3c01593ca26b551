"""Plausible value ranges for a starter data contract, from a column's quantiles.

The observed [min, max] is a poor contract: a new i.i.d. sample as large as the
reference exceeds the reference's maximum with probability 1/2, whatever the
distribution, so 30 such columns almost surely fail. The range is therefore
widened past each extreme by ``TAIL_SCALES`` times the tail's own scale, its
mean excess over the quantile that leaves ``TAIL_ROWS`` values beyond it. For
an exponential tail the overshoot of a new maximum over the old one, in units
of that scale, is logistic: P(> 8) ≈ 3e-4. The upper tail of a column without
negative values is widened on the scale of log(x + median), where skewed
measurements (lognormal, Pareto-like) have such tails. No floor of 0 is
imposed: a reference that happens to hold no negative value (a normal column
far enough from 0) says little about the next sample.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

TAIL_ROWS = 30
"""Values beyond the quantile whose mean excess estimates a tail's scale (its noise is ≈ 1/√30)."""
TAIL_FLOOR = 0.01
"""The tail is at least this share of the values: finer quantiles are not stored."""
TAIL_SCALES = 8.0
"""How many tail scales the range reaches past the observed extreme."""


def plausible_range(quantiles: ArrayLike, count: int) -> tuple[float, float]:
    """(low, high) for a column whose evenly spaced quantiles (first = min, last = max) are given.

    ``count`` is the number of values behind them. A bound that overflows is ±inf.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    grid = np.linspace(0.0, 1.0, q.size)
    tail = min(0.5, max(TAIL_ROWS / max(count, 1), TAIL_FLOOR))
    high = _reach(q, grid, tail)
    low = -_reach(-q[::-1], grid, tail)
    return low, high


def _reach(q: np.ndarray, grid: np.ndarray, tail: float) -> float:
    """The upper bound; for a column without negative values, on the scale of log(x + median)."""
    median = float(np.interp(0.5, grid, q))
    if q[0] >= 0 and median > 0:
        z = np.log(q + median)
        reach = float(z[-1]) + TAIL_SCALES * _mean_excess(z, grid, tail)
        return math.exp(reach) - median if reach < 700 else math.inf
    return float(q[-1]) + TAIL_SCALES * _mean_excess(q, grid, tail)


def _mean_excess(z: np.ndarray, grid: np.ndarray, tail: float) -> float:
    """Mean distance of the top ``tail`` share of values beyond the quantile that starts it."""
    u = np.linspace(1.0 - tail, 1.0, 201)
    values = np.interp(u, grid, z)
    mean = float(np.mean((values[1:] + values[:-1]) / 2.0))  # the quantile function's average over the tail
    return mean - float(values[0])
