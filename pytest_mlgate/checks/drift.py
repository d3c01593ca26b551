"""The drift check: every reference column against the current data."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import DriftConfig
from ..errors import DataError
from ..io.tables import iter_table_chunks
from ..profile import ColumnProfile, Profile, build_profile, category_counts, load_profile
from ..results import CheckResult, Status
from ..stats.drift import DriftStats, benjamini_hochberg, compare_counts, quantile_shift, sorted_counts

if TYPE_CHECKING:
    import pandas as pd


def reference_profile(path: Path) -> Profile:
    """A stored profile (.json), or one built in chunks from a data file."""
    if path.suffix.lower() == ".json":
        return load_profile(path)
    if not path.exists():
        raise DataError(f"drift reference file `{path}` does not exist")
    return build_profile(lambda: iter_table_chunks(path, what="drift reference"), source=str(path))


def run_drift(
    cfg: DriftConfig, current: pd.DataFrame, target: str, *, share_counts_warnings: bool = True
) -> list[CheckResult]:
    """Per-column drift and the ``drift:share`` check.

    ``share_counts_warnings=False`` counts only failed columns in the share: a
    monitor that watches two columns would otherwise retrain on one warning.
    """
    columns = set(current.columns)

    def measure(prof: ColumnProfile, name: str) -> tuple[DriftStats, dict[str, Any]]:
        if name not in columns:
            raise DataError(f"column `{name}` is in the reference but missing from the current data")
        return _column_drift(prof, current[name])

    return drift_checks(cfg, measure, target, share_counts_warnings=share_counts_warnings)


ColumnDrift = Callable[[ColumnProfile, str], tuple[DriftStats, dict[str, Any]]]


def drift_checks(
    cfg: DriftConfig, measure: ColumnDrift, target: str, *, share_counts_warnings: bool = True
) -> list[CheckResult]:
    """``run_drift`` with the per-column measurement supplied (pandas here, Spark in ``pytest_mlgate.spark``)."""
    reference = reference_profile(cfg.reference)
    wanted = list(cfg.columns) if cfg.columns else list(reference.columns)
    if cfg.prediction and cfg.prediction not in wanted:
        wanted.append(cfg.prediction)
    checks: list[CheckResult] = []
    measured: list[tuple[str, ColumnProfile, DriftStats, dict[str, Any]]] = []
    skipped: list[str] = []
    for name in wanted:
        role = "prediction" if name == cfg.prediction else ("label" if name == target else "feature")
        prof = reference.columns.get(name)
        check_id = f"drift:{name}"
        try:
            if prof is None:
                raise DataError(f"column `{name}` is not in the drift reference `{cfg.reference.name}`")
            if prof.kind in ("identifier", "datetime"):
                skipped.append(name)
                continue
            if prof.kind == "empty" or prof.count == 0:
                raise DataError(f"column `{name}` has no values in the drift reference (all NaN)")
            stats, extra = measure(prof, name)
        except (DataError, ValueError, TypeError) as exc:
            checks.append(
                CheckResult(
                    id=check_id,
                    kind="drift",
                    status="error",
                    metric="psi",
                    message=str(exc),
                    details={"role": role},
                )
            )
            continue
        measured.append((name, prof, stats, {"role": role, **extra}))
    adjusted = benjamini_hochberg(np.array([s.pvalue for _, _, s, _ in measured]))
    flagged = 0
    for (name, prof, stats, extra), p_adj in zip(measured, adjusted, strict=True):
        status, why = _judge(cfg, stats, float(p_adj))
        # The share is about the model's inputs: label and prediction drift are reported on their own.
        counted = ("warn", "fail") if share_counts_warnings else ("fail",)
        flagged += status in counted and extra["role"] == "feature"
        checks.append(
            CheckResult(
                id=f"drift:{name}",
                kind="drift",
                status=status,
                metric="psi",
                message=why,
                value=stats.psi,
                n=stats.n_current,
                pvalue=float(p_adj),
                threshold={
                    "psi_warn": cfg.psi_warn,
                    "psi_fail": cfg.psi_fail,
                    "js": cfg.js,
                    "w1": cfg.w1,
                    "share_change": cfg.share_change,
                    "q": cfg.q,
                },
                details={
                    **extra,
                    "kind": prof.kind,
                    "js": stats.js,
                    "w1": stats.w1,
                    "ks": stats.ks,
                    "ks_pvalue": stats.ks_pvalue,
                    "share_change": stats.share_change,
                    "pvalue_raw": stats.pvalue,
                    "noise_floor": stats.noise_floor,
                    "n_reference": stats.n_reference,
                    "bins": stats.bins,
                },
            )
        )
    errors = sum(c.status == "error" and c.details.get("role") == "feature" for c in checks)
    compared = sum(extra["role"] == "feature" for *_, extra in measured) + errors
    share = (flagged + errors) / compared if compared else 0.0
    share_status: Status = "fail" if share > cfg.max_share else "pass"
    if compared == 0:
        share_status = "error"
    noise = float(np.median([s.noise_floor for _, _, s, _ in measured])) if measured else None
    message = (
        f"{flagged + errors} of {compared} columns {'drifted' if share_counts_warnings else 'failed drift'} "
        "or could not be compared "
        f"(share {share:.2f}, limit {cfg.max_share:.2f}); PSI noise floor ≈ {noise:.4f}"
        if noise is not None
        else "no column could be compared"
    )
    if skipped:
        message += f"; identifier-like or datetime columns not compared: {', '.join(skipped)}"
    checks.append(
        CheckResult(
            id="drift:share",
            kind="drift",
            status=share_status,
            metric="drifted_share",
            message=message,
            value=share,
            n=compared,
            threshold={"max_share": cfg.max_share},
            details={"flagged": flagged, "errors": errors, "skipped": skipped, "noise_floor_median": noise},
        )
    )
    return checks


def _column_drift(prof: ColumnProfile, series: pd.Series) -> tuple[DriftStats, dict[str, Any]]:
    import pandas as pd

    name = prof.name
    if prof.kind == "numeric":
        present = series.dropna()
        if present.empty:
            raise DataError(f"column `{name}` has no values in the current data (all NaN)")
        numeric = pd.to_numeric(present, errors="coerce")
        bad = numeric.isna()
        if bad.any():
            rows = present.index[bad.to_numpy()][:5].tolist()
            raise DataError(
                f"column `{name}` is numeric in the reference but holds text in the current data "
                f"(rows {rows}, e.g. {present[bad].iloc[0]!r})"
            )
        values = numeric.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise DataError(f"column `{name}` holds inf in the current data")
        if prof.min is None or prof.max is None or prof.std is None:
            raise DataError(f"column `{name}` has no values in the drift reference (all NaN)")
        ordered = np.sort(values)
        counts = sorted_counts(ordered, np.asarray(prof.edges), prof.min, prof.max)
        shift = quantile_shift(np.asarray(prof.quantiles), prof.std, ordered, prof.count)
        return numeric_drift(prof, counts, shift)
    return categorical_drift(prof, category_counts(series))


def numeric_drift(
    prof: ColumnProfile, counts: Any, shift: tuple[float, float, float]
) -> tuple[DriftStats, dict[str, Any]]:
    """A numeric column's drift from its counts on the profile's bins and (W1/σ, KS D, KS p)."""
    assert prof.min is not None and prof.max is not None
    extra: dict[str, Any] = {}
    stats = compare_counts(np.asarray(prof.counts), np.asarray(counts))
    w1, ks, ks_p = shift
    if prof.std == 0:
        extra["note"] = "constant in the reference"
    edges = [prof.min, *prof.edges, prof.max]
    labels = [f"< {edges[0]:.4g}"]
    labels += [f"{a:.4g} – {b:.4g}" for a, b in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]:.4g}")
    extra["histogram"] = _histogram(labels, np.asarray(prof.counts), counts)
    return _with(stats, w1=w1, ks=ks, ks_pvalue=ks_p), extra


def categorical_drift(prof: ColumnProfile, counted: dict[str, int]) -> tuple[DriftStats, dict[str, Any]]:
    """A categorical column's drift from the current counts of each category's text form."""
    name = prof.name
    extra: dict[str, Any] = {}
    total = sum(counted.values())
    if total == 0:
        raise DataError(f"column `{name}` has no values in the current data (all NaN)")
    known = list(prof.categories)
    in_known = [counted.get(c, 0) for c in known]
    current_counts = np.array([*in_known, total - sum(in_known)])
    reference_counts = np.array([prof.categories[c] for c in known] + [prof.other])
    unseen = sorted((c for c in counted if c not in prof.categories), key=lambda c: -counted[c])
    if unseen:
        extra["unseen_categories"] = unseen[:10]
        extra["unseen_share"] = sum(counted[c] for c in unseen) / total
    extra["histogram"] = _histogram([*map(str, known), "(other)"], reference_counts, current_counts)
    return compare_counts(reference_counts, current_counts), extra


def _histogram(labels: list[str], reference: Any, current: Any) -> dict[str, Any]:
    """Bin shares of both sides, for the HTML report's overlaid histograms."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if len(labels) != len(ref):  # a reference profile with other bins than we label: leave it out
        return {}
    return {
        "bins": labels,
        "reference": [round(float(x), 6) for x in ref / max(ref.sum(), 1.0)],
        "current": [round(float(x), 6) for x in cur / max(cur.sum(), 1.0)],
    }


