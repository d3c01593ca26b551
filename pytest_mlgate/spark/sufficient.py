"""Spark side: validate the table, encode labels and predictions, aggregate sufficient statistics.

Nothing here judges anything: every function returns plain numbers or numpy
arrays, which ``pytest_mlgate.stats`` turns into intervals exactly as on one
machine. Labels are matched by the same text form as ``pytest_mlgate.data``
(``1`` and ``"1"`` are one label; booleans read ``True``/``False``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import GateConfig, Source
from ..data import _PROB_SUM_TOLERANCE, _encode_target
from ..errors import ConfigError, DataError

FloatArray = NDArray[np.float64]

MAX_LABELS = 1_000
"""More distinct target values than this in a classification task is a wrong `data.target`."""


@dataclass
class Prepared:
    """The narrow, validated, cached frame: ``y`` plus each model's labels / scores / values."""

    frame: Any
    task: str
    n: int
    classes: tuple[str, ...]
    sha256: str
    models: list[str]
    """``["c"]`` or ``["c", "b"]``: column prefixes of the candidate and the baseline."""
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    has_scores: dict[str, bool] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.classes)

    def score_columns(self, model: str) -> list[str]:
        if self.task == "binary":
            return [f"{model}_p"]
        return [f"{model}_p{i}" for i in range(self.k)]


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def label_text(frame: Any, column: str) -> Any:
    """A column's values as the text pandas' ``astype(str)`` gives (booleans as True/False)."""
    from pyspark.sql.types import BooleanType

    F = _F()
    col = F.col(f"`{column}`")
    if isinstance(frame.schema[column].dataType, BooleanType):
        return F.when(col, F.lit("True")).when(~col, F.lit("False"))
    return col.cast("string")


def _require(frame: Any, columns: list[str], key: str, what: str) -> None:
    names = list(frame.columns)
    for column in columns:
        if column not in names:
            shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
            raise DataError(f"`{key}`: column `{column}` is not in the {what} (columns: {shown})")


def _source_columns(source: Source, config: GateConfig, classes: tuple[str, ...]) -> list[str]:
    at = f"`{source.role}`"
    if source.model is not None or source.uri is not None or source.file is not None:
        raise ConfigError(
            f"{at}: `data.engine`=spark reads predictions from columns of the table; "
            f"score the model into a column first and set `{source.role}.column`"
            + (" (or `columns`)" if config.task == "multiclass" else "")
        )
    if source.columns is not None:
        missing = [c for c in classes if c not in source.columns]
        if missing:
            raise ConfigError(
                f"`{source.role}.columns` must map every class to a column; missing {missing!r}"
            )
        return [source.columns[c] for c in classes]
    assert source.column is not None
    return [source.column]


def fingerprint_columns(frame: Any) -> list[Any]:
    """Aggregates whose values, with the schema, fingerprint the table (see ``fingerprint_of``)."""
    F = _F()
    cols = [F.col(f"`{c}`") for c in frame.columns]
    return [
        F.count(F.lit(1)).alias("_rows"),
        F.sum(F.xxhash64(*cols).cast("decimal(38,0)")).alias("_hash"),
    ]


