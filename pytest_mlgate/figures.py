"""The report's ``plots`` section: what the HTML figures need from the per-row predictions.

The JSON report carries verdicts and intervals, not rows, yet ROC curves, confusion
matrices and residuals need every prediction. So at gate time, while the rows are
in memory, they are summarised here into a bounded section (a few hundred numbers
per figure, at most ``MAX_SLICE_LEVELS`` levels per slice column, ``TOP_ROWS``
disagreeing rows), and ``mlgate report --format html`` redraws from that alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError
from .stats import curves
from .stats.delong import DELTA_LIMITS, MIN_PER_CLASS
from .stats.metrics import METRICS
from .stats.paired import _normal_comparison, compare, estimate
from .stats.result import Unmeasurable
from .stats.rng import stream

if TYPE_CHECKING:
    import pandas as pd

    from .config import GateConfig
    from .data import EvalData, Predictions

TOP_ROWS = 10
MAX_CLASSES = 30
"""More classes than this make an unreadable matrix and a large report: the per-class figures are left out."""
MAX_SLICE_COLUMNS = 8
MAX_SLICE_LEVELS = 10
NUMERIC_SLICE_BINS = 5
MIN_SLICE_ROWS = 30
"""As fairness's default `min_group_size`: a smaller slice is listed, never measured."""
SLICE_METRICS = 4
SLICE_BOOT = 500
"""Replicates per slice interval: slices are context for a reader, not what the gate decides on."""
SAMPLE_POINTS = 400
MAX_SLICE_ROWS = 100_000
"""A larger slice is measured on a seeded sample of this many rows (metrics whose cost grows faster than
the rows, or by B × n): its interval is already narrow, and the slices' paired comparisons would
otherwise cost as much again as the gate's own. Cell-count metrics and mean losses use every row."""
BINNED_SLICE_ROWS = 20_000
"""A larger slice's paired binary ROC AUC is DeLong on score bins over all its rows (``_binned_auc``)."""
_TEXT = 80


def report_plots(config: GateConfig, data: EvalData) -> dict[str, Any]:
    """The ``plots`` section for a gate run with at least a candidate; ``{}`` when there is nothing to draw."""
    models = {p.identity["role"]: p for p in (data.candidate, data.baseline) if p is not None}
    if not models or data.n == 0:
        return {}
    out: dict[str, Any] = {"task": data.task, "rows": data.n, "models": {}}
    if data.task == "regression":
        y = np.asarray(data.y, dtype=np.float64)
        values = {role: p.values for role, p in models.items() if p.values is not None}
        if values:
            out["residuals"] = curves.residuals(y, values)
            out["models"] = {role: {"binned": curves.binned_means(y, v)} for role, v in values.items()}
            out["sample"] = _sample(config, y, values)
    else:
        out["classes"] = [str(c) for c in data.classes]
        y = np.asarray(data.y, dtype=np.intp)
        for role, p in models.items():
            out["models"][role] = _classifier(config, data, y, p)
    slices = _slice_columns(config, data.frame)
    if slices:
        out["slices"] = _slices(config, data, slices)
    if len(models) == 2:
        from .data import _require_columns

        if config.data.id is not None:
            _require_columns(data.frame, [config.data.id], f"data file `{config.data.path.name}`", "data.id")
        rows = _disagreements(data, slices, config.data.id)
        if rows:
            out["disagreements"] = rows
    return out


def _classifier(config: GateConfig, data: EvalData, y: Any, p: Predictions) -> dict[str, Any]:
    k = data.n_classes
    figures: dict[str, Any] = {}
    if p.labels is not None and k <= MAX_CLASSES:
        matrix = curves.confusion(y, p.labels, k)
        figures["confusion"] = matrix
        figures["per_class"] = curves.per_class(matrix)
    if p.scores is None:
        return figures
    if data.task == "binary":
        found = curves.roc_pr(y, p.scores)
        for key in ("roc", "pr"):
            if key in found:
                found[key] = {k: _rounded(v) for k, v in found[key].items()}
        figures.update(found)
        figures["calibration"] = curves.calibration(y, p.scores)
        figures["scores"] = curves.score_histogram(p.scores, y, 2)
    else:
        # Top-label reliability: the confidence of the predicted class against how often it is right.
        top = p.scores.argmax(axis=1)
        confidence = p.scores[np.arange(y.size), top]
        figures["calibration"] = curves.calibration(top == y, confidence)
        if k <= MAX_CLASSES:
            figures["scores"] = curves.score_histogram(p.scores[np.arange(y.size), y], y, k)
    figures["score_bins"] = curves.SCORE_BINS
    return figures


