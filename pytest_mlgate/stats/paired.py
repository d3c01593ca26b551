"""Paired comparisons of a candidate and a baseline scored on the same rows.

Inputs are already validated numpy arrays (see ``pytest_mlgate.data``):

* class labels are integer codes ``0..K-1``; for binary tasks code 1 is the
  positive class;
* binary scores are P(positive) with shape ``(n,)``; multiclass scores are
  probabilities with shape ``(n, K)``;
* regression predictions are floats with shape ``(n,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from .bootstrap import DEFAULT_N_BOOT, draw_replicates, percentile_interval
from .delong import DELTA_LIMITS, auc_interval, delong_paired, delong_single
from .metrics import METRICS, FloatArray, MetricSpec, confusion_metric, row_losses
from .result import Comparison, Estimate, Interval

UserMetric = Callable[[NDArray[np.generic], NDArray[np.generic]], float]

SMALL_SAMPLE_ROWS = 1_000
"""Below this, mean losses use a bootstrap instead of the t-interval."""


def compare(
    metric: str,
    y: NDArray[np.generic],
    candidate: NDArray[np.generic],
    baseline: NDArray[np.generic],
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    boundaries: Sequence[float] = (),
    n_classes: int = 2,
) -> Comparison:
    """Compare a built-in metric; ``boundaries`` are oriented (higher is better)."""
    spec = METRICS[metric]
    raw_bounds = _raw_boundaries(boundaries, spec.higher_is_better)
    if spec.family == "cells":
        return _compare_cells(spec, y, candidate, baseline, rng, confidence, n_boot, raw_bounds, n_classes)
    if spec.family == "auc":
        d = delong_paired(np.asarray(y, dtype=np.intp), _f(candidate), _f(baseline))
        return _normal_comparison(
            spec, d.candidate, d.baseline, d.se, y.shape[0], "DeLong", confidence, limits=DELTA_LIMITS
        )
    if spec.family == "loss":
        return _compare_mean_loss(spec, y, _f(candidate), _f(baseline), rng, confidence, n_boot, raw_bounds)
    if spec.family == "rmse":
        return _compare_rmse(spec, y, _f(candidate), _f(baseline), rng, confidence, n_boot, raw_bounds)
    return _compare_r2(spec, y, _f(candidate), _f(baseline), rng, confidence, n_boot, raw_bounds)


def compare_callable(
    name: str,
    fn: UserMetric,
    y: NDArray[np.generic],
    candidate: NDArray[np.generic],
    baseline: NDArray[np.generic],
    *,
    higher_is_better: bool,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    boundaries: Sequence[float] = (),
) -> Comparison:
    """Paired row bootstrap with a percentile interval for a user's metric."""
    n = y.shape[0]
    cand_value, base_value = float(fn(y, candidate)), float(fn(y, baseline))

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        out = np.empty(k)
        for i in range(k):
            idx = gen.integers(0, n, n)
            out[i] = float(fn(y[idx], candidate[idx])) - float(fn(y[idx], baseline[idx]))
        return out

    reps = draw_replicates(draw, rng, n_boot, confidence, _raw_boundaries(boundaries, higher_is_better))
    return _bootstrapped(name, higher_is_better, cand_value, base_value, reps, n, confidence)


def estimate(
    metric: str,
    y: NDArray[np.generic],
    prediction: NDArray[np.generic],
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    boundaries: Sequence[float] = (),
    n_classes: int = 2,
) -> Estimate:
    """One model's metric with an interval, for absolute floors.

    ``boundaries`` are on the metric's own scale (the floors themselves).
    """
    spec = METRICS[metric]
    n = y.shape[0]
    if spec.family == "auc":
        auc, se = delong_single(np.asarray(y, dtype=np.intp), _f(prediction))
        z = float(sps.norm.ppf(0.5 + confidence / 2.0))
        return Estimate(metric, auc, auc_interval(auc, se, z), n, "DeLong", confidence)
    if spec.family in ("loss", "rmse") and n >= SMALL_SAMPLE_ROWS:
        losses = row_losses(metric, y, _f(prediction))
        mean, se = float(losses.mean()), float(losses.std(ddof=1) / np.sqrt(n))
        t = float(sps.t.ppf(0.5 + confidence / 2.0, n - 1))
        low, high = mean - t * se, mean + t * se
        if spec.family == "rmse":
            return Estimate(
                metric, np.sqrt(mean), Interval(np.sqrt(max(low, 0.0)), np.sqrt(high)), n, "t", confidence
            )
        return Estimate(metric, mean, Interval(low, high), n, "t", confidence)
    value, reps = _single_replicates(spec, y, prediction, rng, confidence, n_boot, boundaries, n_classes)
    return Estimate(metric, value, percentile_interval(reps, confidence), n, "bootstrap", confidence)


