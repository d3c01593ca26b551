"""Reference profiles: frozen bin edges and counts per column, as a small JSON file.

A profile is built in two passes over chunks of the data, so memory stays
bounded whatever the file size: pass 1 keeps a seeded uniform sample per
numeric column (for the quantile edges), exact moments and category counts;
pass 2 counts every value into the frozen bins. Counts on fixed edges add
exactly, so two profiles with the same edges merge into one.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .errors import ConfigError, DataError
from .progress import Progress
from .stats.drift import QUANTILE_GRID, numeric_counts, numeric_edges
from .stats.ranges import plausible_range

if TYPE_CHECKING:
    import pandas as pd

PROFILE_SCHEMA_VERSION = "1"
SAMPLE_SIZE = 100_000
"""Values per numeric column kept to place the quantile edges."""
MAX_CATEGORIES = 50
"""Categories kept by name; the rest of the reference is counted as "other"."""
MAX_DISTINCT = 10_000
"""Past this many distinct values a categorical column is an identifier: no drift on it."""

Chunks = Callable[[], Iterator["pd.DataFrame"]]


@dataclass
class ColumnProfile:
    name: str
    kind: str  # "numeric" | "categorical" | "identifier"
    dtype: str
    count: int = 0
    nulls: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    edges: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    quantiles: list[float] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 0
    quantile_rank_error: float | None = None
    """Bound on the rank error of ``quantiles`` and ``edges`` when a sketch placed them (Spark)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "dtype": self.dtype,
            "count": self.count,
            "nulls": self.nulls,
        }
        if self.kind == "numeric":
            out.update(
                min=self.min,
                max=self.max,
                mean=self.mean,
                std=self.std,
                edges=self.edges,
                counts=self.counts,
                quantiles=self.quantiles,
            )
            if self.quantile_rank_error is not None:
                out["quantile_rank_error"] = self.quantile_rank_error
        elif self.kind == "categorical":
            out.update(categories=self.categories, other=self.other)
        return out


@dataclass
class Profile:
    rows: int
    columns: dict[str, ColumnProfile]
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "mlgate-profile",
            "schema_version": PROFILE_SCHEMA_VERSION,
            "mlgate": __version__,
            "source": self.source,
            "rows": self.rows,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    def write(self, path: Path) -> None:
        try:
            path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"profile path `{path}` cannot be written: {exc.strerror or exc}") from None

    def merge(self, other: Profile) -> Profile:
        """Exact merge of two profiles built on the same edges and categories (counts add)."""
        if set(self.columns) != set(other.columns):
            raise DataError("profiles to merge must have the same columns")
        merged: dict[str, ColumnProfile] = {}
        for name, a in self.columns.items():
            b = other.columns[name]
            if a.kind != b.kind or a.edges != b.edges or set(a.categories) != set(b.categories):
                raise DataError(
                    f"profiles of column `{name}` have different bins; build them on the same edges"
                )
            if a.count == 0 or b.count == 0:
                kept = b if a.count == 0 else a
                merged[name] = replace(kept, count=a.count + b.count, nulls=a.nulls + b.nulls)
                continue
            n = a.count + b.count
            c = ColumnProfile(
                name, a.kind, a.dtype, count=n, nulls=a.nulls + b.nulls, edges=a.edges, quantiles=a.quantiles
            )
            if (
                a.kind == "numeric"
                and a.mean is not None
                and b.mean is not None
                and a.std is not None
                and b.std is not None
            ):
                c.min, c.max = min(a.min or 0.0, b.min or 0.0), max(a.max or 0.0, b.max or 0.0)
                c.mean = (a.count * a.mean + b.count * b.mean) / n
                m2 = (a.std**2) * max(a.count - 1, 0) + (b.std**2) * max(b.count - 1, 0)
                m2 += (a.mean - b.mean) ** 2 * a.count * b.count / n
                c.std = math.sqrt(m2 / max(n - 1, 1))
                c.counts = [x + y for x, y in zip(a.counts, b.counts, strict=True)]
            c.categories = {k: a.categories[k] + b.categories[k] for k in a.categories}
            c.other = a.other + b.other
            merged[name] = c
        return Profile(self.rows + other.rows, merged, self.source)