def _sample(config: GateConfig, y: Any, values: dict[str, Any]) -> dict[str, Any]:
    n = y.size
    rows = np.arange(n)
    if n > SAMPLE_POINTS:
        rows = np.sort(stream(config.seed, "plots:sample").choice(n, SAMPLE_POINTS, replace=False))
    return {
        "row": rows.tolist(),
        "actual": _rounded(y[rows].tolist()),
        **{r: _rounded(v[rows].tolist()) for r, v in values.items()},
    }


def _rounded(values: list[float]) -> list[float]:
    """Points to draw, at 6 significant digits: a pixel needs 4, and the report stays half the size."""
    return [float(f"{v:.6g}") for v in values]


# --- slices ---------------------------------------------------------------------------------


def _slice_columns(config: GateConfig, frame: pd.DataFrame) -> list[str]:
    from .data import _require_columns

    named = list(getattr(config, "slices", ()) or ())
    _require_columns(frame, named, f"data file `{config.data.path.name}`", "slices")
    if config.fairness is not None:
        named += [c for c in config.fairness.sensitive if c in frame.columns]
    return list(dict.fromkeys(named))[:MAX_SLICE_COLUMNS]


def _levels(column: pd.Series) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Level codes per row and their names: quantile bins of a many-valued number, else the top categories."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and column.nunique(dropna=True) > MAX_SLICE_LEVELS:
        x = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(x)
        edges = np.unique(np.nanquantile(x, np.linspace(0, 1, NUMERIC_SLICE_BINS + 1)))
        codes = np.searchsorted(edges[1:-1], x, side="right")
        names = [
            f"[{edges[i]:.4g}, {edges[i + 1]:.4g}{']' if i == edges.size - 2 else ')'}"
            for i in range(edges.size - 1)
        ]
    else:
        # factorize hashes each value once: a Python loop over a million rows would take seconds.
        found, uniques = pd.factorize(column, use_na_sentinel=True)
        missing = found < 0  # isna() on strings would cost another pass as long as this one
        counts = np.bincount(found[found >= 0], minlength=len(uniques))
        ranked = sorted(range(len(uniques)), key=lambda i: (-counts[i], str(uniques[i])))
        kept = ranked[: MAX_SLICE_LEVELS - 1]
        names = [str(uniques[i])[:_TEXT] for i in kept]
        lookup = np.full(len(uniques) + 1, len(kept), dtype=np.intp)  # the last slot: missing values
        lookup[kept] = np.arange(len(kept))
        codes = lookup[found]
        if len(ranked) > len(kept):
            names.append("other")
    if missing.any():
        codes = np.where(missing, len(names), codes)
        names.append("missing")
    return codes, names


def _slices(config: GateConfig, data: EvalData, columns: Sequence[str]) -> list[dict[str, Any]]:
    metrics = [m for m in config.metrics if m.callable is None and m.name in METRICS][:SLICE_METRICS]
    out: list[dict[str, Any]] = []
    for column in columns:
        codes, names = _levels(data.frame[column])
        for level, name in enumerate(names):
            rows = np.flatnonzero(codes == level)
            taken: dict[tuple[bool, str, str], Any] = {}  # the level's rows of y and predictions, taken once
            for metric in metrics:
                out.append(_slice_row(config, data, column, name, rows, metric.name, taken))
    return out


