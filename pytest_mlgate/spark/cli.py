"""`mlgate profile --engine spark`: a profile of a Parquet folder or a Delta table, read by a local Spark session."""

from __future__ import annotations

from pathlib import Path

from ..profile import Profile, load_profile
from . import local_session, require_pyspark


def spark_profile(data: Path, columns: list[str] | None, like: Path | None) -> Profile:
    require_pyspark()
    from .profile import build_spark_profile
    from .read import read_path

    reference = load_profile(like) if like is not None else None
    frame = read_path(local_session(), data, key="DATA").frame
    return build_spark_profile(frame, columns, like=reference, source=str(data))
