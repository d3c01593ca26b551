"""The metrics the gate knows, and their point values.

Names follow scikit-learn. Every metric belongs to a *family* that decides how
its interval is computed (DESIGN §3): confusion-cell bootstrap, DeLong, paired
t on per-row losses, or a row bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Family = Literal["cells", "auc", "loss", "rmse", "r2", "callable"]
Needs = Literal["labels", "scores", "values"]
Task = Literal["binary", "multiclass", "regression"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class MetricSpec:
    """What the engine needs to know about a metric."""

    name: str
    family: Family
    needs: Needs
    higher_is_better: bool
    tasks: frozenset[str]
    average: Literal["binary", "macro", "micro"] | None = None


_CLS = frozenset({"binary", "multiclass"})
_BIN = frozenset({"binary"})
_MC = frozenset({"multiclass"})
_REG = frozenset({"regression"})


def _cells(name: str, average: Literal["binary", "macro", "micro"], tasks: frozenset[str]) -> MetricSpec:
    return MetricSpec(name, "cells", "labels", True, tasks, average)


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _cells("accuracy", "micro", _CLS),
        _cells("precision", "binary", _BIN),
        _cells("recall", "binary", _BIN),
        _cells("f1", "binary", _BIN),
        _cells("precision_macro", "macro", _CLS),
        _cells("recall_macro", "macro", _CLS),
        _cells("f1_macro", "macro", _CLS),
        _cells("precision_micro", "micro", _MC),
        _cells("recall_micro", "micro", _MC),
        _cells("f1_micro", "micro", _MC),
        MetricSpec("roc_auc", "auc", "scores", True, _BIN),
        MetricSpec("roc_auc_ovr", "auc", "scores", True, _MC),
        MetricSpec("log_loss", "loss", "scores", False, _CLS),
        MetricSpec("brier", "loss", "scores", False, _CLS),
        MetricSpec("mae", "loss", "values", False, _REG),
        MetricSpec("mse", "loss", "values", False, _REG),
        MetricSpec("rmse", "rmse", "values", False, _REG),
        MetricSpec("r2", "r2", "values", True, _REG),
    )
}


def confusion_metric(
    spec: MetricSpec, conf: FloatArray, pos_index: int, present: NDArray[np.bool_] | None = None
) -> FloatArray:
    """Metric value from confusion matrices ``conf[..., true, pred]`` (batched).

    Zero divisions give 0, as scikit-learn's default ``zero_division`` does.
    ``present`` limits a macro average to the classes seen in y or the predictions.
    """
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    if spec.name == "accuracy":
        return np.asarray(tp.sum(axis=-1) / conf.sum(axis=(-2, -1)), dtype=np.float64)
    kind = spec.name.split("_")[0]
    predicted = conf.sum(axis=-2)
    actual = conf.sum(axis=-1)
    if spec.average == "micro":
        tp, predicted, actual = tp.sum(axis=-1), predicted.sum(axis=-1), actual.sum(axis=-1)
    elif spec.average == "binary":
        tp, predicted, actual = tp[..., pos_index], predicted[..., pos_index], actual[..., pos_index]
    if kind == "precision":
        value = _safe_div(tp, predicted)
    elif kind == "recall":
        value = _safe_div(tp, actual)
    else:
        value = _safe_div(2.0 * tp, predicted + actual)
    if spec.average == "macro":
        if present is not None:
            value = value[..., present]
        return np.asarray(value.mean(axis=-1), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def _safe_div(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def row_losses(name: str, y: NDArray[np.generic], pred: FloatArray) -> FloatArray:
    """Per-row losses whose mean is the metric (log loss, Brier, MAE, MSE)."""
    if name == "mae":
        return np.abs(np.asarray(y, dtype=np.float64) - pred)
    if name in ("mse", "rmse"):
        return (np.asarray(y, dtype=np.float64) - pred) ** 2
    codes = np.asarray(y, dtype=np.intp)
    if pred.ndim == 1:
        # Binary: pred is P(positive), codes are 1 for positive.
        p_true = np.where(codes == 1, pred, 1.0 - pred)
        if name == "brier":
            return np.asarray((codes - pred) ** 2, dtype=np.float64)
    else:
        p_true = pred[np.arange(pred.shape[0]), codes]
        if name == "brier":
            onehot = np.zeros_like(pred)
            onehot[np.arange(pred.shape[0]), codes] = 1.0
            return np.asarray(((pred - onehot) ** 2).sum(axis=1), dtype=np.float64)
    # Same clipping as scikit-learn's log_loss, so point values agree.
    eps = float(np.finfo(np.float64).eps)
    return np.asarray(-np.log(np.clip(p_true, eps, 1.0)), dtype=np.float64)
