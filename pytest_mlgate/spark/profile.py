"""Reference profiles of Spark DataFrames, in the same JSON format as ``pytest_mlgate.profile``.

Counts on the frozen edges and category counts are exact. Edges and the
per-mille quantiles come from ``percentile_approx`` (a Greenwald–Khanna sketch),
whose rank error, at most ``1/QUANTILE_ACCURACY`` of the rows, is recorded in
the profile as ``quantile_rank_error``; the single-machine profile places them
on a 100,000-row uniform sample instead.

``like=`` builds a profile on another profile's edges and categories, so that
profiles of partitions or days add up exactly with ``Profile.merge``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from ..errors import DataError
from ..profile import MAX_CATEGORIES, MAX_DISTINCT, ColumnProfile, Profile
from ..stats.drift import N_QUANTILE_BINS, QUANTILE_GRID
from .drift import bin_counts, text_counts

QUANTILE_ACCURACY = 10_000
"""``percentile_approx`` accuracy: relative rank error at most 1/10,000."""

MAX_LIKE_DISTINCT = 1_000_000
"""Distinct values of a categorical column brought to the driver when counting on given categories."""

_DTYPES = {
    "tinyint": "int8",
    "smallint": "int16",
    "int": "int32",
    "bigint": "int64",
    "float": "float32",
    "double": "float64",
    "boolean": "bool",
    "string": "object",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
    "timestamp_ntz": "datetime64[ns]",
}


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def _kind(data_type: Any) -> str:
    from pyspark.sql.types import BooleanType, DateType, NumericType, StringType, TimestampType

    if isinstance(data_type, BooleanType | StringType):
        return "categorical"
    if isinstance(data_type, NumericType):
        return "numeric"
    if isinstance(data_type, DateType | TimestampType) or data_type.simpleString() == "timestamp_ntz":
        return "datetime"
    return "identifier"  # arrays, maps, binary: nothing a drift check could bin


def build_spark_profile(
    frame: Any, columns: list[str] | None = None, *, like: Profile | None = None, source: str | None = None
) -> Profile:
    """Profile ``columns`` of ``frame`` (default: all); see the module docstring for ``like``."""
    F = _F()
    if columns:
        names = list(columns)
    elif like is not None:  # the columns of the profile whose edges are reused
        names = list(like.columns)
    else:
        names = list(frame.columns)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise DataError(f"columns {missing!r} are not in the data to profile")
    if like is not None:
        absent = [c for c in names if c not in like.columns]
        if absent:
            raise DataError(f"columns {absent!r} are not in the profile whose edges were asked for (`like`)")
    schema = {f.name: f.dataType for f in frame.schema.fields}
    kinds = {n: (like.columns[n].kind if like is not None else _kind(schema[n])) for n in names}
    numeric = [n for n in names if kinds[n] == "numeric"]
    for name in numeric:
        if _kind(schema[name]) != "numeric":
            raise DataError(
                f"column `{name}` is numeric in the profile given as `like` but holds "
                f"{schema[name].simpleString()} here"
            )
    # One scan: row count, nulls of every column, moments and extremes of the numeric ones.
    aggs = [F.count(F.lit(1)).alias("_rows")]
    for i, name in enumerate(names):
        col = F.col(f"`{name}`")
        if kinds[name] == "numeric":
            v = col.cast("double")
            present = v.isNotNull() & ~F.isnan(v)
            value = F.when(present, v)
            aggs += [
                F.sum((~present).cast("int")).alias(f"nulls{i}"),
                F.min(value).alias(f"min{i}"),
                F.max(value).alias(f"max{i}"),
                F.avg(value).alias(f"mean{i}"),
                F.stddev_samp(value).alias(f"std{i}"),
                F.sum((F.abs(value) == float("inf")).cast("int")).alias(f"inf{i}"),
            ]
        else:
            aggs.append(F.sum(col.isNull().cast("int")).alias(f"nulls{i}"))
    totals = frame.agg(*aggs).first()
    rows = int(totals["_rows"])
    if rows == 0:
        raise DataError("the data to profile has no rows")
    profiles: dict[str, ColumnProfile] = {}
    for i, name in enumerate(names):
        nulls = int(totals[f"nulls{i}"] or 0)
        prof = ColumnProfile(name, kinds[name], _DTYPES.get(schema[name].simpleString(), "object"))
        prof.nulls, prof.count = nulls, rows - nulls
        if prof.count == 0 and prof.kind in ("numeric", "categorical"):
            prof.kind = "empty"
        profiles[name] = prof
        if prof.kind == "numeric":
            if totals[f"inf{i}"]:
                raise DataError(f"column `{name}` holds inf; profiles need finite numbers")
            prof.min, prof.max = float(totals[f"min{i}"]), float(totals[f"max{i}"])
            prof.mean = float(totals[f"mean{i}"])
            std = totals[f"std{i}"]
            prof.std = 0.0 if std is None or not math.isfinite(std) else float(std)
    _place_quantiles(frame, [profiles[n] for n in numeric], like)
    for name in numeric:
        _count_bins(frame, profiles[name])
    for name in names:
        if profiles[name].kind == "categorical":
            _count_categories(frame, profiles[name], like.columns[name] if like is not None else None)
    return Profile(rows, profiles, source)


def _place_quantiles(frame: Any, numeric: list[ColumnProfile], like: Profile | None) -> None:
    """Per-mille quantiles (ends: exact min and max) and, unless ``like`` gives them, the edges."""
    F = _F()
    if not numeric:
        return
    probabilities = np.concatenate([QUANTILE_GRID, np.arange(1, N_QUANTILE_BINS) / N_QUANTILE_BINS]).tolist()
    aggs = []
    for i, prof in enumerate(numeric):
        v = F.col(f"`{prof.name}`").cast("double")
        aggs.append(
            F.percentile_approx(F.when(~F.isnan(v), v), probabilities, QUANTILE_ACCURACY).alias(f"q{i}")
        )
    row = frame.agg(*aggs).first()
    for i, prof in enumerate(numeric):
        values = np.asarray(row[f"q{i}"], dtype=np.float64)
        quantiles = values[: QUANTILE_GRID.size]
        quantiles[0], quantiles[-1] = prof.min, prof.max
        prof.quantiles = [float(q) for q in quantiles]
        prof.quantile_rank_error = 1.0 / QUANTILE_ACCURACY
        prof.edges = (
            list(like.columns[prof.name].edges)
            if like is not None
            else [float(e) for e in np.unique(values[QUANTILE_GRID.size :])]
        )


def _count_bins(frame: Any, prof: ColumnProfile) -> None:
    F = _F()
    v = F.col(f"`{prof.name}`").cast("double")
    values = frame.select(v.alias("v")).where(v.isNotNull() & ~F.isnan(v))
    counts, n, _ = bin_counts(values, prof)
    if n != prof.count:  # the two scans disagree: the table changed under us
        raise DataError(
            f"column `{prof.name}`: {n} values counted but {prof.count} seen; is the table changing?"
        )
    prof.counts = [int(c) for c in counts]


def _count_categories(frame: Any, prof: ColumnProfile, like: ColumnProfile | None) -> None:
    F = _F()
    col = F.col(f"`{prof.name}`")
    grouped = frame.where(col.isNotNull()).groupBy(col.alias("value")).count()
    # On given categories every distinct value must be seen to be counted; otherwise past
    # MAX_DISTINCT text labels the column is an identifier and the rest need not come over.
    limit = MAX_LIKE_DISTINCT if like is not None else MAX_DISTINCT * 2
    rows = grouped.limit(limit + 1).collect()
    if like is not None and len(rows) > limit:
        raise DataError(
            f"column `{prof.name}` has more than {limit:,} distinct values: too many to count on the "
            "categories of the profile given as `like`"
        )
    counted = Counter(text_counts([r["value"] for r in rows], [int(r["count"]) for r in rows]))
    if like is None and (len(counted) > MAX_DISTINCT or len(rows) > limit):
        prof.kind = "identifier"
        return
    if like is not None:
        prof.categories = {c: counted.get(c, 0) for c in like.categories}
    else:
        prof.categories = dict(counted.most_common(MAX_CATEGORIES))
    prof.other = prof.count - sum(prof.categories.values())
