"""Compact curve data for the report's figures: ROC, precision-recall, calibration, confusion, residuals.

Pure numpy. Each function summarises per-row predictions into a few hundred
numbers, so the JSON report can carry them and the HTML page can be redrawn
from the report alone. Points that are kept lie exactly on the full curve (a
subset of scikit-learn's ``drop_intermediate=False`` points), so what is drawn
is the curve itself, thinned, never a smoothed or interpolated one.

Above ``EXACT_CURVE_ROWS`` rows the ROC and PR curves come from counts on
``CURVE_BINS`` equal-width score bins (one ``bincount``, O(n)) instead of a sort.
Each bin's lower edge is a threshold of the full curve, so the points are still
exact points of it; only the areas treat the scores within one bin as tied. That
error is bounded from the same counts and reported (``curve``); a bound over
``MAX_AREA_ERROR`` (scores crowded into few bins) falls back to the exact sort.
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
EXACT_CURVE_ROWS = 50_000
"""Up to this many rows the curves come from a full sort (a few milliseconds); above it, from bins."""
CURVE_BINS = 2**16
MAX_AREA_ERROR = 1e-4
"""The binned AUC and AP are used only when both are provably this close to the exact ones."""


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


def _binned(
    y: IntArray, score: FloatArray, bins: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """As ``_ranked`` at the thresholds ``b / bins`` (non-empty bins only), plus per-bin positives, negatives.

    ``bins`` is a power of two, so ``score * bins`` is exact and a score lands in bin ``b``
    exactly when ``b / bins <= score``: the counts above each edge are the full curve's.
    """
    ids = np.minimum((score * bins).astype(np.intp), bins - 1)
    counts = np.bincount(ids * 2 + (y == 1), minlength=2 * bins).reshape(bins, 2)[::-1]
    full = counts.sum(axis=1) > 0
    neg, pos = counts[full, 0].astype(np.float64), counts[full, 1].astype(np.float64)
    edges = (np.arange(bins - 1, -1, -1, dtype=np.float64) / bins)[full]
    return np.cumsum(pos), np.cumsum(neg), edges, np.stack([pos, neg])


def _area_error_bounds(tps: FloatArray, fps: FloatArray, per_bin: FloatArray) -> tuple[float, float]:
    """Largest possible |binned − exact| of the AUC and of the average precision.

    AUC: only a positive and a negative in the same bin can be ordered either way; the
    binned curve gives each such pair half credit, the exact one 0, ½ or 1. AP: within a
    bin every recall step's precision lies between the precision after its first
    positive with all its negatives ranked ahead and the precision with all its
    positives ranked ahead; the binned curve uses one value from that range.
    """
    pos, neg = per_bin
    positives, negatives = tps[-1], fps[-1]
    auc = 0.5 * float(np.sum(pos * neg) / (positives * negatives))
    tp_before, fp_before = tps - pos, fps - neg
    highest = tps / np.maximum(tps + fp_before, 1.0)
    lowest = (tp_before + 1.0) / (tp_before + fp_before + 1.0 + neg)
    ap = float(np.sum(np.where(pos > 0, pos / positives * (highest - lowest), 0.0)))
    return auc, ap


def binned_paired_auc(
    y: IntArray, cand: FloatArray, base: FloatArray, bins: int = CURVE_BINS
) -> tuple[float, float, float, float]:
    """Fast DeLong's paired AUCs on ``bins`` score bins in O(n + bins), no sort.

    Returns the two AUCs of the binned scores, the standard error of their difference
    (DeLong's, exactly as on scores rounded down to the bin edges), and the largest
    possible |binned − exact| of either AUC (see ``_area_error_bounds``).
    """
    positive = np.asarray(y) == 1
    m, n = int(positive.sum()), int((~positive).sum())
    v10, v01, aucs, bound = [], [], [], 0.0
    for score in (cand, base):
        ids = np.minimum((np.asarray(score, dtype=np.float64) * bins).astype(np.intp), bins - 1)
        pos_ids, neg_ids = ids[positive], ids[~positive]
        pos_count = np.bincount(pos_ids, minlength=bins).astype(np.float64)
        neg_count = np.bincount(neg_ids, minlength=bins).astype(np.float64)
        # A row's placement: the share of the other class it outranks, half for those in its bin.
        below = np.cumsum(neg_count) - 0.5 * neg_count
        above = m - np.cumsum(pos_count) + 0.5 * pos_count
        v10.append(below[pos_ids] / n)
        v01.append(above[neg_ids] / m)
        aucs.append(float(v10[-1].mean()))
        bound = max(bound, 0.5 * float(np.sum(pos_count * neg_count)) / (m * n))
    var = np.var(v10[0] - v10[1], ddof=1) / m + np.var(v01[0] - v01[1], ddof=1) / n
    return aucs[0], aucs[1], float(np.sqrt(max(var, 0.0))), bound


def roc_pr(
    y: IntArray,
    score: FloatArray,
    max_points: int = MAX_CURVE_POINTS,
    exact_rows: int = EXACT_CURVE_ROWS,
    bins: int = CURVE_BINS,
    max_error: float = MAX_AREA_ERROR,
) -> dict[str, Any]:
    """ROC and precision-recall points of one binary scorer (``y`` in {0, 1}), with AUC and AP.

    The area and average precision come from the full (or binned, see the module) curves, not
    the thinned points. ``curve`` says which, with the binned areas' error bounds.
    """
    y, score = np.asarray(y, dtype=np.intp), np.asarray(score, dtype=np.float64)
    method: dict[str, Any] = {"method": "exact"}
    found = None
    if score.size > max(exact_rows, 0) and score.min() >= 0.0 and score.max() <= 1.0:
        tps, fps, thresholds, per_bin = _binned(y, score, bins)
        if tps[-1] > 0 and fps[-1] > 0:
            auc_bound, ap_bound = _area_error_bounds(tps, fps, per_bin)
            if max(auc_bound, ap_bound) <= max_error:
                found = tps, fps, thresholds
                method = {
                    "method": "binned",
                    "bins": bins,
                    "auc_error_bound": auc_bound,
                    "average_precision_error_bound": ap_bound,
                }
    tps, fps, thresholds = found if found is not None else _ranked(y, score)
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
        "curve": method,
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
    prob = np.asarray(prob, dtype=np.float64)
    # As searchsorted(edges[1:-1], prob), without its passes per edge level over every row: the floor
    # is at most one bin off (rounding, and an edge value that belongs to the lower bin).
    ids = np.minimum((prob * bins).astype(np.intp), bins - 1)
    ids -= (ids > 0) & (prob <= edges[ids])
    ids += (ids < bins - 1) & (prob > edges[ids + 1])
    split = np.bincount(ids * 2 + np.asarray(y_hit, dtype=np.intp), minlength=2 * bins).reshape(bins, 2)
    count, hits = split.sum(axis=1), split[:, 1]
    total = np.bincount(ids, weights=prob, minlength=bins)
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
