"""Per-group rates and their disparity, by a stratified paired bootstrap over cell counts.

Each row falls in one of 8 cells per group: (y, candidate's label, baseline's
label). Resampling draws each group's cells from a multinomial with that
group's own size, so groups never change size (fairlearn's bootstrap resamples
the whole frame, so small groups do) and both models see the same rows.
Names follow fairlearn: ``selection_rate``, ``true_positive_rate``, …
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .result import Interval

FloatArray = NDArray[np.float64]

# Cell index = y*4 + candidate*2 + baseline.
_CAND = {"tp": (6, 7), "fn": (4, 5), "fp": (2, 3), "tn": (0, 1)}
_BASE = {"tp": (5, 7), "fn": (4, 6), "fp": (1, 3), "tn": (0, 2)}


def _rate(cells: FloatArray, model: dict[str, tuple[int, int]], metric: str) -> FloatArray:
    tp, fn, fp, tn = (cells[..., a] + cells[..., b] for a, b in (model[k] for k in ("tp", "fn", "fp", "tn")))
    num, den = {
        "selection_rate": (tp + fp, tp + fn + fp + tn),
        "true_positive_rate": (tp, tp + fn),
        "false_negative_rate": (fn, tp + fn),
        "false_positive_rate": (fp, fp + tn),
        "true_negative_rate": (tn, fp + tn),
        "accuracy": (tp + tn, tp + fn + fp + tn),
        "precision": (tp, tp + fp),
    }[metric]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), dtype=np.float64)


@dataclass(frozen=True)
class GroupRate:
    group: str
    n: int
    candidate: float
    candidate_ci: Interval
    baseline: float | None
    baseline_ci: Interval | None
    sufficient: bool
    reason: str = ""


@dataclass(frozen=True)
class Disparity:
    """Disparity of one metric across the sufficient groups."""

    metric: str
    groups: tuple[GroupRate, ...]
    difference: float
    difference_ci: Interval
    ratio: float
    ratio_ci: Interval
    baseline_difference: float | None
    baseline_difference_ci: Interval | None
    growth_ci: Interval | None
    """Interval of (candidate difference − baseline difference)."""
    n_boot: int
    method: str = "stratified paired cell bootstrap"

    @property
    def insufficient(self) -> tuple[GroupRate, ...]:
        return tuple(g for g in self.groups if not g.sufficient)

    def __str__(self) -> str:
        lines = [f"Disparity of {self.metric} across {len(self.groups)} groups ({self.n_boot} resamples)"]
        lines.append(f"  difference: {self.difference:.4f}  CI {self.difference_ci}")
        lines.append(f"  ratio:      {self.ratio:.4f}  CI {self.ratio_ci}")
        for g in self.groups:
            flag = "" if g.sufficient else f"  insufficient_data: {g.reason}"
            lines.append(f"  {g.group:>16}: {g.candidate:.4f} {g.candidate_ci} n={g.n}{flag}")
        return "\n".join(lines)


def group_cells(
    groups: NDArray[np.intp],
    n_groups: int,
    y: NDArray[np.intp],
    cand: NDArray[np.intp],
    base: NDArray[np.intp],
) -> FloatArray:
    """Counts of the 8 (y, candidate, baseline) cells in each group: shape ``(groups, 8)``."""
    index = groups * 8 + y * 4 + cand * 2 + base
    return np.bincount(index, minlength=n_groups * 8).reshape(n_groups, 8).astype(np.float64)


def disparities(
    cells: FloatArray,
    names: Sequence[str],
    metrics: Sequence[str],
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    confidence: float = 0.95,
    min_group_size: int = 30,
    max_half_width: float = 0.1,
    with_baseline: bool = True,
) -> list[Disparity]:
    """Per-group rates with intervals and the disparity of each metric, from one set of draws."""
    sizes = cells.sum(axis=1)
    draws = np.empty((n_boot, *cells.shape))
    for g in range(cells.shape[0]):
        n = int(sizes[g])
        draws[:, g, :] = rng.multinomial(n, cells[g] / n, size=n_boot) if n > 0 else 0.0
    limits = GroupLimits(confidence, min_group_size, max_half_width)
    return [
        summarize(
            metric,
            names,
            sizes,
            (_rate(cells, _CAND, metric), _rate(draws, _CAND, metric)),
            (_rate(cells, _BASE, metric), _rate(draws, _BASE, metric)) if with_baseline else None,
            limits,
        )
        for metric in metrics
    ]


def callable_disparity(
    name: str,
    fn: Callable[[NDArray[Any], NDArray[Any]], float],
    groups: NDArray[np.intp],
    names: Sequence[str],
    y: NDArray[Any],
    cand: NDArray[Any],
    base: NDArray[Any] | None,
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    confidence: float = 0.95,
    min_group_size: int = 30,
    max_half_width: float = 0.1,
) -> Disparity:
    """A user's metric per group: resample rows within each group, the same rows for both models."""
    members = [np.flatnonzero(groups == g) for g in range(len(names))]
    sizes = np.array([m.size for m in members], dtype=np.float64)
    models = [cand] if base is None else [cand, base]
    points = np.full((len(models), len(names)), np.nan)
    reps = np.full((len(models), n_boot, len(names)), np.nan)
    for g, rows in enumerate(members):
        if rows.size == 0:
            continue
        for k, pred in enumerate(models):
            points[k, g] = fn(y[rows], pred[rows])
        for b in range(n_boot):
            pick = rows[rng.integers(0, rows.size, rows.size)]
            for k, pred in enumerate(models):
                reps[k, b, g] = fn(y[pick], pred[pick])
    limits = GroupLimits(confidence, min_group_size, max_half_width)
    baseline = None if base is None else (points[1], reps[1])
    result = summarize(name, names, sizes, (points[0], reps[0]), baseline, limits)
    return replace(result, method="stratified paired row bootstrap")


