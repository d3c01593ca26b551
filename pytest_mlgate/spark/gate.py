"""The gate on a Spark DataFrame: sufficient statistics from Spark, decisions from ``pytest_mlgate.stats``.

What each metric needs from Spark:

* confusion-cell metrics (accuracy, F1, …): the counts of (y, cand, base) cells,
  handed to the very cell bootstrap the single-machine path runs, with the same
  random stream, so counts, values and intervals are identical;
* mean losses, RMSE: means, variances and the covariance of the per-row losses,
  handed to the same t-interval (delta method for RMSE);
* R²: the moments of (SSE terms, y, y²) and a delta-method interval (one machine
  bootstraps rows; the report names the method);
* ROC AUC: exact DeLong placement values from counts per distinct score;
* fairness: counts of (group, y, cand, base) cells, handed to the stratified
  bootstrap; drift: counts on the reference profile's frozen edges.

Tables under 1,000 rows, where one machine bootstraps rows, are collected to the
driver and go through the single-machine code unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from ..config import GateConfig, MetricConfig
from ..errors import ConfigError, DataError
from ..gate import _aggregate, _guard, comparison_result, run_provenance, threshold_result
from ..results import CheckResult, GateReport
from ..stats import moments as mom
from ..stats.decision import decide
from ..stats.metrics import METRICS
from ..stats.paired import SMALL_SAMPLE_ROWS, compare, compare_cell_counts, estimate, estimate_cell_counts
from ..stats.result import Comparison, Estimate
from ..stats.rng import stream
from . import require_pyspark
from .read import Read, first_line, read_path
from .sufficient import (
    Prepared,
    add_placements,
    cell_counts,
    collect_arrays,
    loss_expression,
    moments,
    prepare,
)


def read_frame(config: GateConfig, spark: Any = None) -> Any:
    """The DataFrame that ``data:`` names: a catalog table, a SQL query, a Parquet folder or a Delta table."""
    return read_data(config, spark).frame


def read_data(config: GateConfig, spark: Any = None) -> Read:
    """What ``data:`` names, and for a Delta table which version was read."""
    require_pyspark()
    from . import local_session

    session = spark or local_session()
    data = config.data
    if data.table is None and data.query is None:
        return read_path(session, data.path, declared=data.format, version=data.version)
    try:
        return Read(session.table(data.table) if data.table is not None else session.sql(data.query))
    except Exception as exc:  # Spark's AnalysisException and friends: a table it cannot read
        what = data.table or data.query
        raise DataError(f"Spark could not read `data` ({what}): {first_line(exc)}") from None


def run_spark_gate(config: GateConfig, frame: Any = None) -> GateReport:
    """Run the gate on ``frame`` (default: what ``config.data`` names). Raises ConfigError/DataError."""
    require_pyspark()
    _refuse_unsupported(config)
    delta = None
    if frame is None:
        read = read_data(config)
        frame, delta = read.frame, read.delta
    with _spark_errors():
        prep = prepare(config, frame)
        try:
            checks = _model_checks(config, prep) if config.candidate is not None else []
            checks += _data_checks(config, frame, prep)
        finally:
            prep.frame.unpersist()
    decision, summary = _aggregate(checks, has_baseline=config.baseline is not None)
    return GateReport(
        decision=decision,
        mode=config.mode,
        confidence=config.confidence,
        seed=config.seed,
        fail_on=config.fail_on,
        checks=tuple(checks),
        provenance=_provenance(config, prep, delta),
        summary=summary,
    )


@contextmanager
def _spark_errors() -> Iterator[None]:
    """A failure inside Spark (an unreadable file, a lost executor) is data that could not be read."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        raise DataError(f"Spark failed while reading the data: {first_line(exc)}") from None


def _refuse_unsupported(config: GateConfig) -> None:
    for section, value in (
        ("regression", config.regression),
        ("properties", config.properties),
        ("operational", config.operational),
        ("validation", config.validation),
    ):
        if value:
            raise ConfigError(
                f"`{section}` is not available with `data.engine`=spark; run it in a gate with `engine: pandas`"
            )
    for metric in config.metrics:
        if metric.callable is not None:
            raise ConfigError(
                f"`metrics.{metric.name}.callable`: a user metric needs the rows on one machine; "
                "it is not available with `data.engine`=spark"
            )


# --- model metrics ---------------------------------------------------------------------------


