"""Prediction logs: read in chunks, columns renamed to ours, every row checked.

A log is CSV, Parquet or JSON lines with one row per request. Required columns:
``timestamp``, ``arm`` (model version or arm name) and ``request_id``; the rest
are optional (see ``LOG_COLUMNS``). ``logs.columns`` in the config maps our
names to the file's.

Bad logs stop the analysis with a ``DataError`` (exit 3) that names the file,
the column and the first offending row: a missing column, an unparseable or
backwards timestamp, an arm the config does not know, a repeated request id,
an error flag that is not a flag, a negative latency.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, DataError
from ..extras import install_hint
from .config import LogSpec, _arm

if TYPE_CHECKING:
    import pandas as pd

REQUIRED = ("timestamp", "arm", "request_id")
_TRUE = {"1", "true", "t", "yes", "y", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "0.0"}
_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def log_format(spec: LogSpec) -> str:
    if spec.format:
        return spec.format
    suffixes = [s.lower() for s in spec.path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".csv", ".txt"):
        return "csv"
    if last in (".parquet", ".pq"):
        return "parquet"
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ConfigError(f"cannot tell the format of log `{spec.path}` from its suffix; set `logs.format`")


@dataclass
class LogReader:
    """Reads one log in validated chunks; ``rows_read`` and the first/last timestamps accumulate.

    ``arms`` are the arm values the analysis knows; any other value stops the
    read, because a typo in the config or a third model in the log would
    otherwise be silently dropped.
    """

    spec: LogSpec
    needed: Sequence[str]
    optional: Sequence[str] = ()
    arms: Sequence[str] | None = None
    unique_per: str = "arm"
    """``arm``: a request id may appear once per arm (shadow); ``log``: once in the whole log."""
    extra: Sequence[str] = ()
    """Other columns to keep under their own names (outcomes, features), when the log has them."""
    rows_read: int = 0
    first: Any = None
    last: Any = None
    present: tuple[str, ...] = ()
    extras_present: tuple[str, ...] = ()
    _hashes: list[Any] = field(default_factory=list)

    def chunks(self) -> Iterator[pd.DataFrame]:
        previous_last = None
        for raw in self._raw_chunks():
            frame = self._convert(raw, self.rows_read)
            stamps = frame["timestamp"]
            if self.spec.order == "strict" and len(frame):
                self._check_order(frame, previous_last)
                previous_last = stamps.iloc[-1]
            if len(frame):
                low, high = stamps.min(), stamps.max()
                self.first = low if self.first is None or low < self.first else self.first
                self.last = high if self.last is None or high > self.last else self.last
            self._remember_ids(frame)
            self.rows_read += len(frame)
            yield frame
        if self.rows_read == 0:
            raise DataError(f"log `{self.spec.path}` has no rows")
        self._check_duplicates()

    def read(self) -> pd.DataFrame:
        import pandas as pd

        parts = list(self.chunks())
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    # --- reading ------------------------------------------------------------------------

    def _raw_chunks(self) -> Iterator[pd.DataFrame]:
        import pandas as pd

        path, rows = self.spec.path, self.spec.chunk_rows
        if not path.exists():
            raise DataError(f"log `{path}` does not exist")
        if not path.is_file():
            raise DataError(f"log `{path}` is not a regular file")
        fmt = log_format(self.spec)
        wanted = [self.spec.column(c) for c in (*self.needed, *self.optional)] + list(self.extra)
        try:
            if fmt == "parquet":
                try:
                    import pyarrow.parquet as pq
                except ImportError:
                    raise ConfigError(
                        f"reading Parquet log `{path}` needs pyarrow: {install_hint('parquet')}"
                    ) from None
                handle = pq.ParquetFile(path)
                names = handle.schema_arrow.names
                self._check_columns(names)
                columns = [c for c in dict.fromkeys(wanted) if c in names]
                for batch in handle.iter_batches(batch_size=rows, columns=columns):
                    yield batch.to_pandas()
            elif fmt == "jsonl":
                # JSON lines may leave a key out of a row, or out of a whole chunk: the first
                # chunk's keys are the log's columns, and a later chunk without one reads as empty.
                keys: list[str] | None = None
                # Before pandas 3.1, dtype=False still turned date-like columns into dates; 3.1 deprecates
                # convert_dates, the keyword that stopped it, and dtype=False alone keeps the text.
                pandas_version = tuple(int(part) for part in pd.__version__.split(".")[:2])
                no_dates: dict[str, bool] = {} if pandas_version >= (3, 1) else {"convert_dates": False}
                for chunk in pd.read_json(path, lines=True, chunksize=rows, dtype=False, **no_dates):
                    if keys is None:
                        keys = list(chunk.columns)
                        self._check_columns(keys)
                    yield chunk.reindex(columns=keys)
            else:
                header = pd.read_csv(path, nrows=0).columns
                self._check_columns(list(header))
                columns = [c for c in dict.fromkeys(wanted) if c in header]
                yield from pd.read_csv(path, chunksize=rows, usecols=columns, low_memory=False)
        except (ConfigError, DataError):
            raise
        except pd.errors.EmptyDataError:
            raise DataError(f"log `{path}` is empty") from None
        except Exception as exc:  # parsers raise many types; all mean "unreadable"
            raise DataError(f"log `{path}` could not be read as {fmt}: {type(exc).__name__}: {exc}") from None

    def _check_columns(self, names: Sequence[str]) -> None:
        have = [str(n) for n in names]
        for ours in self.needed:
            theirs = self.spec.column(ours)
            if theirs not in have:
                close = difflib.get_close_matches(theirs, have, n=1)
                hint = (
                    f"; did you mean `{close[0]}`? (map it with `logs.columns.{ours}: {close[0]}`)"
                    if close
                    else ""
                )
                mapped = "" if theirs == ours else f" (`logs.columns.{ours}`)"
                raise DataError(
                    f"log `{self.spec.path}` has no column `{theirs}`{mapped}, which this analysis needs{hint}; "
                    f"its columns: {', '.join(have[:20])}{' …' if len(have) > 20 else ''}"
                )
        self.present = tuple(c for c in (*self.needed, *self.optional) if self.spec.column(c) in have)
        self.extras_present = tuple(c for c in self.extra if c in have and c not in self.present)

    # --- converting and checking --------------------------------------------------------

    def _convert(self, raw: pd.DataFrame, offset: int) -> pd.DataFrame:
        import pandas as pd

        # Readers number chunks differently (pyarrow restarts at 0): one numbering, the log's row.
        raw = raw.set_axis(pd.RangeIndex(offset, offset + len(raw)), axis=0)
        out: dict[str, Any] = {}
        for ours in self.present:
            series = raw[self.spec.column(ours)]
            convert = _CONVERTERS.get(ours)
            out[ours] = series if convert is None else convert(self, series, offset)
        for name in self.extras_present:
            out[name] = raw[name]
        return pd.DataFrame(out, index=raw.index)

    def _where(self, ours: str, offset_row: int) -> str:
        mapped = self.spec.column(ours)
        return f"log `{self.spec.path}`, row {offset_row + 1:,}, column `{mapped}`"

    def _timestamps(self, series: pd.Series, offset: int) -> pd.Series:
        import pandas as pd

        missing = series.isna().to_numpy()
        if missing.any():
            row = offset + int(np.argmax(missing))
            raise DataError(f"{self._where('timestamp', row)}: the timestamp is empty")
        try:
            if pd.api.types.is_datetime64_any_dtype(series):
                aware = getattr(series.dt, "tz", None) is not None
                parsed = series.dt.tz_convert("UTC") if aware else series.dt.tz_localize("UTC")
            elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                nanos = np.asarray(series, dtype=np.float64) * _UNITS[self.spec.timestamp_unit]
                if np.abs(nanos).max() >= 2.0**62:  # beyond the year 2116: the wrong unit, not a date
                    raise OverflowError(
                        f"{_show(series.abs().max())} is too large for a timestamp in that unit"
                    )
                parsed = pd.Series(pd.to_datetime(nanos.astype(np.int64), utc=True), index=series.index)
            else:
                parsed = pd.to_datetime(series.astype(str), utc=True, format="ISO8601", errors="coerce")
        except (ValueError, OverflowError, TypeError) as exc:
            raise DataError(
                f"log `{self.spec.path}`: column `{self.spec.column('timestamp')}` could not be read as timestamps "
                f"(`logs.timestamp_unit`={self.spec.timestamp_unit!r}; epoch milliseconds need 'ms'): {exc}"
            ) from None
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{self._where('timestamp', offset + i)}: {_show(series.iloc[i])} is not an ISO 8601 timestamp "
                "(like 2026-11-30T12:00:00Z) or epoch number"
            )
        return parsed

    def _arms(self, series: pd.Series, offset: int) -> pd.Series:
        import pandas as pd

        missing = series.isna().to_numpy()
        if missing.any():
            row = offset + int(np.argmax(missing))
            raise DataError(f"{self._where('arm', row)}: the arm is empty")
        codes, uniques = pd.factorize(series)
        names = np.array([_arm(u) for u in uniques], dtype=object)
        if self.arms is not None:
            unknown = [n for n in dict.fromkeys(names) if n not in self.arms]
            if unknown:
                first = offset + int(np.argmax(np.isin(names[codes], unknown)))
                count = int(np.isin(names[codes], unknown).sum())
                raise DataError(
                    f"{self._where('arm', first)}: arm {unknown[0]!r} is not one this analysis knows "
                    f"({', '.join(repr(a) for a in self.arms)}); {count:,} row(s) in this chunk have unknown arms "
                    f"{', '.join(repr(u) for u in unknown[:5])}. Fix the config's arm values, or filter the log"
                )
        return pd.Series(names[codes], index=series.index, dtype=object)

    def _ids(self, ours: str, series: pd.Series, offset: int) -> pd.Series:
        text = identifiers(series)
        empty = series.isna().to_numpy() | (text.to_numpy() == "")
        if empty.any():
            i = int(np.argmax(empty))
            what = "request id" if ours == "request_id" else "unit"
            raise DataError(f"{self._where(ours, offset + i)}: the {what} is empty; every row needs one")
        return text

    def _errors(self, series: pd.Series, offset: int) -> pd.Series:
        import pandas as pd

        if pd.api.types.is_bool_dtype(series):
            return series.astype(bool)
        values = series.to_numpy()
        if pd.api.types.is_numeric_dtype(series):
            ok = np.isin(values, (0, 1))
            if ok.all():
                return pd.Series(values.astype(bool), index=series.index)
            i = int(np.argmin(ok))
        else:
            text = series.astype(str).str.strip().str.lower()
            flags = text.map(lambda t: True if t in _TRUE else (False if t in _FALSE else None))
            ok = flags.notna().to_numpy() & series.notna().to_numpy()
            if ok.all():
                return flags.astype(bool)
            i = int(np.argmin(ok))
        if series.isna().iloc[i]:
            raise DataError(
                f"{self._where('error', offset + i)}: the error flag is empty; a request with no outcome "
                "cannot count as a success (log 0/1 or true/false on every row)"
            )
        raise DataError(
            f"{self._where('error', offset + i)}: {_show(values[i])} is not an error flag; use 0/1 or true/false"
        )

    def _numbers(self, ours: str, series: pd.Series, offset: int, *, nonnegative: bool) -> pd.Series:
        import pandas as pd

        numeric = pd.to_numeric(series, errors="coerce")
        bad = (numeric.isna() & series.notna()).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{self._where(ours, offset + i)}: {_show(series.iloc[i])} is not a number")
        if nonnegative:
            negative = (numeric < 0).to_numpy()
            if negative.any():
                i = int(np.argmax(negative))
                raise DataError(f"{self._where(ours, offset + i)}: {_show(series.iloc[i])} is negative")
        return numeric.astype(np.float64)

    def _check_order(self, frame: pd.DataFrame, previous_last: Any) -> None:
        stamps = frame["timestamp"].to_numpy(dtype="datetime64[ns]")
        backwards = np.flatnonzero(stamps[1:] < stamps[:-1])
        if previous_last is not None and stamps[0] < previous_last.to_datetime64():
            at, before, after = int(frame.index[0]), previous_last, frame["timestamp"].iloc[0]
        elif backwards.size:
            j = int(backwards[0])
            at, before, after = (
                int(frame.index[j + 1]),
                frame["timestamp"].iloc[j],
                frame["timestamp"].iloc[j + 1],
            )
        else:
            return
        raise DataError(
            f"{self._where('timestamp', at)}: timestamps go backwards ({after.isoformat()} after {before.isoformat()}); "
            "a log merged from several writers can set `logs.order: any`"
        )

    def _remember_ids(self, frame: pd.DataFrame) -> None:
        import pandas as pd

        # Ids are (nearly) unique: factorizing them first, pandas' default, only costs time.
        ids = pd.util.hash_pandas_object(frame["request_id"], index=False, categorize=False).to_numpy()
        if self.unique_per == "arm":
            arms = pd.util.hash_pandas_object(frame["arm"], index=False).to_numpy()
            ids = ids ^ (arms * np.uint64(0x9E3779B97F4A7C15))
        self._hashes.append(np.sort(ids))

    def _check_duplicates(self) -> None:
        """Repeated request ids, found by 64-bit hashes (8 bytes a row), named by a second look."""
        import pandas as pd

        hashes = np.concatenate(self._hashes) if len(self._hashes) > 1 else self._hashes[0]
        self._hashes = []  # the chunks' arrays go before the sort: one copy of 8 bytes a row at the peak
        hashes.sort()
        repeated = hashes[1:][hashes[1:] == hashes[:-1]]
        if repeated.size == 0:
            return
        count = int(np.unique(repeated).size)
        examples: list[str] = []
        for frame in self._reread():
            ids = identifiers(frame["request_id"])
            key = pd.util.hash_pandas_object(ids, index=False, categorize=False).to_numpy()
            if self.unique_per == "arm":
                key = key ^ (
                    pd.util.hash_pandas_object(frame["arm"], index=False).to_numpy()
                    * np.uint64(0x9E3779B97F4A7C15)
                )
            hit = np.isin(key, repeated)
            examples += [
                f"{i} (row {r + 1:,})" for i, r in zip(ids[hit].head(5), frame.index[hit][:5], strict=False)
            ]
            if len(examples) >= 5:
                break
        scope = "per arm" if self.unique_per == "arm" else "in the log"
        raise DataError(
            f"log `{self.spec.path}`: {count:,} request id(s) in column `{self.spec.column('request_id')}` "
            f"appear more than once {scope}, e.g. {', '.join(examples[:5])}; a request must be logged once"
        )

    def _reread(self) -> Iterator[pd.DataFrame]:
        again = LogReader(self.spec, self.needed, self.optional, None, self.unique_per)
        for raw in again._raw_chunks():
            frame = raw.rename(columns={self.spec.column(c): c for c in again.present})
            frame.index = range(again.rows_read, again.rows_read + len(frame))
            if "arm" in frame:
                frame["arm"] = frame["arm"].map(_arm)
            again.rows_read += len(frame)
            yield frame


_CONVERTERS: dict[str, Callable[[LogReader, pd.Series, int], pd.Series]] = {
    "timestamp": LogReader._timestamps,
    "arm": LogReader._arms,
    "error": LogReader._errors,
    "latency_ms": lambda r, s, o: r._numbers("latency_ms", s, o, nonnegative=True),
    "score": lambda r, s, o: r._numbers("score", s, o, nonnegative=False),
    "request_id": lambda r, s, o: r._ids("request_id", s, o),
    "unit": lambda r, s, o: r._ids("unit", s, o),
}


def identifiers(series: pd.Series) -> pd.Series:
    """Request ids and units as text: ``7`` and ``7.0`` (a CSV column with a blank) are one id."""
    import pandas as pd

    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if (whole == np.floor(whole)).all():
            return series.astype("Int64").astype(str)
    return series.astype(str)


def parse_instant(text: str, what: str) -> Any:
    """An ISO 8601 instant from the command line or config, as a UTC timestamp."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ConfigError(
            f"`{what}`={text!r} must be an ISO 8601 timestamp like 2026-11-30T12:00:00Z"
        ) from None
    if stamp is pd.NaT:
        raise ConfigError(f"`{what}`={text!r} must be an ISO 8601 timestamp like 2026-11-30T12:00:00Z")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def labels_equal(left: pd.Series, right: pd.Series) -> NDArray[np.bool_]:
    """Row-wise equality of two label columns: as numbers where both are (1 == 1.0), else as text.

    An empty value equals nothing, not even another empty value.
    """
    import pandas as pd

    a = pd.to_numeric(left, errors="coerce").to_numpy(np.float64)
    b = pd.to_numeric(right, errors="coerce").to_numpy(np.float64)
    numeric = np.isfinite(a) & np.isfinite(b)
    as_text = left.astype(str).to_numpy() == right.astype(str).to_numpy()
    present = left.notna().to_numpy() & right.notna().to_numpy()
    return np.asarray(np.where(numeric, a == b, as_text) & present)


def _show(value: Any) -> str:
    """A value from a log as the user wrote it: numpy scalars without their type's name."""
    return repr(value.item() if hasattr(value, "item") else value)
