"""Reading CSV and Parquet tables with errors that name the file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError
from ..extras import install_hint

if TYPE_CHECKING:
    import pandas as pd


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_format(path: Path, declared: str | None = None) -> str:
    if declared:
        return declared
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".gz"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ConfigError(
        f"cannot tell the format of `{path}` from its suffix; set `data.format` to csv or parquet"
    )


def _pyarrow_parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(f"reading Parquet file `{path}` needs pyarrow: {install_hint('parquet')}") from None
    return pq


PARQUET_READ_BUFFER = 1 << 20
"""Bytes per column read from a Parquet file at a time, so memory follows the batch, not the row group."""


def iter_table_chunks(
    path: Path,
    declared_format: str | None = None,
    what: str = "data",
    rows: int = 200_000,
    columns: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Read a table in chunks of ``rows`` (pyarrow batches for Parquet), for bounded memory.

    ``columns`` reads only those columns (all when None); a name the file lacks is a ``DataError``.
    """
    import pandas as pd

    if not path.is_file():
        _refuse_folder(path, what)
        raise DataError(f"{what} file `{path}` does not exist")
    fmt = table_format(path, declared_format)
    try:
        if fmt == "parquet":
            pq = _pyarrow_parquet(path)
            # Unbuffered (pyarrow's default), each column chunk of a row group is read whole before
            # the first batch is decoded: a 1e6-row row group of 25 columns cost ~1 GB however small
            # the batch. A buffered stream reads the pages as the batches need them.
            parquet = pq.ParquetFile(path, buffer_size=PARQUET_READ_BUFFER, pre_buffer=False)
            if columns is not None:
                _require(path, what, parquet.schema_arrow.names, columns)
            for batch in parquet.iter_batches(batch_size=rows, columns=columns):
                yield batch.to_pandas()
        else:
            if columns is not None:
                _require(path, what, [str(c) for c in pd.read_csv(path, nrows=0).columns], columns)
            for chunk in pd.read_csv(path, chunksize=rows, usecols=columns):
                if columns is not None:
                    chunk = chunk[columns]  # usecols keeps the file's order; callers get theirs
                yield chunk
    except (ConfigError, DataError):
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} file `{path}` is empty") from None
    except Exception as exc:
        raise DataError(f"{what} file `{path}` could not be read as {fmt}: {exc}") from None


def _refuse_folder(path: Path, what: str) -> None:
    if (path / "_delta_log").is_dir():
        raise DataError(
            f"{what} `{path}` is a Delta table (it holds _delta_log/); this engine reads one CSV or Parquet "
            "file: read the table with `data.engine: spark` (or `mlgate profile --engine spark`)"
        )


def _require(path: Path, what: str, names: list[str], columns: list[str]) -> None:
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"columns {missing!r} are not in {what} file `{path}`")


def read_table(path: Path, declared_format: str | None = None, what: str = "data") -> pd.DataFrame:
    """Read a whole table. Raises ``DataError`` (exit 3) when it cannot be read."""
    import pandas as pd

    if not path.exists():
        raise DataError(f"{what} file `{path}` does not exist")
    if not path.is_file():
        _refuse_folder(path, what)
        raise DataError(f"{what} file `{path}` is not a regular file")
    fmt = table_format(path, declared_format)
    try:
        if fmt == "parquet":
            _pyarrow_parquet(path)
            frame = pd.read_parquet(path)
        else:
            header = pd.read_csv(path, nrows=0, header=None).columns
            if len(header):
                names = [str(v) for v in pd.read_csv(path, nrows=1, header=None).iloc[0]]
                repeated = sorted({n for n in names if names.count(n) > 1})
                if repeated:
                    raise DataError(
                        f"{what} file `{path}` repeats column name(s) {repeated}; names must be unique"
                    )
            frame = pd.read_csv(path)
    except (ConfigError, DataError):
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} file `{path}` is empty") from None
    except Exception as exc:  # parsers raise many types; all mean "unreadable"
        raise DataError(f"{what} file `{path}` could not be read as {fmt}: {exc}") from None
    if len(frame) == 0:
        raise DataError(f"{what} file `{path}` has a header but no rows")
    return frame