@dataclass(frozen=True)
class GroupLimits:
    confidence: float = 0.95
    min_group_size: int = 30
    max_half_width: float = 0.1


def summarize(
    metric: str,
    names: Sequence[str],
    sizes: FloatArray,
    candidate: tuple[FloatArray, FloatArray],
    baseline: tuple[FloatArray, FloatArray] | None,
    limits: GroupLimits,
) -> Disparity:
    """Per-group intervals, sufficiency, and disparity intervals from points and replicates."""
    alpha = 1.0 - limits.confidence
    qs = [alpha / 2.0, 1.0 - alpha / 2.0]
    point_c, reps_c = candidate
    point_b, reps_b = baseline if baseline is not None else candidate
    ci_c, ci_b = _nanquantiles(reps_c, qs), _nanquantiles(reps_b, qs)
    rates = []
    for g, name in enumerate(names):
        half = (ci_c[1, g] - ci_c[0, g]) / 2.0
        if sizes[g] < limits.min_group_size:
            ok, why = False, f"n={int(sizes[g])} < {limits.min_group_size}"
        elif not np.isfinite(point_c[g]):
            ok, why = False, f"{metric} is undefined in this group (no rows in its denominator)"
        elif not half <= limits.max_half_width:
            ok, why = False, f"interval half-width {half:.3f} > {limits.max_half_width}"
        else:
            ok, why = True, ""
        rates.append(
            GroupRate(
                group=name,
                n=int(sizes[g]),
                candidate=float(point_c[g]),
                candidate_ci=Interval(float(ci_c[0, g]), float(ci_c[1, g])),
                baseline=float(point_b[g]) if baseline is not None else None,
                baseline_ci=Interval(float(ci_b[0, g]), float(ci_b[1, g])) if baseline is not None else None,
                sufficient=ok,
                reason=why,
            )
        )
    keep = np.array([r.sufficient for r in rates], dtype=bool)
    reps_diff_c, reps_diff_b = _spread(reps_c[:, keep]), _spread(reps_b[:, keep])
    diff_c, ratio_c = _simultaneous_bounds(point_c[keep], reps_c[:, keep], limits.confidence)
    diff_b, _ = _simultaneous_bounds(point_b[keep], reps_b[:, keep], limits.confidence)
    return Disparity(
        metric=metric,
        groups=tuple(rates),
        difference=float(_spread(point_c[keep])),
        difference_ci=diff_c,
        ratio=float(_ratio(point_c[keep])),
        ratio_ci=ratio_c,
        baseline_difference=float(_spread(point_b[keep])) if baseline is not None else None,
        baseline_difference_ci=diff_b if baseline is not None else None,
        growth_ci=_interval(reps_diff_c - reps_diff_b, qs) if baseline is not None else None,
        n_boot=reps_c.shape[0],
    )


def _simultaneous_bounds(point: FloatArray, reps: FloatArray, confidence: float) -> tuple[Interval, Interval]:
    """Intervals for max−min and min/max from a simultaneous band over the groups.

    The percentile bootstrap of a range is biased upwards (more so with more
    groups), so equal groups would fail. Instead: a max-|z| bootstrap band
    p_g ± c·se_g holds for all groups at once with the stated confidence, and
    the range's bounds follow from it.
    """
    nan = Interval(float("nan"), float("nan"))
    if point.size < 2:
        return nan, nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(reps, axis=0, ddof=1)
    z = np.abs(reps - point) / np.where(se > 0, se, np.inf)
    c = float(np.nanquantile(np.nanmax(z, axis=1), confidence)) if np.isfinite(z).any() else 0.0
    low = np.clip(point - c * se, 0.0, 1.0)
    high = np.clip(point + c * se, 0.0, 1.0)
    difference = Interval(max(0.0, float(low.max() - high.min())), float(high.max() - low.min()))
    top_high, top_low = float(high.max()), float(low.max())
    ratio_low = float(low.min() / top_high) if top_high > 0 else 1.0
    ratio_high = min(1.0, float(high.min() / top_low)) if top_low > 0 else 1.0
    return difference, Interval(ratio_low, ratio_high)


def _nanquantiles(reps: FloatArray, qs: list[float]) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        all_nan = np.all(np.isnan(reps), axis=0)
        filled = np.where(all_nan[None, :], 0.0, reps)
        out = np.nanquantile(filled, qs, axis=0)
    out[:, all_nan] = np.nan
    return np.asarray(out, dtype=np.float64)


def _spread(values: FloatArray) -> FloatArray:
    if values.shape[-1] < 2:
        return np.full(values.shape[:-1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicates stay NaN
        return np.asarray(np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1), dtype=np.float64)


def _ratio(values: FloatArray) -> FloatArray:
    if values.shape[-1] < 2:
        return np.full(values.shape[:-1], np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        high, low = np.nanmax(values, axis=-1), np.nanmin(values, axis=-1)
        return np.asarray(np.where(high > 0, low / np.where(high > 0, high, 1.0), 1.0), dtype=np.float64)


def _interval(reps: FloatArray, qs: list[float]) -> Interval:
    finite = reps[np.isfinite(reps)]
    if finite.size == 0:
        return Interval(float("nan"), float("nan"))
    low, high = np.quantile(finite, qs)
    return Interval(float(low), float(high))