def _model_checks(config: GateConfig, prep: Prepared) -> list[CheckResult]:
    small = collect_arrays(prep) if prep.n < SMALL_SAMPLE_ROWS else None
    stats = _Stats(config, prep, small)
    checks: list[CheckResult] = []
    compared: list[tuple[MetricConfig, Comparison]] = []
    for metric in config.metrics:
        if "b" in prep.models:
            result = _guard(f"compare:{metric.name}", "comparison", metric, partial(stats.compare, metric))
            if isinstance(result, CheckResult):
                checks.append(result)
            else:
                compared.append((metric, result))
        if metric.min is not None or metric.max is not None:
            limits = {"min": metric.min, "max": metric.max}
            est = _guard(
                f"threshold:{metric.name}", "threshold", metric, partial(stats.estimate, metric), limits
            )
            checks.append(threshold_result(metric, est))
    if compared:
        decisions = decide(
            [c for _, c in compared],
            [m.margin for m, _ in compared],
            [m.gain for m, _ in compared],
            config.mode,
        )
        checks += [
            comparison_result(f"compare:{m.name}", c, d, m.margin, m.gain)
            for (m, c), d in zip(compared, decisions, strict=True)
        ]
    order = {m.name: i for i, m in enumerate(config.metrics)}
    checks.sort(key=lambda c: (order.get(c.metric, len(order)), c.kind != "comparison"))
    return checks


