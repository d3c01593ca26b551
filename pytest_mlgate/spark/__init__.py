"""The gate and profiles on Apache Spark, for holdouts and logs that outgrow one machine.

Spark reduces the table to small sufficient statistics (confusion-cell counts,
moments of per-row losses, DeLong placement variances, counts on a profile's
frozen bin edges); the numerics that judge them are the single-machine ones in
``pytest_mlgate.stats``. Needs the ``spark`` extra (pyspark, and a Java runtime).

    from pytest_mlgate.spark import gate_dataframe, profile_dataframe
    report = gate_dataframe(config, spark.table("holdout"))
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import GateConfig
    from ..profile import Profile
    from ..results import GateReport

__all__ = ["gate_dataframe", "local_session", "profile_dataframe", "require_pyspark"]


def require_pyspark() -> Any:
    """Import pyspark, or say how to install it (a ConfigError, exit 2)."""
    try:
        import pyspark
    except ImportError:
        from ..extras import install_hint

        raise ConfigError(
            f"`data.engine`=spark needs pyspark and a Java runtime: {install_hint('spark')}; "
            "pyspark 4 needs Java 17 or newer"
        ) from None
    return pyspark


def local_session(cores: int | None = None, app: str = "mlgate", conf: dict[str, str] | None = None) -> Any:
    """The active SparkSession, else a local one bound to 127.0.0.1, without the web UI.

    ``MLGATE_SPARK_MASTER`` (e.g. ``spark://host:7077`` or ``yarn``) replaces the local
    master; ``MLGATE_SPARK_CORES`` (default 2) sizes the local one. ``conf`` adds Spark
    settings to a new session, before its JVM starts (``spark.driver.memory``, say).
    On a cluster you can also build your own session and pass DataFrames to ``gate_dataframe``.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    cores = cores or int(os.environ.get("MLGATE_SPARK_CORES", "2"))
    master = os.environ.get("MLGATE_SPARK_MASTER") or f"local[{cores}]"
    builder = SparkSession.builder.master(master).appName(app)
    if master.startswith("local"):
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", str(max(2 * cores, 2)))
        )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def gate_dataframe(config: GateConfig, frame: Any) -> GateReport:
    """Run the gate of ``config`` on a Spark DataFrame that holds the target and the predictions."""
    from .gate import run_spark_gate

    return run_spark_gate(config, frame)


def profile_dataframe(
    frame: Any, columns: list[str] | None = None, *, like: Profile | None = None, source: str | None = None
) -> Profile:
    """A reference profile of a Spark DataFrame; ``like`` reuses another profile's edges and categories."""
    from .profile import build_spark_profile

    return build_spark_profile(frame, columns, like=like, source=source)