def estimate_cell_counts(
    metric: str,
    counts: NDArray[np.integer] | FloatArray,
    n_classes: int,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    boundaries: Sequence[float] = (),
) -> Estimate:
    """``estimate`` of a confusion-cell metric from its K×K counts (``counts[t * K + p]``)."""
    spec = METRICS[metric]
    k = n_classes
    if np.shape(counts) != (k * k,):
        raise ValueError(f"`counts` must have {k * k} cells for {k} classes; got shape {np.shape(counts)}")
    value, reps = _cell_replicates(spec, counts, k, rng, confidence, n_boot, boundaries)
    n = int(np.asarray(counts).sum())
    return Estimate(metric, value, percentile_interval(reps, confidence), n, "bootstrap", confidence)


def _cell_replicates(
    spec: MetricSpec,
    counts_in: NDArray[np.integer] | FloatArray,
    k: int,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    boundaries: Sequence[float],
) -> tuple[float, FloatArray]:
    counts = np.asarray(counts_in, dtype=np.float64)
    n = int(counts.sum())
    square = counts.reshape(k, k)
    present = np.asarray((square.sum(axis=0) + square.sum(axis=1)) > 0)
    value = float(confusion_metric(spec, counts.reshape(1, k, k), 1, present)[0])

    def draw_cells(gen: np.random.Generator, size: int) -> FloatArray:
        conf = gen.multinomial(n, counts / n, size=size).astype(np.float64)
        return confusion_metric(spec, conf.reshape(-1, k, k), 1, present)

    return value, draw_replicates(draw_cells, rng, n_boot, confidence, boundaries)


# --- families -------------------------------------------------------------------------------


def _compare_cells(
    spec: MetricSpec,
    y: NDArray[np.generic],
    cand: NDArray[np.generic],
    base: NDArray[np.generic],
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    raw_bounds: Sequence[float],
    n_classes: int,
) -> Comparison:
    k = n_classes
    y_i, c_i, b_i = (np.asarray(a, dtype=np.intp) for a in (y, cand, base))
    counts = np.bincount((y_i * k + c_i) * k + b_i, minlength=k**3)
    return compare_cell_counts(
        spec.name, counts, k, rng=rng, confidence=confidence, n_boot=n_boot, raw_boundaries=raw_bounds
    )


def compare_cell_counts(
    metric: str,
    counts: NDArray[np.integer] | FloatArray,
    n_classes: int,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_N_BOOT,
    raw_boundaries: Sequence[float] = (),
) -> Comparison:
    """The paired cell bootstrap from the counts of the (true, cand, base) cells alone.

    ``counts[(t * K + c) * K + b]`` rows have true class t, candidate label c and
    baseline label b: a distributed engine can count them and hand them here.
    """
    spec = METRICS[metric]
    k = n_classes
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (k**3,):
        raise ValueError(f"`counts` must have {k**3} cells for {k} classes; got shape {counts.shape}")
    n = int(counts.sum())
    occupied = np.flatnonzero(counts)
    probs = counts[occupied] / n
    true_of, cand_of, base_of = np.unravel_index(occupied, (k, k, k))
    cand_cells, base_cells = _CellMap(true_of * k + cand_of, k), _CellMap(true_of * k + base_of, k)
    full = counts[occupied][None, :]
    # Like scikit-learn, macro averages run over the labels seen in y or in that model's predictions.
    cand_present, base_present = cand_cells.present(full), base_cells.present(full)

    def metric_of(cell_counts: FloatArray, cells: _CellMap, present: NDArray[np.bool_]) -> FloatArray:
        return confusion_metric(spec, cells.confusion(cell_counts), 1, present)

    cand_value = float(metric_of(full, cand_cells, cand_present)[0])
    base_value = float(metric_of(full, base_cells, base_present)[0])

    def draw(gen: np.random.Generator, size: int) -> FloatArray:
        cell_counts = gen.multinomial(n, probs, size=size).astype(np.float64)
        return metric_of(cell_counts, cand_cells, cand_present) - metric_of(
            cell_counts, base_cells, base_present
        )

    reps = draw_replicates(draw, rng, n_boot, confidence, raw_boundaries)
    occupied_counts = counts[occupied]
    pvalue = None
    if spec.name == "accuracy":
        only_cand = int(occupied_counts[(cand_of == true_of) & (base_of != true_of)].sum())
        only_base = int(occupied_counts[(base_of == true_of) & (cand_of != true_of)].sum())
        pvalue = _mcnemar(only_cand, only_base)
    return Comparison(
        metric=spec.name,
        candidate=cand_value,
        baseline=base_value,
        delta=cand_value - base_value,
        ci=percentile_interval(reps, confidence),
        n=n,
        method="paired cell bootstrap" + (", exact McNemar" if pvalue is not None else ""),
        higher_is_better=True,
        confidence=confidence,
        pvalue=pvalue,
        n_boot=reps.size,
        discordant=int(occupied_counts[cand_of != base_of].sum()),
        replicates=reps,
    )


