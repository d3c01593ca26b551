"""Drift of a Spark DataFrame against a reference profile: exact counts on the frozen edges.

PSI, JS and the χ² test need only the counts in the profile's bins; KS D needs
the current CDF at the reference's quantiles, also an exact count. Only W1 uses
the current quantiles, read from ``percentile_approx`` with a rank error of
``1/QUANTILE_ACCURACY`` (recorded in each check's details).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks.drift import categorical_drift, drift_checks, numeric_drift
from ..config import DriftConfig
from ..errors import DataError
from ..profile import ColumnProfile, category_text
from ..results import CheckResult
from ..stats.drift import QUANTILE_GRID, DriftStats, shift_from_quantiles

QUANTILE_ACCURACY = 10_000
"""``percentile_approx`` accuracy: each quantile's rank is within n/ACCURACY of the exact one."""
MAX_CURRENT_CATEGORIES = 100_000
"""Distinct values of a categorical column brought to the driver to be counted by their text form."""


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def numeric_values(frame: Any, name: str) -> Any:
    """The column's present values as doubles; text in a numeric column or inf is a DataError."""
    from pyspark.sql.types import BooleanType, NumericType

    F = _F()
    kind = frame.schema[name].dataType
    if not isinstance(kind, NumericType) or isinstance(kind, BooleanType):
        raise DataError(
            f"column `{name}` is numeric in the reference but holds {kind.simpleString()} in the current data"
        )
    col = F.col(f"`{name}`").cast("double")
    return frame.select(col.alias("v")).where(col.isNotNull() & ~F.isnan(col))


def counts_at_most(values: Any, points: np.ndarray) -> tuple[np.ndarray, int]:
    """For each point p, the exact number of values ≤ p, and the number of values.

    One pass with a binary search per row (Spark ML's Bucketizer, on negated values
    so that its left-closed buckets become the right-closed ones ``≤ p`` needs).
    """
    from pyspark.ml.feature import Bucketizer

    F = _F()
    unique = np.unique(np.asarray(points, dtype=np.float64))
    splits = [float("-inf"), *(-unique[::-1]).tolist(), float("inf")]
    bucketed = Bucketizer(splits=splits, inputCol="w", outputCol="b").transform(
        values.select((-F.col("v")).alias("w"))
    )
    per_bucket = np.zeros(len(splits) - 1, dtype=np.int64)
    for row in bucketed.groupBy("b").count().collect():
        per_bucket[int(row["b"])] = int(row["count"])
    # Reversed, bucket i holds the values in (u[i-1], u[i]]; the last one those above u[-1].
    at_most = np.cumsum(per_bucket[::-1])[: unique.size]
    lookup = dict(zip(unique.tolist(), at_most.tolist(), strict=True))
    return np.array([lookup[float(p)] for p in points], dtype=np.int64), int(per_bucket.sum())


def numeric_column(frame: Any, prof: ColumnProfile) -> tuple[DriftStats, dict[str, Any]]:
    name = prof.name
    if name not in frame.columns:
        raise DataError(f"column `{name}` is in the reference but missing from the current data")
    if prof.min is None or prof.max is None or prof.std is None:
        raise DataError(f"column `{name}` has no values in the drift reference (all NaN)")
    values = numeric_values(frame, name)
    quantiles = approx_quantiles(values, "v")
    if quantiles is None:
        raise DataError(f"column `{name}` has no values in the current data (all NaN)")
    if not np.isfinite(quantiles[[0, -1]]).all():
        raise DataError(f"column `{name}` holds inf in the current data")
    counts, n, cdf = bin_counts(values, prof)
    shift = shift_from_quantiles(np.asarray(prof.quantiles), prof.std, quantiles, cdf / n, n, prof.count)
    stats, extra = numeric_drift(prof, counts, shift)
    extra["w1_quantile_rank_error"] = 1.0 / QUANTILE_ACCURACY
    return stats, extra


def bin_counts(values: Any, prof: ColumnProfile) -> tuple[np.ndarray, int, np.ndarray]:
    """Counts in the profile's [underflow, bins…, overflow], n, and the CDF counts at its quantiles.

    The same bins as ``stats.drift.sorted_counts``: [min, e₁], (e₁, e₂], …, (e_k, max].
    """
    assert prof.min is not None and prof.max is not None
    edges = np.asarray(prof.edges, dtype=np.float64)
    quantiles = np.asarray(prof.quantiles, dtype=np.float64)
    # "≤ the double just below min" is "< min": the underflow bin, in the same pass.
    just_below = np.nextafter(prof.min, -np.inf)
    points = np.concatenate([[just_below], edges, [prof.max], quantiles])
    at_most, n = counts_at_most(values, points)
    below, above = int(at_most[0]), int(at_most[1 + edges.size])
    cuts = np.clip(at_most[1 : 1 + edges.size], below, above)
    bounds = np.concatenate([[0, below], cuts, [above, n]])
    return np.diff(bounds).astype(np.int64), n, at_most[2 + edges.size :].astype(np.float64)


def approx_quantiles(values: Any, column: str) -> np.ndarray | None:
    """The quantiles on the profile grid from ``percentile_approx``, ends replaced by the exact min and max.

    None when there are no values.
    """
    F = _F()
    row = values.agg(
        F.percentile_approx(column, QUANTILE_GRID.tolist(), QUANTILE_ACCURACY).alias("q"),
        F.min(column).alias("lo"),
        F.max(column).alias("hi"),
    ).first()
    if row["q"] is None:
        return None
    quantiles = np.asarray(row["q"], dtype=np.float64)
    quantiles[0], quantiles[-1] = float(row["lo"]), float(row["hi"])
    return quantiles


def current_categories(frame: Any, name: str) -> dict[str, int]:
    """Counts of each category's text form (as ``profile.category_counts`` gives), nulls left out."""
    F = _F()
    col = F.col(f"`{name}`")
    rows = (
        frame.where(col.isNotNull())
        .groupBy(col.alias("value"))
        .count()
        .orderBy(F.desc("count"))
        .limit(MAX_CURRENT_CATEGORIES + 1)
        .collect()
    )
    if len(rows) > MAX_CURRENT_CATEGORIES:
        raise DataError(
            f"column `{name}` has more than {MAX_CURRENT_CATEGORIES} distinct values in the current data; "
            "a categorical drift check cannot count them"
        )
    return text_counts([r["value"] for r in rows], [int(r["count"]) for r in rows])


def text_counts(values: list[Any], counts: list[int]) -> dict[str, int]:
    """Distinct values and their counts, summed by text form as ``profile.category_counts`` does."""
    if not values:
        return {}
    out: dict[str, int] = {}
    for label, count in zip(category_text(pd.Series(values)).to_numpy(), counts, strict=True):
        out[str(label)] = out.get(str(label), 0) + int(count)
    return out


def run_spark_drift(
    cfg: DriftConfig, current: Any, target: str, *, share_counts_warnings: bool = True
) -> list[CheckResult]:
    """``checks.drift.run_drift`` on a Spark DataFrame: the same judging, Spark's counts."""

    def measure(prof: ColumnProfile, name: str) -> tuple[DriftStats, dict[str, Any]]:
        if name not in current.columns:
            raise DataError(f"column `{name}` is in the reference but missing from the current data")
        if prof.kind == "numeric":
            return numeric_column(current, prof)
        return categorical_drift(prof, current_categories(current, name))

    return drift_checks(cfg, measure, target, share_counts_warnings=share_counts_warnings)
