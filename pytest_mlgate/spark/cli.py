"""`mlgate profile --engine spark`: a profile of a Parquet folder, read by a local Spark session."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..profile import Profile, load_profile
from . import local_session, require_pyspark


def spark_profile(data: Path, columns: list[str] | None, like: Path | None) -> Profile:
    require_pyspark()
    from .profile import build_spark_profile

    if not data.exists():
        raise DataError(f"`{data}` does not exist")
    reference = load_profile(like) if like is not None else None
    session = local_session()
    try:
        frame = session.read.parquet(str(data))
    except Exception as exc:  # Spark's AnalysisException: not Parquet, or an empty folder
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(f"Spark could not read `{data}` as Parquet: {first}") from None
    return build_spark_profile(frame, columns, like=reference, source=str(data))