def _slice_row(
    config: GateConfig,
    data: EvalData,
    column: str,
    level: str,
    rows: Any,
    metric: str,
    taken: dict[tuple[bool, str, str], Any],
) -> dict[str, Any]:
    spec = METRICS[metric]
    row: dict[str, Any] = {"column": column, "level": level, "n": int(rows.size), "metric": metric}
    row["higher_is_better"] = spec.higher_is_better
    if rows.size < MIN_SLICE_ROWS:
        row["note"] = f"only {rows.size} rows (at least {MIN_SLICE_ROWS} are measured)"
        return row
    needs = "values" if data.task == "regression" else spec.needs
    assert data.candidate is not None
    if rows.size > BINNED_SLICE_ROWS and _binned_auc(config, data, rows, metric, row):
        return row
    # Cell counts and mean losses cost O(n) whatever the size: only the others are sampled.
    sampled = rows.size > MAX_SLICE_ROWS and (
        data.task == "regression" or spec.family not in ("cells", "loss")
    )
    if sampled:
        sampler = stream(config.seed, f"slice-sample:{column}={level}")
        rows = np.sort(sampler.choice(rows, MAX_SLICE_ROWS, replace=False))
        row["sampled"] = MAX_SLICE_ROWS

    def take(role: str, array: Any) -> Any:
        key = (sampled, role, needs)
        if key not in taken:
            taken[key] = array()[rows]
        return taken[key]

    try:
        cand = take("candidate", lambda: data.candidate.for_needs(needs, metric))
        y = take("y", lambda: data.y)
        rng = stream(config.seed, f"slice:{column}={level}:{metric}")
        n_boot = min(config.n_boot, SLICE_BOOT)
        k = max(data.n_classes, 2)
        if data.baseline is None:
            est = estimate(metric, y, cand, rng=rng, confidence=config.confidence, n_boot=n_boot, n_classes=k)
            row.update(candidate=est.value, candidate_ci=list(est.ci))
        else:
            base = take("baseline", lambda: data.baseline.for_needs(needs, metric))
            c = compare(
                metric, y, cand, base, rng=rng, confidence=config.confidence, n_boot=n_boot, n_classes=k
            )
            row.update(candidate=c.candidate, baseline=c.baseline, delta=c.delta, ci=list(c.ci))
    except ConfigError:
        raise
    except (Unmeasurable, ValueError, ZeroDivisionError, FloatingPointError) as exc:
        row["note"] = f"not measurable: {exc}"[:200]
    return row


def _binned_auc(config: GateConfig, data: EvalData, rows: Any, metric: str, row: dict[str, Any]) -> bool:
    """A large slice's paired binary ROC AUC by DeLong on score bins: all its rows, O(n), no sort.

    False (and ``row`` untouched) where that does not apply or its area error bound is
    too wide; the caller then measures a sample as before.
    """
    cand, base = data.candidate, data.baseline
    if data.task != "binary" or METRICS[metric].family != "auc" or cand is None or base is None:
        return False
    if cand.scores is None or base.scores is None:
        return False
    y = data.y[rows]
    positives = int(np.count_nonzero(y == 1))
    if min(positives, y.size - positives) < MIN_PER_CLASS:
        return False
    c, b, se, bound = curves.binned_paired_auc(y, cand.scores[rows], base.scores[rows])
    if bound > curves.MAX_AREA_ERROR:
        return False
    found = _normal_comparison(
        METRICS[metric], c, b, se, int(y.size), "DeLong", config.confidence, limits=DELTA_LIMITS
    )
    row.update(candidate=c, baseline=b, delta=found.delta, ci=list(found.ci))
    row["binned"] = {"bins": curves.CURVE_BINS, "auc_error_bound": bound}
    return True


# --- disagreements --------------------------------------------------------------------------


def _disagreements(data: EvalData, slices: Sequence[str], id_column: str | None) -> list[dict[str, Any]]:
    cand, base = data.candidate, data.baseline
    assert cand is not None and base is not None
    classes = data.classes
    if data.task == "regression":
        assert cand.values is not None and base.values is not None
        diff = np.abs(cand.values - base.values)
    elif cand.scores is not None and base.scores is not None:
        # Binary: the gap in P(positive); multiclass: total variation between the two distributions.
        gap = np.abs(cand.scores - base.scores)
        diff = gap if gap.ndim == 1 else 0.5 * gap.sum(axis=1)
    else:
        assert cand.labels is not None and base.labels is not None
        diff = (cand.labels != base.labels).astype(np.float64)
    diff = np.where(diff > 0, diff, -1.0)  # equal predictions are no disagreement, whatever k asks for
    picked = [int(r) for r in curves.top_differences(diff, TOP_ROWS) if diff[r] > 0]
    out = []
    for r in picked:
        entry: dict[str, Any] = {"row": r, "difference": float(diff[r])}
        if id_column is not None:
            entry["id"] = str(data.frame[id_column].iloc[r])[:_TEXT]
        if cand.values is not None and base.values is not None:
            entry.update(
                actual=float(data.y[r]), candidate=float(cand.values[r]), baseline=float(base.values[r])
            )
        else:
            entry["actual"] = classes[int(data.y[r])]
            for role, p in (("candidate", cand), ("baseline", base)):
                entry[role] = classes[int(p.labels[r])] if p.labels is not None else None
                if p.scores is not None:
                    score = p.scores[r] if p.scores.ndim == 1 else p.scores[r].max()
                    entry[f"{role}_score"] = float(score)
        if slices:
            entry["values"] = {c: str(data.frame[c].iloc[r])[:_TEXT] for c in slices}
        out.append(entry)
    return out
