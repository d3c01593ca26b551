"""Fairness on a Spark DataFrame: counts of (group, y, candidate, baseline) cells, judged as on one machine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks.fairness import _judge, group_labels
from ..config import GateConfig
from ..errors import ConfigError, DataError
from ..results import CheckResult
from ..stats.groups import disparities
from ..stats.rng import stream
from .sufficient import Prepared


def sensitive_alias(i: int) -> str:
    return f"g{i}"


def run_spark_fairness(config: GateConfig, prep: Prepared) -> list[CheckResult]:
    """The stratified paired cell bootstrap on group cell counts that Spark computes."""
    from pyspark.sql import functions as F

    cfg = config.fairness
    assert cfg is not None
    custom = [m for m in cfg.metrics if ":" in m]
    if custom:
        raise ConfigError(
            f"`fairness.metrics`: {custom[0]!r} is a user metric, which needs the rows on one machine; "
            "it is not available with `data.engine`=spark"
        )
    groups = [sensitive_alias(i) for i in range(len(cfg.sensitive))]
    if cfg.missing == "error":
        row = prep.frame.agg(*[F.sum(F.col(g).isNull().cast("int")).alias(g) for g in groups]).first()
        for g, column in zip(groups, cfg.sensitive, strict=True):
            if row[g]:
                raise DataError(
                    f"sensitive column `{column}` has {row[g]} missing value(s); "
                    "set `fairness.missing: group` to treat them as a group of their own"
                )
    with_baseline = "b" in prep.models
    base = "b_label" if with_baseline else "c_label"
    rows = prep.frame.groupBy(*groups, "y", "c_label", base).count().collect()
    distinct = pd.DataFrame(
        {column: [r[g] for r in rows] for g, column in zip(groups, cfg.sensitive, strict=True)}
    )
    codes, names = group_labels(cfg, distinct)
    cells = np.zeros((len(names), 8), dtype=np.float64)
    index = np.array([int(r["y"]) * 4 + int(r["c_label"]) * 2 + int(r[base]) for r in rows], dtype=np.intp)
    np.add.at(cells, (codes, index), np.array([float(r["count"]) for r in rows]))
    results = disparities(
        cells,
        names,
        list(cfg.metrics),
        rng=stream(config.seed, "fairness"),
        n_boot=config.n_boot,
        confidence=config.confidence,
        min_group_size=cfg.min_group_size,
        max_half_width=cfg.max_half_width,
        with_baseline=with_baseline,
    )
    return [_judge(cfg, d, with_baseline) for d in results]
