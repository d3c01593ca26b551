"""ROC AUC and its variance by fast DeLong (Sun & Xu, 2014).

The O(n log n) algorithm computes DeLong's structural components from three
mid-rankings per model, instead of the O(m·n) pairwise comparison.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from .result import Interval, Unmeasurable

FloatArray = NDArray[np.float64]

MIN_PER_CLASS = 10
"""DeLong's variance needs this many positives and negatives; below it the AUC is not measured."""


DELTA_LIMITS = (-1.0, 1.0)
"""Where a difference of two AUCs lies; its normal interval is clipped to it."""


def auc_interval(auc: float, se: float, z: float) -> Interval:
    """The z-interval of an AUC, clipped to [0, 1]: near 1 the normal approximation runs past it."""
    return Interval(max(auc - z * se, 0.0), min(auc + z * se, 1.0))


class PairedAUC(NamedTuple):
    candidate: float
    baseline: float
    se: float
    """Standard error of ``candidate - baseline``."""


class _Components(NamedTuple):
    auc: FloatArray  # (models,)
    v10: FloatArray  # (models, positives)
    v01: FloatArray  # (models, negatives)


def _components(positive: NDArray[np.bool_], scores: FloatArray) -> _Components:
    """DeLong placement values for each row of ``scores`` (shape ``(models, n)``)."""
    pos_scores, neg_scores = scores[:, positive], scores[:, ~positive]
    m, n = pos_scores.shape[1], neg_scores.shape[1]
    if min(m, n) < MIN_PER_CLASS:
        raise Unmeasurable(
            f"ROC AUC needs at least {MIN_PER_CLASS} positive and {MIN_PER_CLASS} negative rows; got {m} and {n}"
        )
    tx = rankdata(pos_scores, axis=1)
    ty = rankdata(neg_scores, axis=1)
    tz = rankdata(np.concatenate([pos_scores, neg_scores], axis=1), axis=1)
    auc = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2.0) / n
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return _Components(auc, v10, v01)


def delong_single(y: NDArray[np.intp], score: FloatArray) -> tuple[float, float]:
    """AUC of one scorer and its DeLong standard error (``(n, K)`` scores: macro one-vs-rest)."""
    if score.ndim == 2:
        aucs, influence = _macro_influence(y, [score])
        return float(aucs[0]), _influence_se(influence[0])
    c = _components(y == 1, score[None, :])
    m, n = c.v10.shape[1], c.v01.shape[1]
    var = _var(c.v10[0], m) / m + _var(c.v01[0], n) / n
    return float(c.auc[0]), float(np.sqrt(max(var, 0.0)))


def delong_paired(y: NDArray[np.intp], cand: FloatArray, base: FloatArray) -> PairedAUC:
    """Paired AUC difference for binary (``(n,)`` scores) or multiclass one-vs-rest macro.

    For multiclass scores (``(n, K)``) the macro average of the K one-vs-rest
    AUCs is compared; its variance uses each row's influence summed over the K
    problems, which is DeLong's estimator extended to a linear combination.
    """
    if cand.ndim == 1:
        c = _components(y == 1, np.stack([cand, base]))
        m, n = c.v10.shape[1], c.v01.shape[1]
        d10, d01 = c.v10[0] - c.v10[1], c.v01[0] - c.v01[1]
        var = _var(d10, m) / m + _var(d01, n) / n
        return PairedAUC(float(c.auc[0]), float(c.auc[1]), float(np.sqrt(max(var, 0.0))))
    aucs, influence = _macro_influence(y, [cand, base])
    return PairedAUC(float(aucs[0]), float(aucs[1]), _influence_se(influence[0] - influence[1]))


def _macro_influence(y: NDArray[np.intp], models: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Macro one-vs-rest AUC per model and each row's influence on it (shape ``(models, n)``)."""
    k = models[0].shape[1]
    influence = np.zeros((len(models), y.shape[0]))
    aucs = np.zeros(len(models))
    for cls in range(k):
        positive = y == cls
        c = _components(positive, np.stack([model[:, cls] for model in models]))
        m, n = c.v10.shape[1], c.v01.shape[1]
        aucs += c.auc / k
        influence[:, positive] += (c.v10 - c.auc[:, None]) / (m * k)
        influence[:, ~positive] += (c.v01 - c.auc[:, None]) / (n * k)
    return aucs, influence


def _influence_se(influence: FloatArray) -> float:
    rows = influence.shape[0]
    return float(np.sqrt(np.sum(influence**2) * rows / max(rows - 1, 1)))


def _var(x: FloatArray, size: int) -> float:
    return float(np.var(x, ddof=1)) if size > 1 else 0.0