def fingerprint_of(frame: Any, row: Any) -> str:
    """sha256 of the schema, the row count and an order-independent sum of 64-bit row hashes.

    A table in a lakehouse has no file to hash; this changes when any value changes,
    whatever the partitioning, and rides on a scan the gate makes anyway.
    """
    text = f"{frame.schema.simpleString()}|{row['_rows']}|{row['_hash']}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare(config: GateConfig, frame: Any) -> Prepared:
    """Encode the target and the predictions; every bad value is a DataError naming its column."""
    F = _F()
    target = config.data.target
    _require(frame, [target], "data.target", "Spark table")
    sources = [s for s in (config.candidate, config.baseline) if s is not None]
    prefixes = {"candidate": "c", "baseline": "b"}
    task = config.task
    classes: tuple[str, ...] = ()
    problems: list[tuple[str, Any]] = []  # (message, boolean column that marks a bad row)
    selected: list[Any] = []
    if sources:
        problems.append((f"target column `{target}` has missing values", F.col(f"`{target}`").isNull()))
    # Without a model (data checks only) the target is a column like any other: nothing to encode.
    if sources and task == "regression":
        y = F.col(f"`{target}`").cast("double")
        problems.append((f"target column `{target}` must hold finite numbers", _not_finite(y)))
        selected.append(y.alias("y"))
    elif sources:
        text = label_text(frame, target)
        present = [r[0] for r in frame.select(text.alias("t")).distinct().limit(MAX_LABELS + 1).collect()]
        present = [p for p in present if p is not None]
        if len(present) > MAX_LABELS:
            raise DataError(
                f"target column `{target}` has more than {MAX_LABELS} distinct labels; is it the right column?"
            )
        classes, codes = _encode_target(config, np.array(present, dtype=object), sources, {})
        selected.append(_code_of(text, dict(zip(present, codes.tolist(), strict=True))).alias("y"))
    identities: dict[str, dict[str, Any]] = {}
    has_scores: dict[str, bool] = {}
    extremes: list[tuple[str, Any]] = []
    for source in sources:
        p = prefixes[source.role]
        columns = _source_columns(source, config, classes)
        _require(frame, columns, f"{source.role}.column" + ("s" if len(columns) > 1 else ""), "Spark table")
        identities[p] = {
            "role": source.role,
            "name": source.describe(),
            "kind": "column",
            "path": None,
            "sha256": None,
        }
        cols = [F.col(f"`{c}`") for c in columns]
        what = f"{source.role} column `{columns[0]}`"
        if task == "regression":
            v = cols[0].cast("double")
            problems.append((f"{what} must hold finite numbers (no missing values)", _not_finite(v)))
            selected.append(v.alias(f"{p}_v"))
            continue
        if source.type == "label":
            text = label_text(frame, columns[0])
            index = {label: i for i, label in enumerate(classes)}
            code = _code_of(text, index)
            problems.append(
                (f"{what} holds missing values or labels outside {list(classes)!r}", code.isNull())
            )
            selected.append(code.alias(f"{p}_label"))
            has_scores[p] = False
            continue
        probs = [c.cast("double") for c in cols]
        for prob, name in zip(probs, columns, strict=True):
            problems.append(
                (
                    f"{source.role} column `{name}` must hold probabilities in [0, 1] (no missing values); "
                    "if these are labels, set `type: label`",
                    _not_finite(prob) | (prob < 0.0) | (prob > 1.0),
                )
            )
        has_scores[p] = True
        # Counted per row like the problems; all rows 0 or 1 means labels were given as probabilities.
        extremes.append((what, F.sum(((probs[0] == 0.0) | (probs[0] == 1.0)).cast("int"))))
        if task == "binary":
            selected += [
                probs[0].alias(f"{p}_p"),
                (probs[0] >= config.threshold).cast("int").alias(f"{p}_label"),
            ]
        else:
            total = probs[0]
            for prob in probs[1:]:
                total = total + prob
            problems.append(
                (
                    f"{source.role} probability columns must sum to 1 in every row",
                    F.abs(total - 1.0) > _PROB_SUM_TOLERANCE,
                )
            )
            selected += [prob.alias(f"{p}_p{i}") for i, prob in enumerate(probs)]
            selected.append(_argmax(probs).alias(f"{p}_label"))
    if config.fairness is not None:
        _require(frame, list(config.fairness.sensitive), "fairness.sensitive", "Spark table")
        selected += [F.col(f"`{c}`").alias(f"g{i}") for i, c in enumerate(config.fairness.sensitive)]
    row = _raise_problems(frame, problems, [agg.alias(f"x{i}") for i, (_, agg) in enumerate(extremes)])
    n = int(row["_rows"])
    for i, (what, _) in enumerate(extremes):
        if task == "binary" and n > 1 and row[f"x{i}"] == n:
            raise DataError(
                f"{what} holds only 0 and 1: these look like labels, not probabilities. "
                "Set `type: label` on that source, or point it at the model's probabilities"
            )
    from pyspark import StorageLevel

    narrow = frame.select(*selected).persist(StorageLevel.MEMORY_AND_DISK)
    if n == 0:
        raise DataError("the Spark table has no rows")
    return Prepared(
        frame=narrow,
        task=task,
        n=n,
        classes=classes,
        sha256=fingerprint_of(frame, row),
        models=[prefixes[s.role] for s in sources],
        identities=identities,
        has_scores=has_scores,
    )


def _not_finite(col: Any) -> Any:
    F = _F()
    return col.isNull() | F.isnan(col) | (F.abs(col) == float("inf"))


def _code_of(text: Any, index: dict[str, int]) -> Any:
    F = _F()
    out = None
    for label, code in index.items():
        out = F.when(text == F.lit(label), F.lit(code)) if out is None else out.when(text == label, code)
    assert out is not None
    return out