class _CellMap:
    """Sums occupied (true, cand, base) cells into one model's K×K confusion matrices.

    Sparse on purpose: a dense (cells × K²) matrix grows as K⁵.
    """

    def __init__(self, target: NDArray[np.intp], k: int) -> None:
        self.k = k
        self.order = np.argsort(target, kind="stable")
        sorted_target = target[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_target[1:] != sorted_target[:-1]])
        self.slots = sorted_target[self.starts]

    def confusion(self, cell_counts: FloatArray) -> FloatArray:
        summed = np.add.reduceat(cell_counts[:, self.order], self.starts, axis=1)
        out = np.zeros((cell_counts.shape[0], self.k * self.k))
        out[:, self.slots] = summed
        return out.reshape(-1, self.k, self.k)

    def present(self, full: FloatArray) -> NDArray[np.bool_]:
        conf = self.confusion(full)[0]
        return np.asarray((conf.sum(axis=0) + conf.sum(axis=1)) > 0)


def _mcnemar(only_cand: int, only_base: int) -> float:
    if only_cand + only_base == 0:
        return 1.0
    return float(sps.binomtest(only_cand, only_cand + only_base, 0.5).pvalue)


def _compare_mean_loss(
    spec: MetricSpec,
    y: NDArray[np.generic],
    cand: FloatArray,
    base: FloatArray,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    raw_bounds: Sequence[float],
) -> Comparison:
    lc, lb = row_losses(spec.name, y, cand), row_losses(spec.name, y, base)
    diff = lc - lb
    n = diff.size
    cand_value, base_value = float(lc.mean()), float(lb.mean())
    if n >= SMALL_SAMPLE_ROWS:
        se = float(diff.std(ddof=1) / np.sqrt(n))
        return _t_comparison(spec, cand_value, base_value, se, n, confidence)

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        idx = gen.integers(0, n, size=(k, n))
        return np.asarray(diff[idx].mean(axis=1), dtype=np.float64)

    reps = draw_replicates(draw, rng, n_boot, confidence, raw_bounds)
    return _bootstrapped(spec.name, spec.higher_is_better, cand_value, base_value, reps, n, confidence)


def _compare_rmse(
    spec: MetricSpec,
    y: NDArray[np.generic],
    cand: FloatArray,
    base: FloatArray,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    raw_bounds: Sequence[float],
) -> Comparison:
    sc, sb = row_losses("mse", y, cand), row_losses("mse", y, base)
    n = sc.size
    mc, mb = float(sc.mean()), float(sb.mean())
    rc, rb = np.sqrt(mc), np.sqrt(mb)
    if n < SMALL_SAMPLE_ROWS:

        def draw(gen: np.random.Generator, k: int) -> FloatArray:
            idx = gen.integers(0, n, size=(k, n))
            return np.asarray(np.sqrt(sc[idx].mean(axis=1)) - np.sqrt(sb[idx].mean(axis=1)), dtype=np.float64)

        reps = draw_replicates(draw, rng, n_boot, confidence, raw_bounds)
        return _bootstrapped(spec.name, False, float(rc), float(rb), reps, n, confidence)
    # RMSE is the root of a mean: delta method on the pair of mean squared errors.
    grad_c = 0.5 / rc if rc > 0 else 0.0
    grad_b = 0.5 / rb if rb > 0 else 0.0
    influence = grad_c * (sc - mc) - grad_b * (sb - mb)
    se = float(influence.std(ddof=1) / np.sqrt(n))
    return _t_comparison(spec, rc, rb, se, n, confidence, method="paired t (delta method)")


def _compare_r2(
    spec: MetricSpec,
    y: NDArray[np.generic],
    cand: FloatArray,
    base: FloatArray,
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    raw_bounds: Sequence[float],
) -> Comparison:
    columns = _r2_columns(_f(y), cand, base)
    n = columns.shape[1]
    full = _r2_from_sums(columns.sum(axis=1)[None, :], n)
    cand_value, base_value = float(full[0, 0]), float(full[0, 1])

    def draw(gen: np.random.Generator, k: int) -> FloatArray:
        r2 = _r2_from_sums(_resampled_sums(columns, gen, k), n)
        return np.asarray(r2[:, 0] - r2[:, 1], dtype=np.float64)

    reps = draw_replicates(draw, rng, n_boot, confidence, raw_bounds)
    return _bootstrapped(spec.name, True, cand_value, base_value, reps, n, confidence)


def _r2_columns(y: FloatArray, cand: FloatArray, base: FloatArray) -> FloatArray:
    """Per-row terms whose sums give both models' R² (SSE_c, SSE_b, y, y²)."""
    return np.stack([(y - cand) ** 2, (y - base) ** 2, y, y * y])


