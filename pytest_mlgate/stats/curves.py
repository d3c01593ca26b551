"""Compact curve data for the report's figures: ROC, precision-recall, calibration, confusion, residuals.

Pure numpy. Each function summarises per-row predictions into a few hundred
numbers, so the JSON report can carry them and the HTML page can be redrawn
from the report alone. Points that are kept lie exactly on the full curve (a
subset of scikit-learn's ``drop_intermediate=False`` points), so what is drawn
is the curve itself, thinned, never a smoothed or interpolated one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

MAX_CURVE_POINTS = 200
CALIBRATION_BINS = 10
SCORE_BINS = 20


def _thin(progress: FloatArray, max_points: int) -> IntArray:
    """Indices of at most ``max_points`` points spread evenly along a non-decreasing ``progress``.

    An even spread by index would put every kept point in the dense middle of a large
    curve and lose its corners; by progress (fpr + tpr) the bends keep their points.
    """
    if progress.size <= max_points:
        return np.arange(progress.size)
    grid = np.linspace(progress[0], progress[-1], max_points)
    picked = np.searchsorted(progress, grid, side="left").clip(0, progress.size - 1)
    return np.unique(np.concatenate([[0], picked, [progress.size - 1]]))


def _ranked(y: IntArray, score: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """True and false positives at each distinct threshold, from the highest score down."""
    # Ties are merged into one threshold below, so the sort need not be stable (quicksort is faster).
    order = np.argsort(-score)
    s, hits = score[order], y[order] == 1
    last = np.flatnonzero(np.diff(s)) if s.size > 1 else np.empty(0, dtype=np.intp)
    ends = np.concatenate([last, [s.size - 1]])
    tps = np.cumsum(hits, dtype=np.float64)[ends]
    fps = (ends + 1).astype(np.float64) - tps
    return tps, fps, s[ends]


def roc_pr(y: IntArray, score: FloatArray, max_points: int = MAX_CURVE_POINTS) -> dict[str, Any]:
    """ROC and precision-recall points of one binary scorer (``y`` in {0, 1}), with AUC and AP.

    The area and average precision come from the full curves, not the thinned points.
    """
    tps, fps, thresholds = _ranked(np.asarray(y, dtype=np.intp), np.asarray(score, dtype=np.float64))
    positives, negatives = tps[-1], fps[-1]
    if positives == 0 or negatives == 0:
        return {}
    tpr = np.concatenate([[0.0], tps / positives])
    fpr = np.concatenate([[0.0], fps / negatives])
    # The trapezoid rule by hand: np.trapz is gone from numpy 2 and np.trapezoid is new in it.
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    precision = tps / (tps + fps)
    recall = tps / positives
    # Average precision as scikit-learn defines it: precision weighted by each recall step.
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    keep = _thin(fpr + tpr, max_points)
    inner = keep[keep > 0] - 1  # the (0, 0) corner has no threshold and no precision
    return {
        "auc": auc,
        "average_precision": ap,
        "prevalence": float(positives / (positives + negatives)),
        "roc": {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()},
        "pr": {
            "threshold": thresholds[inner].tolist(),
            "precision": precision[inner].tolist(),
            "recall": recall[inner].tolist(),
        },
    }


def calibration(y_hit: NDArray[Any], prob: FloatArray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Reliability on ``bins`` equal-width bins of [0, 1]: mean predicted, observed rate, count.

    Bins are assigned as scikit-learn's ``calibration_curve(strategy="uniform")`` does, so an
    edge value goes to the lower bin; empty bins are left out, as there.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    count = np.bincount(ids, minlength=bins)
    total = np.bincount(ids, weights=prob, minlength=bins)
    hits = np.bincount(ids, weights=np.asarray(y_hit, dtype=np.float64), minlength=bins)
    full = count > 0
    return {
        "predicted": (total[full] / count[full]).tolist(),
        "observed": (hits[full] / count[full]).tolist(),
        "count": count[full].tolist(),
    }


def confusion(y: IntArray, labels: IntArray, k: int) -> list[list[int]]:
    """Counts ``[true][predicted]`` over ``k`` classes."""
    flat = np.bincount(np.asarray(y, dtype=np.intp) * k + np.asarray(labels, dtype=np.intp), minlength=k * k)
    out: list[list[int]] = flat.reshape(k, k).tolist()
    return out


def per_class(matrix: list[list[int]]) -> dict[str, list[float]]:
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined)."""
    conf = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(conf)
    predicted, support = conf.sum(axis=0), conf.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": support.astype(np.int64).tolist(),
    }


def score_histogram(score: FloatArray, group: IntArray, k: int, bins: int = SCORE_BINS) -> list[list[int]]:
    """Counts of ``score`` in ``bins`` equal-width bins of [0, 1], one row per group 0..k-1."""
    ids = np.minimum((np.asarray(score) * bins).astype(np.intp), bins - 1)
    flat = np.bincount(np.asarray(group, dtype=np.intp) * bins + ids, minlength=k * bins)
    out: list[list[int]] = flat.reshape(k, bins).tolist()
    return out


RESIDUAL_LEVELS = (0.01, 0.025, *(round(0.05 * i, 2) for i in range(1, 20)), 0.975, 0.99)
"""Quantile levels of the residuals; the extremes (0 and 1) are one row each and would hide the rest."""


def residuals(y: FloatArray, predicted: dict[str, FloatArray], bins: int = 30) -> dict[str, Any]:
    """Residual (actual − predicted) quantiles and histograms on shared edges, per model.

    The edges span the 0.5–99.5 % range of all residuals so that one outlier does not squash
    the histogram into one bar; what falls outside is counted in ``below`` and ``above``.
    """
    res = {name: y - pred for name, pred in predicted.items()}
    pooled = np.concatenate(list(res.values()))
    low, high = (float(v) for v in np.quantile(pooled, [0.005, 0.995]))
    if not high > low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    qs = np.asarray(RESIDUAL_LEVELS)
    out: dict[str, Any] = {"edges": edges.tolist(), "quantile_levels": qs.tolist(), "models": {}}
    for name, r in res.items():
        counts, _ = np.histogram(r, bins=edges)
        out["models"][name] = {
            "quantiles": np.quantile(r, qs).tolist(),
            "counts": counts.tolist(),
            "below": int((r < low).sum()),
            "above": int((r > high).sum()),
        }
    return out


def binned_means(y: FloatArray, pred: FloatArray, bins: int = 20) -> dict[str, list[float]]:
    """Mean actual against mean predicted in quantile bins of the prediction (a regression's calibration)."""
    order = np.argsort(pred, kind="stable")
    parts = [p for p in np.array_split(order, min(bins, pred.size)) if p.size]
    return {
        "predicted": [float(pred[p].mean()) for p in parts],
        "actual": [float(y[p].mean()) for p in parts],
        "count": [int(p.size) for p in parts],
    }


def top_differences(difference: FloatArray, k: int) -> IntArray:
    """Rows of the ``k`` largest differences, largest first, ties by row number (deterministic)."""
    n = difference.size
    if n == 0 or k <= 0:
        return np.empty(0, dtype=np.intp)
    k = min(k, n)
    # argpartition is O(n); only the k survivors are sorted.
    cut = np.argpartition(-difference, k - 1)[:k] if k < n else np.arange(n)
    threshold = difference[cut].min()
    pool = np.flatnonzero(difference >= threshold)
    ranked = pool[np.lexsort((pool, -difference[pool]))]
    return np.asarray(ranked[:k], dtype=np.intp)