def _with(stats: DriftStats, *, w1: float, ks: float, ks_pvalue: float) -> DriftStats:
    from dataclasses import replace

    return replace(stats, w1=w1, ks=ks, ks_pvalue=ks_pvalue)


def _judge(cfg: DriftConfig, s: DriftStats, p_adj: float) -> tuple[Status, str]:
    effects = []
    if cfg.psi_warn is not None and s.psi >= cfg.psi_warn:
        effects.append(f"PSI {s.psi:.3f} ≥ {cfg.psi_warn}")
    if cfg.js is not None and s.js >= cfg.js:
        effects.append(f"JS {s.js:.3f} ≥ {cfg.js}")
    if cfg.w1 is not None and s.w1 is not None and s.w1 >= cfg.w1:
        effects.append(f"W1/σ {s.w1:.3f} ≥ {cfg.w1}")
    if cfg.share_change is not None and s.share_change >= cfg.share_change:
        effects.append(f"a bin's share moved {s.share_change:.3f} ≥ {cfg.share_change}")
    significant = p_adj < cfg.q
    summary = f"PSI {s.psi:.4f} (noise floor {s.noise_floor:.4f}), JS {s.js:.4f}, BH p {p_adj:.3g}"
    if effects and significant:
        severe = cfg.psi_fail is not None and s.psi >= cfg.psi_fail
        status: Status = "fail" if severe else "warn"
        return status, f"drifted: {'; '.join(effects)}, and significant (BH p {p_adj:.3g} < {cfg.q})"
    if effects:
        return "pass", f"not significant: {summary} (effect {'; '.join(effects)}, but BH p ≥ {cfg.q})"
    if significant:
        return "pass", f"significant but not material: {summary}"
    return "pass", f"no drift: {summary}"
