"""Repeated looks and small counts: boundaries that hold at every look and every n.

Two pieces, both pure numpy/scipy and vectorised over runs so that simulations
call exactly what the live analyses call:

* **The normal-mixture boundary** (Robbins 1970; the mixture SPRT of Johari,
  Koomen, Pekelis & Walsh 2017, "Peeking at A/B tests"). For an estimate Δ̂ with
  standard error ``se``, the likelihood ratio of "Δ = θ" against a normal
  mixture of alternatives, ``Λ = (1+r)^(-1/2) exp(r z² / (2(1+r)))`` with
  ``z = (Δ̂ − θ)/se`` and ``r`` the information relative to the mixture's scale,
  is a martingale under θ; by Ville's inequality it ever reaches ``1/α`` with
  probability at most α, however often and whenever one looks. ``Λ < 1/α``
  solves to ``|z| < mixture_z(r, α)``: a confidence *sequence*, valid at every
  look at once. The guarantee is asymptotic (the estimate is treated as
  normal), so it is paired with:

* **Exact per-arm bounds for proportions.** Clopper–Pearson (1934) bounds for a
  single look, and the beta-binomial mixture confidence sequence (Robbins 1970)
  for repeated looks: ``M_n(p) = B(a+x, b+n−x)/B(a, b) / (p^x (1−p)^(n−x))`` is a
  nonnegative martingale with mean 1 under the true p, so ``{p: M_n(p) < 1/γ}``
  misses it at some n with probability at most γ. Both are exact for every n;
  a rollback on a proportion needs them to separate the arms by more than the
  allowance, which bounds its false-rollback rate whatever the counts.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]

PRIOR = (0.5, 0.5)
"""Beta prior of the beta-binomial mixture: Jeffreys', which keeps mass near 0 where error rates live."""

_NEWTON_STEPS = 60
_LOGIT_EDGE = 40.0
"""Newton starts at p = expit(∓40) ≈ 4e-18 from the edges: outside the set for any log count."""


