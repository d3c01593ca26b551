"""ROC AUC and its variance by fast DeLong (Sun & Xu, 2014).

The O(n log n) algorithm computes DeLong's structural components from three
mid-rankings per model, instead of the O(m·n) pairwise comparison.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

FloatArray = NDArray[np.float64]


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
    if m == 0 or n == 0:
        raise ValueError("ROC AUC needs at least one positive and one negative row")
    tx = rankdata(pos_scores, axis=1)
    ty = rankdata(neg_scores, axis=1)
    tz = rankdata(np.concatenate([pos_scores, neg_scores], axis=1), axis=1)
    auc = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2.0) / n
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return _Components(auc, v10, v01)


def delong_single(y: NDArray[np.intp], score: FloatArray) -> tuple[float, float]:
    """AUC of one binary scorer and its DeLong standard error."""
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
    k = cand.shape[1]
    rows = y.shape[0]
    influence = np.zeros(rows)
    aucs = np.zeros(2)
    for cls in range(k):
        positive = y == cls
        c = _components(positive, np.stack([cand[:, cls], base[:, cls]]))
        m, n = c.v10.shape[1], c.v01.shape[1]
        aucs += c.auc / k
        d_auc = c.auc[0] - c.auc[1]
        influence[positive] += (c.v10[0] - c.v10[1] - d_auc) / (m * k)
        influence[~positive] += (c.v01[0] - c.v01[1] - d_auc) / (n * k)
    var = float(np.sum(influence**2)) * rows / max(rows - 1, 1)
    return PairedAUC(float(aucs[0]), float(aucs[1]), float(np.sqrt(var)))


def _var(x: FloatArray, size: int) -> float:
    return float(np.var(x, ddof=1)) if size > 1 else 0.0