def _argmax(probs: list[Any]) -> Any:
    """The first column holding the row's largest probability, as numpy's argmax picks."""
    F = _F()
    top = F.greatest(*probs)
    out = F.when(probs[0] == top, F.lit(0))
    for i, prob in enumerate(probs[1:], start=1):
        out = out.when(prob == top, F.lit(i))
    return out


def _raise_problems(frame: Any, problems: list[tuple[str, Any]], more: list[Any]) -> Any:
    """Count the bad rows of every kind in one scan (with the fingerprint and ``more`` aggregates);
    raise on the first kind found."""
    F = _F()
    checks = [F.sum(bad.cast("int")).alias(f"p{i}") for i, (_, bad) in enumerate(problems)]
    row = frame.agg(*checks, *more, *fingerprint_columns(frame)).first()
    for i, (message, _) in enumerate(problems):
        count = row[f"p{i}"] or 0
        if count:
            raise DataError(f"{message}; {count} row(s) fail this")
    return row


# --- aggregations ----------------------------------------------------------------------------


def cell_counts(prep: Prepared, models: list[str]) -> NDArray[np.int64]:
    """Counts of (y, label of each model…) cells, flattened row-major: ``K^(1+len(models))`` cells."""
    k = prep.k
    rows = prep.frame.groupBy("y", *[f"{m}_label" for m in models]).count().collect()
    counts = np.zeros(k ** (1 + len(models)), dtype=np.int64)
    for row in rows:
        index = int(row["y"])
        for m in models:
            index = index * k + int(row[f"{m}_label"])
        counts[index] = int(row["count"])
    return counts


def loss_expression(metric: str, prep: Prepared, model: str) -> Any:
    """The per-row loss of ``pytest_mlgate.stats.metrics.row_losses``, as a Spark column."""
    F = _F()
    if prep.task == "regression":
        err = F.col("y") - F.col(f"{model}_v")
        return F.abs(err) if metric == "mae" else err * err
    eps = float(np.finfo(np.float64).eps)
    y = F.col("y")
    if prep.task == "binary":
        p = F.col(f"{model}_p")
        if metric == "brier":
            return (y - p) * (y - p)
        p_true = F.when(y == 1, p).otherwise(1.0 - p)
    else:
        columns = [F.col(c) for c in prep.score_columns(model)]
        if metric == "brier":
            total = None
            for i, p in enumerate(columns):
                term = (p - F.when(y == i, 1.0).otherwise(0.0)) ** 2
                total = term if total is None else total + term
            return total
        p_true = _code_pick(y, columns)
    return -F.log(F.least(F.greatest(p_true, F.lit(eps)), F.lit(1.0)))


def _code_pick(code: Any, columns: list[Any]) -> Any:
    F = _F()
    out = F.when(code == 0, columns[0])
    for i, col in enumerate(columns[1:], start=1):
        out = out.when(code == i, col)
    return out