def load_profile(path: Path) -> Profile:
    """Read a profile JSON; a file of another kind or schema version is a DataError."""
    from .inputs import load_json

    raw = load_json(path, what="reference profile", error=DataError)
    if not isinstance(raw, dict) or raw.get("kind") != "mlgate-profile":
        raise DataError(
            f"`{path}` is not an mlgate profile (write one with `mlgate profile DATA -o {path.name}`)"
        )
    version = str(raw.get("schema_version"))
    if version != PROFILE_SCHEMA_VERSION:
        raise DataError(
            f"reference profile `{path}` has schema_version {version!r}; this mlgate reads "
            f"{PROFILE_SCHEMA_VERSION!r}. Rebuild it with `mlgate profile`"
        )
    try:
        columns = {str(name): ColumnProfile(name=str(name), **spec) for name, spec in raw["columns"].items()}
        rows = int(raw["rows"])
        for column in columns.values():
            _check_column(column)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"reference profile `{path}` is malformed: {type(exc).__name__}: {exc}") from None
    return Profile(rows, columns, raw.get("source"))


def _check_column(c: ColumnProfile) -> None:
    """Refuse a profile column whose numbers could not have come from `mlgate profile`."""
    kinds = ("numeric", "categorical", "identifier", "datetime", "empty")
    if c.kind not in kinds:
        raise ValueError(f"column `{c.name}`: kind {c.kind!r} is not one of {kinds}")
    if not (isinstance(c.count, int) and isinstance(c.nulls, int) and c.count >= 0 and c.nulls >= 0):
        raise ValueError(f"column `{c.name}`: count and nulls must be non-negative integers")
    if c.kind == "numeric" and c.count > 0:
        numbers = [c.min, c.max, c.mean, c.std, *c.edges, *c.quantiles]
        if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in numbers):
            raise ValueError(
                f"column `{c.name}`: min, max, mean, std, edges and quantiles must be finite numbers"
            )
        assert c.min is not None and c.max is not None and c.std is not None
        if c.min > c.max or c.std < 0 or sorted(c.edges) != c.edges or sorted(c.quantiles) != c.quantiles:
            raise ValueError(f"column `{c.name}`: needs min <= max, std >= 0 and sorted edges and quantiles")
        if len(c.quantiles) != QUANTILE_GRID.size or len(c.counts) != len(c.edges) + 3:
            raise ValueError(
                f"column `{c.name}`: needs {QUANTILE_GRID.size} quantiles and len(edges)+3 counts"
            )
        if not all(isinstance(x, int) and x >= 0 for x in c.counts) or sum(c.counts) != c.count:
            raise ValueError(f"column `{c.name}`: counts must be non-negative integers summing to count")
    if c.kind == "categorical":
        if not isinstance(c.categories, dict) or not all(
            isinstance(v, int) and v >= 0 for v in c.categories.values()
        ):
            raise ValueError(f"column `{c.name}`: categories must map labels to non-negative counts")
        if not (isinstance(c.other, int) and c.other >= 0) or sum(c.categories.values()) + c.other != c.count:
            raise ValueError(f"column `{c.name}`: categories plus other must add up to count")


def column_kind(series: pd.Series) -> str:
    import pandas as pd

    if series.head(1000).isna().all() and series.isna().all():
        return "empty"  # undecided until a chunk with values arrives
    if pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    return "categorical"


def category_text(values: pd.Series) -> pd.Series:
    """Category labels as text, the same whichever way a file was read.

    A code column read as text ("1"), as integers (1) or as floats because of a
    NaN elsewhere (1.0) gives "1" every time.
    """
    import pandas as pd

    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(numbers) & (numbers == np.round(numbers))):
            return pd.Series(numbers.astype(np.int64).astype(str), index=values.index)
        return values.astype(str)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "boolean", "integer", "empty"):
        return values.astype(str)
    return values.map(_one_text)


def category_counts(series: pd.Series) -> dict[str, int]:
    """Counts of each category's text form, NaN left out.

    Counting the raw values first (hashing in C) and converting only the distinct
    ones to text is much faster than converting every row.
    """
    import pandas as pd

    counted = series.value_counts(dropna=True)
    if counted.empty:
        return {}
    labels = category_text(pd.Series(counted.index, dtype=counted.index.dtype))
    out: dict[str, int] = {}
    for label, count in zip(labels.to_numpy(), counted.to_numpy(), strict=True):
        out[str(label)] = out.get(str(label), 0) + int(count)
    return out