def mixture_z(information_ratio: ArrayLike, alpha: float) -> FloatArray:
    """Half-width, in standard errors, of the two-sided normal-mixture confidence sequence.

    ``information_ratio`` (r > 0) is the information collected so far over the
    information at which the mixture is tuned (its narrowest point relative to
    the fixed-sample interval is near r ≈ 1…10). Any fixed tuning is valid; it
    must not be chosen from the outcomes.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`alpha`={alpha!r} must be in (0, 1)")
    r = np.maximum(np.asarray(information_ratio, dtype=np.float64), 1e-12)
    return np.asarray(np.sqrt((1.0 + r) / r * (2.0 * math.log(1.0 / alpha) + np.log1p(r))), dtype=np.float64)


def mixture_confidence(information_ratio: float, alpha: float) -> float:
    """The fixed-sample two-sided confidence whose interval is as wide as the mixture boundary.

    Analytic intervals (Newcombe, Welch) are recomputed at this confidence, so
    their shape (Wilson's asymmetry near 0) carries over to the sequence.
    """
    z = float(mixture_z(information_ratio, alpha))
    return float(1.0 - 2.0 * special.ndtr(-z))


def effective_size(n1: ArrayLike, n0: ArrayLike) -> FloatArray:
    """Information of a difference of two independent means, in rows: n1·n0/(n1+n0)."""
    a = np.asarray(n1, dtype=np.float64)
    b = np.asarray(n0, dtype=np.float64)
    total = a + b
    return np.asarray(np.where(total > 0, a * b / np.where(total > 0, total, 1.0), 0.0), dtype=np.float64)


def split_alpha(alpha: float, steps: int) -> float:
    """Each of ``steps`` disjoint windows gets alpha/steps (Bonferroni across steps).

    The steps' windows hold different requests, so a rollback in any of them is
    a separate chance of error; the union bound keeps their total at alpha with
    no assumption about how the windows depend on each other.
    """
    if steps < 1:
        raise ValueError(f"`steps`={steps!r} must be >= 1")
    return alpha / steps


def clopper_pearson(x: ArrayLike, n: ArrayLike, gamma: float, side: str) -> FloatArray:
    """One-sided exact bound of a proportion: P(p < lower) ≤ gamma, or P(p > upper) ≤ gamma."""
    xs = np.asarray(x, dtype=np.float64)
    ns = np.asarray(n, dtype=np.float64)
    if side == "lower":
        safe = np.where(xs > 0, xs, 1.0)
        return np.asarray(
            np.where(xs > 0, special.betaincinv(safe, ns - safe + 1.0, gamma), 0.0), dtype=np.float64
        )
    if side == "upper":
        safe = np.where(xs < ns, xs, ns - 1.0)
        return np.asarray(
            np.where(xs < ns, special.betaincinv(safe + 1.0, ns - safe, 1.0 - gamma), 1.0), dtype=np.float64
        )
    raise ValueError(f"`side`={side!r} must be lower or upper")


def beta_binomial_bound(x: ArrayLike, n: ArrayLike, gamma: float, side: str) -> FloatArray:
    """One bound of the beta-binomial mixture confidence sequence at level gamma.

    The set {p: M_n(p) < 1/γ} is an interval around x/n. It excludes the true
    p at *some* n with probability at most γ, so either bound alone errs with
    probability at most γ over all looks together. In t = logit(p), log M_n is
    ``const + x·softplus(−t) + (n−x)·softplus(t)``, a convex function; Newton's
    method started outside the set therefore approaches each end from outside
    and never overshoots, in a dozen steps, vectorised over runs.
    """
    if side not in ("lower", "upper"):
        raise ValueError(f"`side`={side!r} must be lower or upper")
    xs, ns = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64))
    a, b = PRIOR
    excess = special.betaln(a + xs, b + ns - xs) - special.betaln(a, b) - math.log(1.0 / gamma)

    def gap(t: FloatArray) -> FloatArray:
        """log M_n − log(1/γ) at logit t: > 0 outside the set."""
        return np.asarray(excess + xs * np.logaddexp(0.0, -t) + (ns - xs) * np.logaddexp(0.0, t))

    start = -_LOGIT_EDGE if side == "lower" else _LOGIT_EDGE
    t = np.full(xs.shape, start)
    for _ in range(_NEWTON_STEPS):
        slope = ns * special.expit(t) - xs
        step = np.where(slope != 0.0, gap(t) / np.where(slope != 0.0, slope, 1.0), 0.0)
        # Only ever inward: rounding must not carry an end across the set.
        step = np.maximum(step, 0.0) if side == "upper" else np.minimum(step, 0.0)
        t = t - step
        if not np.any(np.abs(step) > 1e-12 * np.maximum(1.0, np.abs(t))):
            break
    # With no data pushing it out (x = 0 for the lower end), the edge itself is inside: the bound is 0 or 1.
    edge_inside = (gap(np.full(xs.shape, start)) < 0.0) | (ns <= 0)
    return np.asarray(
        np.where(edge_inside, 0.0 if side == "lower" else 1.0, special.expit(t)), dtype=np.float64
    )


def exact_rollback(
    worse: ArrayLike,
    n_worse: ArrayLike,
    better: ArrayLike,
    n_better: ArrayLike,
    *,
    allowed: float,
    ratio: float | None,
    alpha: float,
    sequential: bool,
) -> NDArray[np.bool_]:
    """Do exact per-arm bounds show the "worse" rate beyond the "better" one plus the allowance?

    ``worse``/``n_worse`` are the counts whose rate rises when the canary
    degrades (the canary's errors, or the control's correct answers for
    accuracy), ``better`` the other arm's. The rollback null is
    ``p_worse ≤ p_better + allowed`` or, with ``ratio``, ``p_worse ≤ ratio ·
    p_better``. True only when the lower bound of ``p_worse`` clears the upper
    bound of ``p_better`` by the allowance; each bound errs with probability at
    most alpha/2, so under the null this happens with probability at most alpha,
    exactly, at every n (and, with ``sequential``, at every look together).
    """
    gamma = alpha / 2.0
    bound = beta_binomial_bound if sequential else clopper_pearson
    low = bound(worse, n_worse, gamma, "lower")
    high = bound(better, n_better, gamma, "upper")
    if ratio is not None:
        return np.asarray(low > ratio * high)
    return np.asarray(low - high > allowed)
