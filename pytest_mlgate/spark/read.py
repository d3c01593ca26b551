"""Reading a folder on Spark: plain Parquet, or a Delta table read through its log.

A Delta table's folder keeps the Parquet files that an overwrite, a delete or a
compaction removed until a vacuum, so ``spark.read.parquet(folder)`` would count rows
the table no longer holds. Which files are live is said by ``_delta_log/`` alone, so
a Delta table is read by the session's Delta data source (delta-spark) when it has
one, else by listing the live files with ``deltalake`` (delta-rs), else not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError

# Reader features that reading the live Parquet files as they are still honours: a column type
# Spark reads natively, and a rule for writers that vacuum. Any other one (deletion vectors, column
# mapping, type widening, ...) changes what the files mean, and is refused rather than misread.
_PLAIN_READER_FEATURES = frozenset({"timestampNtz", "vacuumProtocolCheck"})


@dataclass(frozen=True)
class Read:
    """The frame read, and for a Delta table the version read and by what (for the report)."""

    frame: Any
    delta: dict[str, Any] | None = None


def is_delta(path: Path, declared: str | None = None) -> bool:
    return declared == "delta" or (path / "_delta_log").is_dir()


def read_path(
    session: Any,
    path: Path,
    *,
    key: str = "data.path",
    declared: str | None = None,
    version: int | None = None,
) -> Read:
    """Read a Parquet file or folder, or a Delta table (at ``version``, default the latest).

    Raises ConfigError (exit 2) for a Delta table that cannot be read correctly here,
    DataError (exit 3) for data that is missing or unreadable.
    """
    if not path.exists():
        raise DataError(f"`{key}`: `{path}` does not exist")
    delta = is_delta(path, declared)
    if version is not None and not delta:
        raise ConfigError(
            f"`data.version`={version} needs a Delta table, and `{key}`=`{path}` holds no _delta_log/"
        )
    if not delta:
        try:
            return Read(session.read.parquet(str(path)))
        except Exception as exc:  # Spark's AnalysisException: not Parquet, or an empty folder
            raise DataError(f"`{key}`: Spark could not read `{path}` as Parquet: {first_line(exc)}") from None
    try:
        reader = session.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        frame = reader.load(str(path))
    except Exception as exc:
        if not _no_delta_source(exc):
            raise DataError(
                f"`{key}`: Spark could not read Delta table `{path}`: {first_line(exc)}"
            ) from None
    else:
        return Read(
            frame, {"reader": "spark delta source", **({"version": version} if version is not None else {})}
        )
    return _read_with_deltalake(session, path, key, version)


def _no_delta_source(exc: Exception) -> bool:
    # Spark 3.4+ names the error class; older releases only say it in words.
    text = str(exc)
    return "DATA_SOURCE_NOT_FOUND" in text or "Failed to find data source: delta" in text


def _read_with_deltalake(session: Any, path: Path, key: str, version: int | None) -> Read:
    try:
        from deltalake import DeltaTable
    except ImportError:
        from ..extras import install_hint

        raise ConfigError(
            f"`{key}`=`{path}` is a Delta table (it holds _delta_log/): reading it needs the Delta data "
            f"source in the Spark session (delta-spark) or the `delta` extra ({install_hint('delta')}); "
            "reading its Parquet files directly would count rows the log removed"
        ) from None
    try:
        table = DeltaTable(str(path), version=version)
    except Exception as exc:  # not a table, a version it never had, a corrupt log, a newer protocol
        raise DataError(f"`{key}`: `{path}` could not be read as a Delta table: {first_line(exc)}") from None
    _refuse_protocol(table, path, key)
    from pyspark.sql.types import StructType

    # Delta stores its schema as Spark's own StructType JSON: the partition columns get the table's
    # types from it, where partition discovery would guess them from the folder names ("007" -> 7).
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    files = _live_files(table, path, key)
    if files:
        frame = session.read.schema(schema).option("basePath", str(path)).parquet(*files)
    else:
        frame = session.createDataFrame([], schema)
    return Read(frame, {"reader": "deltalake", "version": int(table.version()), "files": len(files)})


def _refuse_protocol(table: Any, path: Path, key: str) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    if protocol.min_reader_version == 2:
        features.add("columnMapping")  # reader version 2 is column mapping, before features were named
    unsupported = sorted(features - _PLAIN_READER_FEATURES)
    if protocol.min_reader_version > 3 or unsupported:
        what = ", ".join(unsupported) or f"reader version {protocol.min_reader_version}"
        raise ConfigError(
            f"`{key}`=`{path}` is a Delta table whose protocol needs {what} "
            f"(minReaderVersion {protocol.min_reader_version}): reading its live Parquet files directly "
            "would not honour that; read it with a Spark session that has the Delta data source (delta-spark)"
        )


def _live_files(table: Any, path: Path, key: str) -> list[str]:
    """The table's live files, checked to lie in ``column=value`` folders that Spark's basePath parses."""
    partitions = list(table.metadata().partition_columns)
    root = path.resolve()
    files = [str(f) for f in table.file_uris()]
    for uri in files:
        local = Path(uri.removeprefix("file://"))
        try:
            folders = local.resolve().relative_to(root).parts[:-1]
        except ValueError:
            folders = ()
        names = [part.split("=", 1)[0] for part in folders]
        if names != partitions:
            raise DataError(
                f"`{key}`: Delta table `{path}` keeps file `{uri}` outside the `column=value` folders of its "
                f"partition columns {partitions}; read it with the Delta data source (delta-spark)"
            )
    return files


def first_line(exc: BaseException) -> str:
    """The JVM's own message of a Spark or py4j error, in one line, for an error that names the input."""
    # py4j opens with "An error occurred while calling o39.load."; the JVM's own message follows it.
    lines = [line.strip(" :") for line in str(exc).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("An error occurred while calling")] or lines
    return lines[0] if lines else type(exc).__name__