def _one_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def build_profile(
    chunks: Chunks, columns: list[str] | None = None, source: str | None = None, seed: int = 0
) -> Profile:
    """Two passes over ``chunks()``: sample and moments, then counts on frozen edges."""
    rng = np.random.default_rng(seed)
    profiles: dict[str, ColumnProfile] = {}
    samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # column -> (keys, values): bottom-k sample
    sums: dict[str, list[float]] = {}  # column -> [n, mean, M2]
    counters: dict[str, Counter[str]] = {}
    with Progress(f"profile {source}" if source else "profile", unit="rows (two passes)") as progress:
        rows, columns = _first_pass(chunks, columns, rng, profiles, samples, sums, counters, progress)
        if columns is None or rows == 0:
            raise DataError("the data to profile has no rows")
        _freeze(profiles, samples, sums, counters)
        progress.restart("(pass 2 of 2)")
        _second_pass(chunks, profiles, progress)
    return Profile(rows, profiles, source)


def _second_pass(chunks: Chunks, profiles: dict[str, ColumnProfile], progress: Progress) -> None:
    """Counts on the frozen edges."""
    numeric = [p for p in profiles.values() if p.kind == "numeric" and p.min is not None]
    if numeric:
        totals = {p.name: np.zeros(len(p.edges) + 3, dtype=np.int64) for p in numeric}
        for chunk in chunks():
            for p in numeric:
                values = chunk[p.name].to_numpy(dtype=np.float64)
                values = values[~np.isnan(values)]
                assert p.min is not None and p.max is not None
                totals[p.name] += numeric_counts(values, np.asarray(p.edges), p.min, p.max)
            progress.advance(len(chunk), "(pass 2 of 2)")
        for p in numeric:
            p.counts = [int(c) for c in totals[p.name]]


def _first_pass(
    chunks: Chunks,
    columns: list[str] | None,
    rng: np.random.Generator,
    profiles: dict[str, ColumnProfile],
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    sums: dict[str, list[float]],
    counters: dict[str, Counter[str]],
    progress: Progress,
) -> tuple[int, list[str] | None]:
    """Kinds, moments, a uniform sample per numeric column and category counts."""
    rows = 0
    for chunk in chunks():
        progress.advance(len(chunk), "(pass 1 of 2)")
        if columns is None:
            columns = [str(c) for c in chunk.columns]
        missing = [c for c in columns if c not in chunk.columns]
        if missing:
            raise DataError(f"columns {missing!r} are not in the data to profile")
        rows += len(chunk)
        for name in columns:
            series = chunk[name]
            prof = profiles.setdefault(name, ColumnProfile(name, "empty", str(series.dtype)))
            kind = column_kind(series)
            if prof.kind == "empty" and kind != "empty":
                prof.kind, prof.dtype = kind, str(series.dtype)
            if kind == "empty":
                prof.nulls += len(series)
            elif prof.kind == "numeric":
                if kind != "numeric":
                    raise DataError(
                        f"column `{name}` holds numbers in earlier rows and text from row {rows - len(chunk)} on; "
                        "fix the column, or profile with a larger --chunk-rows so its type is read from more rows"
                    )
                values = series.to_numpy(dtype=np.float64)
                null = np.isnan(values)
                prof.nulls += int(null.sum())
                prof.count += int(values.size - null.sum())
                _update_numeric(name, values[~null], rng, samples, sums, prof)
            else:
                counted = category_counts(series)
                present = sum(counted.values())
                prof.nulls += len(series) - present
                prof.count += present
                if prof.kind == "categorical":
                    counter = counters.setdefault(name, Counter())
                    counter.update(counted)
                    if len(counter) > MAX_DISTINCT:
                        prof.kind = "identifier"
                        counters.pop(name)
    return rows, columns


def _freeze(
    profiles: dict[str, ColumnProfile],
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    sums: dict[str, list[float]],
    counters: dict[str, Counter[str]],
) -> None:
    """Edges and quantiles from the sample, moments, the kept categories."""
    for name, prof in profiles.items():
        if prof.kind == "numeric" and name in samples:
            sample = samples[name][1]
            prof.edges = [float(e) for e in numeric_edges(sample)]
            quantiles = np.quantile(sample, QUANTILE_GRID)
            quantiles[0], quantiles[-1] = prof.min, prof.max
            prof.quantiles = [float(q) for q in quantiles]
            n, mean, m2 = sums[name]
            prof.mean, prof.std = mean, math.sqrt(m2 / (n - 1)) if n > 1 else 0.0
        elif prof.kind == "categorical" and name in counters:
            top = counters[name].most_common(MAX_CATEGORIES)
            prof.categories = dict(top)
            prof.other = prof.count - sum(prof.categories.values())


