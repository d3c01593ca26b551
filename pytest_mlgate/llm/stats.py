"""Intervals for the LLM gate, with golden cases as the unit (pure numpy/scipy).

A case's score is the share of its samples that pass, so samples of one case are
never treated as independent rows: the comparison is a paired t-interval on the
per-case differences, which for binary scores is the Wald interval of a paired
proportion difference with a t quantile (slightly wider), and is checked against
scipy's ``ttest_rel`` in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from ..stats.bootstrap import draw_replicates, percentile_interval
from ..stats.result import Comparison, Interval, Unmeasurable

FloatArray = NDArray[np.float64]


def paired_scores(
    metric: str, candidate: FloatArray, baseline: FloatArray, *, confidence: float
) -> Comparison:
    """Paired t-interval of mean(candidate - baseline) over cases; ``discordant`` counts cases that differ."""
    cand = np.asarray(candidate, dtype=np.float64)
    base = np.asarray(baseline, dtype=np.float64)
    if cand.shape != base.shape or cand.ndim != 1:
        raise ValueError("candidate and baseline scores must be 1-d arrays of the same length")
    n = int(cand.size)
    if n < 2:
        raise Unmeasurable(f"{metric}: at least 2 cases are needed (got {n})")
    diff = cand - base
    delta = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n))
    df = n - 1
    t = float(sps.t.ppf(0.5 + confidence / 2.0, df))
    if se > 0:
        pvalue = float(2.0 * sps.t.sf(abs(delta) / se, df))
    else:
        pvalue = 1.0 if delta == 0 else 0.0
    return Comparison(
        metric=metric,
        candidate=float(cand.mean()),
        baseline=float(base.mean()),
        delta=delta,
        ci=Interval(delta - t * se, delta + t * se),
        n=n,
        method="paired t over cases",
        higher_is_better=True,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
        df=float(df),
        discordant=int(np.count_nonzero(diff)),
    )


def mean_interval(scores: FloatArray, *, confidence: float) -> tuple[float, Interval]:
    """The mean of per-case scores with its t-interval (for a floor on the pass rate)."""
    x = np.asarray(scores, dtype=np.float64)
    if x.size < 2:
        raise Unmeasurable(f"at least 2 cases are needed (got {x.size})")
    mean = float(x.mean())
    half = float(sps.t.ppf(0.5 + confidence / 2.0, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, Interval(max(0.0, mean - half), min(1.0, mean + half))


def bootstrap_mean(
    values: FloatArray,
    *,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    boundaries: Sequence[float] = (),
) -> tuple[float, Interval, int]:
    """Mean over cases with a case-bootstrap percentile interval: (mean, interval, replicates)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 2:
        raise Unmeasurable(f"at least 2 cases are needed (got {n})")

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        return np.asarray(x[gen.integers(0, n, size=(k, n))].mean(axis=1), dtype=np.float64)

    reps = draw_replicates(draw, rng, n_boot, confidence, boundaries)
    return float(x.mean()), percentile_interval(reps, confidence), int(reps.size)


def bootstrap_ratio(
    candidate: FloatArray,
    baseline: FloatArray,
    *,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    boundaries: Sequence[float] = (),
) -> tuple[float, Interval, int]:
    """sum(candidate)/sum(baseline) - 1 over the same cases, with a paired case-bootstrap interval."""
    c = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    n = c.size
    if n < 2 or b.sum() <= 0:
        raise Unmeasurable("a ratio needs at least 2 cases and a baseline total above 0")

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        idx = gen.integers(0, n, size=(k, n))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = c[idx].sum(axis=1) / b[idx].sum(axis=1) - 1.0
        return np.asarray(np.where(np.isfinite(ratio), ratio, np.inf), dtype=np.float64)

    reps = draw_replicates(draw, rng, n_boot, confidence, boundaries)
    return float(c.sum() / b.sum() - 1.0), percentile_interval(reps, confidence), int(reps.size)