def moments(prep: Prepared, terms: dict[str, Any]) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Means of each term and the sample covariances (ddof=1) of every pair, in one pass."""
    F = _F()
    names = list(terms)
    aggs = [F.avg(terms[a]).alias(f"m_{a}") for a in names]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i:]]
    aggs += [F.covar_samp(terms[a], terms[b]).alias(f"c_{a}_{b}") for a, b in pairs]
    row = prep.frame.agg(*aggs).first()
    means = {a: float(row[f"m_{a}"]) for a in names}
    cov: dict[tuple[str, str], float] = {}
    for a, b in pairs:
        value = row[f"c_{a}_{b}"]
        cov[(a, b)] = cov[(b, a)] = float("nan") if value is None else float(value)
    return means, cov


def add_placements(
    frame: Any, pos: str, scores: dict[str, str], *, buckets: int | None = None, rows: Any = None
) -> tuple[Any, int, int]:
    """``frame`` with a DeLong placement column per entry of ``scores`` (output name -> score column).

    ``pos`` names a 0/1 column. A positive row's placement is the share of
    negatives scored below it (ties count half); a negative row's is one minus
    the share of positives scored below it. Both come from counts per distinct
    score, cumulated in score order: exact, ties included, as ``stats.delong``
    computes them from mid-ranks. Returns the frame and the class sizes.

    A window ordered by score alone would move every distinct score (up to one per
    row with float scores) into one partition. Instead the scores are cut into
    ``buckets`` ranges (default ``spark.sql.shuffle.partitions``) at approximate
    quantiles; a range is a function of the score, so equal scores share one, and a
    recomputed partition lands in the same range. Each range's class counts (one
    small row per range, summed map-side) go to the driver, which turns them into
    the counts of all lower ranges; the window then cumulates within each range, in
    parallel, from that offset. ``rows`` (default ``frame``) is the frame counted:
    the same rows without earlier placement joins, which Spark would otherwise redo.
    """
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import Window

    F = _F()
    if buckets is None:
        buckets = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    buckets = max(int(buckets), 1)
    levels = [i / buckets for i in range(1, buckets)]
    rows = frame if rows is None else rows
    # Class sizes and the cuts, in one pass. The cuts only balance the ranges, so a coarse
    # sketch will do: its rank error of 1/(20 * buckets) keeps each range within 10% of its share.
    aggs = [F.sum(pos).alias("m"), F.count(F.lit(1)).alias("n")]
    if levels:
        accuracy = max(100, 20 * buckets)
        aggs += [
            F.percentile_approx(column, levels, accuracy).alias(f"q{i}")
            for i, column in enumerate(scores.values())
        ]
    totals = rows.agg(*aggs).first()
    m = int(totals["m"] or 0)
    n_neg = int(totals["n"]) - m
    session = frame.sparkSession
    for i, (out, column) in enumerate(scores.items()):
        edges = sorted(set(totals[f"q{i}"] or ())) if levels else []
        scored = rows.select(F.col(column).alias("_s"), F.col(pos).alias("_pos"))
        if edges:
            splits = [float("-inf"), *edges, float("inf")]
            ranged = Bucketizer(splits=splits, inputCol="_s", outputCol="_r").transform(scored)
        else:  # one range (one shuffle partition): Bucketizer refuses splits without an inner edge
            ranged = scored.withColumn("_r", F.lit(0.0))
        sums = ranged.groupBy("_r").agg(F.sum("_pos").alias("p"), F.count(F.lit(1)).alias("n")).collect()
        below_p = below_q = 0
        offsets = []
        for row in sorted(sums, key=lambda r: r["_r"]):
            offsets.append((float(row["_r"]), below_p, below_q))
            p = int(row["p"] or 0)
            below_p += p
            below_q += int(row["n"]) - p
        lower = session.createDataFrame(offsets, "_r double, _op long, _oq long")
        per_score = ranged.groupBy("_s", "_r").agg(
            F.sum("_pos").alias("_p"), F.sum(1 - F.col("_pos")).alias("_q")
        )
        within = (
            Window.partitionBy("_r").orderBy("_s").rowsBetween(Window.unboundedPreceding, Window.currentRow)
        )
        cumulated = per_score.join(F.broadcast(lower), "_r").select(
            "_s",
            "_p",
            "_q",
            (F.col("_op") + F.sum("_p").over(within)).alias("_cp"),
            (F.col("_oq") + F.sum("_q").over(within)).alias("_cq"),
        )
        per_score = cumulated.select(
            "_s",
            ((F.col("_cq") - 0.5 * F.col("_q")) / max(n_neg, 1)).alias("_below"),
            (1.0 - (F.col("_cp") - 0.5 * F.col("_p")) / max(m, 1)).alias("_above"),
        )
        frame = (
            frame.join(per_score, frame[column] == per_score["_s"], "left")
            .withColumn(out, F.when(F.col(pos) == 1, F.col("_below")).otherwise(F.col("_above")))
            .drop("_s", "_below", "_above")
        )
    return frame, m, n_neg


def placement_summary(frame: Any, pos: str, columns: list[str]) -> dict[str, dict[str, float]]:
    """Per side (``pos``/``neg``): each placement column's mean and variance, and of their difference."""
    F = _F()
    aggs = [F.count(F.lit(1)).alias("rows")]
    aggs += [F.avg(c).alias(f"mean_{c}") for c in columns]
    aggs += [F.var_samp(c).alias(f"var_{c}") for c in columns]
    if len(columns) == 2:
        aggs.append(F.var_samp(F.col(columns[0]) - F.col(columns[1])).alias("var_diff"))
    out: dict[str, dict[str, float]] = {}
    for row in frame.groupBy(F.col(pos).alias("pos")).agg(*aggs).collect():
        out["pos" if row["pos"] == 1 else "neg"] = {
            k: (0.0 if row[k] is None else float(row[k])) for k in row.asDict() if k != "pos"
        }
    return out


def collect_arrays(prep: Prepared) -> dict[str, NDArray[Any]]:
    """The prepared columns as numpy arrays, for tables small enough to bootstrap by rows."""
    pdf = prep.frame.toPandas()
    return {c: pdf[c].to_numpy() for c in pdf.columns}