def _update_numeric(
    name: str,
    values: np.ndarray,
    rng: np.random.Generator,
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    sums: dict[str, list[float]],
    prof: ColumnProfile,
) -> None:
    if values.size == 0:
        return
    if not np.isfinite(values).all():
        raise DataError(f"column `{name}` holds inf; profiles need finite numbers")
    prof.min = float(values.min()) if prof.min is None else min(prof.min, float(values.min()))
    prof.max = float(values.max()) if prof.max is None else max(prof.max, float(values.max()))
    # Chan et al.'s parallel update of count, mean and M2.
    n_b, mean_b = values.size, float(values.mean())
    m2_b = float(((values - mean_b) ** 2).sum())
    n_a, mean_a, m2_a = sums.get(name, [0.0, 0.0, 0.0])
    n = n_a + n_b
    delta = mean_b - mean_a
    sums[name] = [n, mean_a + delta * n_b / n, m2_a + m2_b + delta**2 * n_a * n_b / n]
    # Bottom-k by random keys is a uniform sample without replacement over all chunks.
    keys = rng.random(values.size)
    old_keys, old_values = samples.get(name, (np.empty(0), np.empty(0)))
    all_keys, all_values = np.concatenate([old_keys, keys]), np.concatenate([old_values, values])
    if all_keys.size > SAMPLE_SIZE:
        keep = np.argpartition(all_keys, SAMPLE_SIZE)[:SAMPLE_SIZE]
        all_keys, all_values = all_keys[keep], all_values[keep]
    samples[name] = (all_keys, all_values)


def frame_chunks(frame: pd.DataFrame) -> Chunks:
    return lambda: iter([frame])


def infer_contract(profile: Profile) -> dict[str, Any]:
    """A starting data contract from a profile, for the user to edit (the `validation:` section)."""
    columns: dict[str, Any] = {}
    for name, col in profile.columns.items():
        null_fraction = col.nulls / max(col.nulls + col.count, 1)
        dtype = {"numeric": "numeric", "datetime": "datetime", "identifier": "string"}.get(
            col.kind, "categorical"
        )
        rule: dict[str, Any] = {} if col.kind == "empty" else {"dtype": dtype}
        if col.kind == "numeric" and col.min is not None and col.max is not None:
            # New i.i.d. data passes the observed extremes half the time: reach past them by the tails' scale.
            low, high = plausible_range(col.quantiles or [col.min, col.max], col.count)
            bounds = {"min": _round_out(low, up=False), "max": _round_out(high, up=True)}
            rule.update({k: v for k, v in bounds.items() if math.isfinite(v)})
        elif col.kind == "categorical" and col.other == 0:
            rule["allowed"] = sorted(col.categories)
        rule["max_null_fraction"] = math.ceil(null_fraction * 1000) / 1000
        columns[name] = rule
    # Duplicates are not measured by a profile, so the contract leaves that rule to the user.
    return {"row_count": {"min": 1}, "columns": columns}


def _round_out(x: float, *, up: bool) -> float:
    """Round to 6 significant digits away from the data, so the bound still contains it."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    step = 10.0 ** (math.floor(math.log10(abs(x))) - 5)
    rounded = (math.ceil if up else math.floor)(x / step) * step
    return float(f"{rounded:.6g}")


def rows_from_profile(profile: Profile, n: int = 1_000, seed: int = 0) -> pd.DataFrame:
    """Realistic rows drawn from a profile's marginals, for property tests without the raw data.

    Numeric values are drawn from the stored quantile grid (so they follow the
    reference's distribution), categories by their reference frequencies. Columns
    are independent: joint structure is not kept. Identifier-like, datetime and
    empty columns are left out.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for name, col in profile.columns.items():
        if col.kind == "numeric" and col.quantiles:
            values = rng.choice(np.asarray(col.quantiles), n)
            data[name] = np.round(values).astype(np.int64) if col.dtype.startswith("int") else values
        elif col.kind == "categorical" and col.categories:
            labels = list(col.categories)
            weights = np.asarray([col.categories[c] for c in labels], dtype=np.float64)
            data[name] = rng.choice(labels, n, p=weights / weights.sum())
    if not data:
        raise DataError("the profile has no numeric or categorical column to draw rows from")
    return pd.DataFrame(data)