class _Stats:
    """Each metric's figures, from Spark aggregates (or, for a small table, from its rows)."""

    def __init__(self, config: GateConfig, prep: Prepared, small: dict[str, Any] | None) -> None:
        self.config, self.prep, self.small = config, prep, small
        self._cells: dict[int, Any] = {}
        # Each aggregate is computed once for every model and shared by comparison and floor.
        self._memo: dict[str, Any] = {}

    def _once(self, key: str, compute: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _loss_moments(self, loss: str) -> Any:
        prep = self.prep
        terms = {p: loss_expression(loss, prep, p) for p in prep.models}
        return self._once(f"loss:{loss}", lambda: moments(prep, terms))

    def _needs_scores(self, metric: str) -> None:
        spec = METRICS[metric]
        if spec.needs == "scores":
            for p in self.prep.models:
                if not self.prep.has_scores.get(p, False):
                    role = self.prep.identities[p]["role"]
                    raise ConfigError(
                        f"metric `{metric}` needs scores but `{role}` gives labels only; "
                        f"point `{role}` at probabilities (type: probability) or drop `{metric}`"
                    )

    def _arrays(self, model: str, needs: str) -> Any:
        assert self.small is not None
        if needs == "labels":
            return self.small[f"{model}_label"].astype(np.intp)
        if needs == "values":
            return self.small[f"{model}_v"].astype(np.float64)
        columns = self.prep.score_columns(model)
        return (
            np.column_stack([self.small[c] for c in columns]) if len(columns) > 1 else self.small[columns[0]]
        )

    def _y(self) -> Any:
        assert self.small is not None
        y = self.small["y"]
        return y.astype(np.float64) if self.prep.task == "regression" else y.astype(np.intp)

    def compare(self, metric: MetricConfig) -> Comparison:
        name, cfg, prep = metric.name, self.config, self.prep
        spec = METRICS[name]
        self._needs_scores(name)
        rng = stream(cfg.seed, f"compare:{name}")
        boundaries = [metric.gain, -metric.margin]
        raw = [b if spec.higher_is_better else -b for b in boundaries]
        k = max(prep.k, 2)
        if spec.family == "cells":
            counts = self._counts(("c", "b"))
            return compare_cell_counts(
                name, counts, k, rng=rng, confidence=cfg.confidence, n_boot=cfg.n_boot, raw_boundaries=raw
            )
        if self.small is not None:
            needs = "values" if prep.task == "regression" else spec.needs
            return compare(
                name,
                self._y(),
                self._arrays("c", needs),
                self._arrays("b", needs),
                rng=rng,
                confidence=cfg.confidence,
                n_boot=cfg.n_boot,
                boundaries=boundaries,
                n_classes=k,
            )
        if spec.family == "auc":
            return self._auc_compare(name)
        if spec.family == "r2":
            means, cov = self._r2_moments(("c", "b"))
            return mom.compare_r2_moments(prep.n, means, cov, confidence=cfg.confidence)
        loss = "mse" if spec.family == "rmse" else name
        m, c = self._loss_moments(loss)
        if spec.family == "rmse":
            return mom.compare_rmse_moments(
                prep.n, m["c"], m["b"], c[("c", "c")], c[("b", "b")], c[("c", "b")], confidence=cfg.confidence
            )
        diff_var = c[("c", "c")] + c[("b", "b")] - 2.0 * c[("c", "b")]
        return mom.compare_loss_moments(name, prep.n, m["c"], m["b"], diff_var, confidence=cfg.confidence)

    def estimate(self, metric: MetricConfig) -> Estimate:
        name, cfg, prep = metric.name, self.config, self.prep
        spec = METRICS[name]
        self._needs_scores(name)
        rng = stream(cfg.seed, f"threshold:{name}")
        bounds = [b for b in (metric.min, metric.max) if b is not None]
        k = max(prep.k, 2)
        if spec.family == "cells":
            counts = self._counts(("c",))
            return estimate_cell_counts(
                name, counts, k, rng=rng, confidence=cfg.confidence, n_boot=cfg.n_boot, boundaries=bounds
            )
        if self.small is not None:
            needs = "values" if prep.task == "regression" else spec.needs
            return estimate(
                name,
                self._y(),
                self._arrays("c", needs),
                rng=rng,
                confidence=cfg.confidence,
                n_boot=cfg.n_boot,
                boundaries=bounds,
                n_classes=k,
            )
        if spec.family == "auc":
            return self._auc_estimate(name)
        if spec.family == "r2":
            means, cov = self._r2_moments(("c",))
            return mom.estimate_r2_moments(prep.n, means, cov, confidence=cfg.confidence)
        loss = "mse" if spec.family == "rmse" else name
        m, c = self._loss_moments(loss)
        return mom.estimate_loss_moments(name, prep.n, m["c"], c[("c", "c")], confidence=cfg.confidence)

    def _counts(self, models: tuple[str, ...]) -> Any:
        """Cell counts, (y, c, b) counted once and summed down to (y, c) for single-model figures."""
        k = max(self.prep.k, 2)
        if "b" in self.prep.models:
            if 3 not in self._cells:
                self._cells[3] = cell_counts(self.prep, ["c", "b"])
            full = self._cells[3]
            return full if len(models) == 2 else full.reshape(k * k, k).sum(axis=1)
        if 2 not in self._cells:
            self._cells[2] = cell_counts(self.prep, ["c"])
        return self._cells[2]

    def _r2_moments(self, models: tuple[str, ...]) -> tuple[Any, Any]:
        from pyspark.sql import functions as F

        y = F.col("y")
        terms: dict[str, Any] = {m: (y - F.col(f"{m}_v")) * (y - F.col(f"{m}_v")) for m in models}
        if len(models) == 1:  # the baseline's slot is not used by a single model's R²
            terms["b"] = terms["c"]
        terms["y"], terms["y2"] = y, y * y
        names = ["c", "b", "y", "y2"]
        m, c = moments(self.prep, terms)
        return np.array([m[a] for a in names]), np.array([[c[(a, b)] for b in names] for a in names])

    # --- AUC --------------------------------------------------------------------------------

    def _problems(self) -> list[tuple[Any, int]]:
        """One-vs-rest problems: (positive column, class index); binary has one, class 1."""
        from pyspark.sql import functions as F

        if self.prep.task == "binary":
            return [((F.col("y") == 1).cast("int"), -1)]
        return [((F.col("y") == i).cast("int"), i) for i in range(self.prep.k)]

    def _score(self, model: str, cls: int) -> str:
        return f"{model}_p" if cls < 0 else f"{model}_p{cls}"

    def _auc_compare(self, name: str) -> Comparison:
        prep = self.prep
        if prep.task == "binary":
            side, m, n_neg = self._binary_placements()
            pos, neg = side["pos"], side["neg"]
            return mom.compare_auc_placements(
                prep.n,
                m,
                n_neg,
                pos["mean_pl_c"],
                pos["mean_pl_b"],
                pos["var_diff"],
                neg["var_diff"],
                confidence=self.config.confidence,
            )
        aucs, influence_sq = self._macro()
        return mom.compare_macro_auc_influence(
            prep.n, aucs["c"], aucs["b"], influence_sq["diff"], confidence=self.config.confidence
        )

    def _auc_estimate(self, name: str) -> Estimate:
        prep = self.prep
        if prep.task == "binary":
            side, m, n_neg = self._binary_placements()
            se = mom.delong_from_placements(m, n_neg, side["pos"]["var_pl_c"], side["neg"]["var_pl_c"])
            return mom.estimate_auc(
                name, prep.n, side["pos"]["mean_pl_c"], se, confidence=self.config.confidence
            )
        aucs, influence_sq = self._macro()
        se = float(np.sqrt(influence_sq["c"] * prep.n / max(prep.n - 1, 1)))
        return mom.estimate_auc(name, prep.n, aucs["c"], se, confidence=self.config.confidence)

    def _binary_placements(self) -> tuple[dict[str, dict[str, float]], int, int]:
        return self._once("auc", self._binary_placements_now)  # type: ignore[no-any-return]

    def _binary_placements_now(self) -> tuple[dict[str, dict[str, float]], int, int]:
        models = self.prep.models
        from .sufficient import placement_summary

        ((positive, cls),) = self._problems()
        frame = self.prep.frame.withColumn("pos", positive)
        frame, m, n_neg = add_placements(frame, "pos", {f"pl_{p}": self._score(p, cls) for p in models})
        mom._check_classes(m, n_neg)
        return placement_summary(frame, "pos", [f"pl_{p}" for p in models]), m, n_neg

    def _macro(self) -> tuple[dict[str, float], dict[str, float]]:
        return self._once("auc", self._macro_now)  # type: ignore[no-any-return]

    def _macro_now(self) -> tuple[dict[str, float], dict[str, float]]:
        """Macro one-vs-rest AUC per model, and Σ rows influence_c² and (influence_c − influence_b)²."""
        models = self.prep.models
        from pyspark.sql import functions as F

        k = self.prep.k
        frame = self.prep.frame
        sizes: dict[int, tuple[int, int]] = {}
        for positive, cls in self._problems():
            frame = frame.withColumn(f"pos{cls}", positive)
        rows = frame
        for _, cls in self._problems():
            frame, m, n_neg = add_placements(
                frame, f"pos{cls}", {f"pl_{p}_{cls}": self._score(p, cls) for p in models}, rows=rows
            )
            mom._check_classes(m, n_neg)
            sizes[cls] = (m, n_neg)
        frame = frame.persist()
        try:
            means = frame.agg(
                *[
                    F.avg(F.when(F.col(f"pos{cls}") == 1, F.col(f"pl_{p}_{cls}"))).alias(f"{p}_{cls}")
                    for p in models
                    for cls in range(k)
                ]
            ).first()
            per_class = {(p, cls): float(means[f"{p}_{cls}"]) for p in models for cls in range(k)}
            aucs = {p: sum(per_class[(p, cls)] for cls in range(k)) / k for p in models}
            sums = []
            for key, pair in (("c", ["c"]), ("diff", ["c", "b"])):
                if not set(pair) <= set(models):
                    continue
                total = None
                for cls in range(k):
                    m, n_neg = sizes[cls]
                    size = F.when(F.col(f"pos{cls}") == 1, F.lit(float(m * k))).otherwise(
                        F.lit(float(n_neg * k))
                    )
                    centred = F.col(f"pl_c_{cls}") - per_class[("c", cls)]
                    if key == "diff":
                        centred = centred - (F.col(f"pl_b_{cls}") - per_class[("b", cls)])
                    total = centred / size if total is None else total + centred / size
                assert total is not None
                sums.append(F.sum(total * total).alias(key))
            row = frame.agg(*sums).first()
            influence_sq = {key: float(row[key]) for key in row.asDict()}
        finally:
            frame.unpersist()
        return aucs, influence_sq


# --- data checks -----------------------------------------------------------------------------


def _data_checks(config: GateConfig, frame: Any, prep: Prepared) -> list[CheckResult]:
    checks: list[CheckResult] = []
    if config.drift is not None:
        from .drift import run_spark_drift

        current = frame
        if config.drift.current is not None:
            current = read_path(frame.sparkSession, config.drift.current, key="drift.current").frame
        checks += run_spark_drift(config.drift, current, config.data.target)
    if config.fairness is not None:
        from .fairness import run_spark_fairness

        checks += run_spark_fairness(config, prep)
    return checks


def _provenance(config: GateConfig, prep: Prepared, delta: dict[str, Any] | None) -> dict[str, Any]:
    from ..lineage import add_lineage

    run = run_provenance(config)
    where = config.data.table or config.data.query or str(config.data.path)
    # A catalog table or query has no path, so only a DVC-tracked parquet/CSV path (or drift input) is recorded.
    return add_lineage(
        config,
        {
            "candidate": prep.identities.get("c"),
            "baseline": prep.identities.get("b"),
            "data": {
                "path": f"spark:{where}",
                "sha256": prep.sha256,
                "rows": prep.n,
                "target": config.data.target,
                "engine": "spark",
                **({"delta": delta} if delta is not None else {}),
            },
            "task": config.task,
            "classes": list(prep.classes),
            **run,
            "versions": {**run["versions"], "pyspark": _pyspark_version()},
        },
    )


def _pyspark_version() -> str:
    import pyspark

    return str(pyspark.__version__)