def _r2_from_sums(sums: FloatArray, n: int) -> FloatArray:
    sst = sums[:, 3] - sums[:, 2] ** 2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([1.0 - sums[:, 0] / sst, 1.0 - sums[:, 1] / sst], axis=1)


def _resampled_sums(columns: FloatArray, gen: np.random.Generator, k: int) -> FloatArray:
    # One replicate at a time keeps memory at O(n) whatever the chunk size.
    n = columns.shape[1]
    sums = np.empty((k, columns.shape[0]))
    for i in range(k):
        weights = np.bincount(gen.integers(0, n, n), minlength=n).astype(np.float64)
        sums[i] = columns @ weights
    return sums


def _single_replicates(
    spec: MetricSpec,
    y: NDArray[np.generic],
    pred: NDArray[np.generic],
    rng: np.random.Generator,
    confidence: float,
    n_boot: int,
    boundaries: Sequence[float],
    n_classes: int,
) -> tuple[float, FloatArray]:
    n = y.shape[0]
    if spec.family == "cells":
        k = n_classes
        y_i, p_i = np.asarray(y, dtype=np.intp), np.asarray(pred, dtype=np.intp)
        return _cell_replicates(
            spec, np.bincount(y_i * k + p_i, minlength=k * k), k, rng, confidence, n_boot, boundaries
        )
    if spec.family == "r2":
        pf = _f(pred)
        columns = _r2_columns(_f(y), pf, pf)

        def draw_r2(gen: np.random.Generator, k: int) -> FloatArray:
            return np.asarray(_r2_from_sums(_resampled_sums(columns, gen, k), n)[:, 0], dtype=np.float64)

        value = float(_r2_from_sums(columns.sum(axis=1)[None, :], n)[0, 0])
        return value, draw_replicates(draw_r2, rng, n_boot, confidence, boundaries)
    losses = row_losses(spec.name, y, _f(pred))
    root = spec.family == "rmse"

    def draw_loss(gen: np.random.Generator, k: int) -> FloatArray:
        means = losses[gen.integers(0, n, size=(k, n))].mean(axis=1)
        return np.asarray(np.sqrt(means) if root else means, dtype=np.float64)

    value = float(np.sqrt(losses.mean()) if root else losses.mean())
    return value, draw_replicates(draw_loss, rng, n_boot, confidence, boundaries)


# --- helpers --------------------------------------------------------------------------------


def _bootstrapped(
    metric: str, higher_is_better: bool, cand: float, base: float, reps: FloatArray, n: int, confidence: float
) -> Comparison:
    """A comparison whose interval is the percentile interval of paired row-bootstrap replicates."""
    return Comparison(
        metric=metric,
        candidate=cand,
        baseline=base,
        delta=cand - base,
        ci=percentile_interval(reps, confidence),
        n=n,
        method="paired row bootstrap",
        higher_is_better=higher_is_better,
        confidence=confidence,
        n_boot=reps.size,
        replicates=reps,
    )


def _f(a: NDArray[np.generic]) -> FloatArray:
    return np.asarray(a, dtype=np.float64)


def _raw_boundaries(oriented: Sequence[float], higher_is_better: bool) -> list[float]:
    return [b if higher_is_better else -b for b in oriented]


def _normal_comparison(
    spec: MetricSpec,
    cand: float,
    base: float,
    se: float,
    n: int,
    method: str,
    confidence: float,
    limits: tuple[float, float] = (-np.inf, np.inf),
) -> Comparison:
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    delta = cand - base
    pvalue = float(2.0 * sps.norm.sf(abs(delta) / se)) if se > 0 else (1.0 if delta == 0 else 0.0)
    return Comparison(
        metric=spec.name,
        candidate=cand,
        baseline=base,
        delta=delta,
        ci=Interval(max(delta - z * se, limits[0]), min(delta + z * se, limits[1])),
        n=n,
        method=method,
        higher_is_better=spec.higher_is_better,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
    )


def _t_comparison(
    spec: MetricSpec,
    cand: float,
    base: float,
    se: float,
    n: int,
    confidence: float,
    method: str = "paired t",
) -> Comparison:
    df = n - 1
    t = float(sps.t.ppf(0.5 + confidence / 2.0, df))
    delta = cand - base
    pvalue = float(2.0 * sps.t.sf(abs(delta) / se, df)) if se > 0 else (1.0 if delta == 0 else 0.0)
    return Comparison(
        metric=spec.name,
        candidate=cand,
        baseline=base,
        delta=delta,
        ci=Interval(delta - t * se, delta + t * se),
        n=n,
        method=method,
        higher_is_better=spec.higher_is_better,
        confidence=confidence,
        pvalue=pvalue,
        se=se,
        df=float(df),
    )
