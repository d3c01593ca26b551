"""The gate and profiles on Spark (local[2]) against the single-machine path on the same data.

Counts, and everything computed from them (cell bootstraps with the same random
stream, PSI, χ², KS, fairness), must agree exactly; t- and DeLong intervals to
floating-point rounding; R² (delta method on Spark, row bootstrap on one
machine) and W1 (quantiles from a sketch) within their stated error. One Spark
session serves the whole module; the config checks at the end need none.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.config import load_config
from pytest_mlgate.errors import ConfigError, DataError
from pytest_mlgate.results import GateReport

# One JVM per test process: under `make test` (--dist loadgroup) these tests share one xdist worker.
pytestmark = pytest.mark.xdist_group("spark")

N = 2_000  # above SMALL_SAMPLE_ROWS, so the moments path runs, and small enough to be quick


@contextlib.contextmanager
def score_ranges(spark: Any, ranges: int) -> Iterator[None]:
    """``ranges`` shuffle partitions, hence AUC score ranges, for the block (the session uses one)."""
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(ranges))
    try:
        yield
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)


def _write(tmp: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp / name
    frame.to_parquet(path, index=False)
    return path


def _configs(tmp: Path, body: str) -> tuple[Any, Any]:
    (tmp / "pandas.yaml").write_text(body.replace("ENGINE", "pandas"), encoding="utf-8")
    (tmp / "spark.yaml").write_text(body.replace("ENGINE", "spark"), encoding="utf-8")
    return load_config(tmp / "pandas.yaml"), load_config(tmp / "spark.yaml")


def _both(tmp: Path, body: str) -> tuple[GateReport, GateReport]:
    from pytest_mlgate.gate import run_gate
    from pytest_mlgate.spark.gate import run_spark_gate

    single, distributed = _configs(tmp, body)
    return run_gate(single), run_spark_gate(distributed)


def _assert_same(single: GateReport, spark: GateReport, loose: dict[str, float] | None = None) -> None:
    """Same checks, statuses and decision; values and intervals equal (or within ``loose[id]``)."""
    loose = loose or {}
    assert [c.id for c in spark.checks] == [c.id for c in single.checks]
    for a, b in zip(single.checks, spark.checks, strict=True):
        assert b.status == a.status, (a.id, a.message, b.message)
        assert b.n == a.n, a.id
        tol = loose.get(a.id, 1e-9)
        for x, y in ((a.value, b.value), (a.baseline, b.baseline), (a.delta, b.delta)):
            assert (x is None) == (y is None), a.id
            if x is not None and y is not None:
                assert math.isclose(x, y, rel_tol=0, abs_tol=tol), (a.id, x, y)
        if a.ci is not None:
            assert b.ci is not None, a.id
            assert abs(a.ci.low - b.ci.low) <= tol and abs(a.ci.high - b.ci.high) <= tol, (a.id, a.ci, b.ci)
    assert spark.decision == single.decision


def _binary_frame(seed: int, n: int = N, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    signal = y - 0.5 + 0.15 * (group == "c")
    # Scores rounded to 2 decimals, so that DeLong's tie handling is exercised too.
    cand = np.clip(0.5 + 0.35 * signal + rng.normal(0, 0.2, n), 0.01, 0.99).round(2)
    base = np.clip(0.5 + 0.25 * signal + rng.normal(0, 0.2, n), 0.01, 0.99).round(2)
    return pd.DataFrame(
        {
            "label": y,
            "cand": cand,
            "base": base,
            "group": group,
            "income": rng.lognormal(3 + shift, 0.5, n),
            "age": rng.integers(18, 80, n),
            "region": rng.choice(["n", "s", "e", "w"], n, p=[0.4, 0.3, 0.2 - shift / 10, 0.1 + shift / 10]),
        }
    )


@pytest.mark.slow
def test_binary_gate_drift_and_fairness_match_the_single_machine_path(spark: Any, tmp_path: Path) -> None:
    from pytest_mlgate.profile import build_profile, frame_chunks

    _write(tmp_path, "holdout.parquet", _binary_frame(1, shift=0.3))
    reference = build_profile(frame_chunks(_binary_frame(2)), columns=["income", "age", "region"])
    reference.write(tmp_path / "reference.json")
    with score_ranges(spark, 2):  # the whole gate once with the AUC cumulated over two ranges
        single, distributed = _both(
            tmp_path,
            """
task: binary
data: {path: holdout.parquet, target: label, engine: ENGINE}
candidate: {column: cand}
baseline: {column: base}
metrics:
  accuracy: {margin: 0.01, min: 0.6}
  f1: {margin: 0.01}
  roc_auc: {margin: 0.01, min: 0.7}
  log_loss: {margin: 0.02, max: 0.7}
  brier: {margin: 0.01}
fairness: {sensitive: [group], max_difference: 0.2}
drift: {reference: reference.json}
""",
        )
    # W1 reads the current quantiles from percentile_approx: rank error 1e-4 of the rows.
    _assert_same(single, distributed, {"drift:income": 1e-9, "drift:age": 1e-9})
    for a, b in zip(single.checks, distributed.checks, strict=True):
        if a.kind == "drift" and a.id != "drift:share":
            # Counts on the frozen edges are exact: the same histogram, PSI, χ² and KS.
            assert b.details["histogram"] == a.details["histogram"], a.id
            assert b.pvalue == pytest.approx(a.pvalue, rel=1e-12, abs=1e-300), a.id
            if a.details.get("ks") is not None:
                assert b.details["ks"] == pytest.approx(a.details["ks"], abs=1e-12)
                assert b.details["w1"] == pytest.approx(a.details["w1"], abs=2e-3), a.id
        if a.kind == "fairness":
            assert b.details["groups"] == a.details["groups"]
    kinds = {c.kind for c in distributed.checks}
    assert kinds == {"comparison", "threshold", "fairness", "drift"}
    assert distributed.provenance["data"]["rows"] == N
    assert len(distributed.provenance["data"]["sha256"]) == 64
    # The report is the same public contract whichever engine counted.
    jsonschema = pytest.importorskip("jsonschema")
    from pytest_mlgate.report.validate import report_schema

    jsonschema.validate(json.loads(distributed.to_json()), report_schema())


@pytest.mark.slow
def test_multiclass_gate_matches_the_single_machine_path(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n, k = 1_500, 3
    y = rng.integers(0, k, n)

    def probabilities(strength: float) -> np.ndarray:
        logits = rng.normal(0, 1, (n, k)) + strength * np.eye(k)[y]
        p = np.exp(logits)
        return np.round(p / p.sum(axis=1, keepdims=True), 3)

    cand, base = probabilities(1.6), probabilities(1.2)
    # Rounding may leave a row summing to 1 ± 0.002; the gate tolerates 1e-3, so fix the last column.
    cand[:, 2], base[:, 2] = 1 - cand[:, :2].sum(axis=1), 1 - base[:, :2].sum(axis=1)
    frame = pd.DataFrame({"y": np.array(["cat", "dog", "eel"])[y]})
    for name, p in (("c", cand), ("b", base)):
        for j, label in enumerate(("cat", "dog", "eel")):
            frame[f"{name}_{label}"] = p[:, j]
    frame["c_label"] = np.array(["cat", "dog", "eel"])[cand.argmax(axis=1)]
    _write(tmp_path, "holdout.parquet", frame)
    single, distributed = _both(
        tmp_path,
        """
task: multiclass
data: {path: holdout.parquet, target: y, engine: ENGINE}
candidate: {columns: {cat: c_cat, dog: c_dog, eel: c_eel}}
baseline: {columns: {cat: b_cat, dog: b_dog, eel: b_eel}}
metrics:
  accuracy: {margin: 0.01, min: 0.5}
  f1_macro: {margin: 0.01}
  roc_auc_ovr: {margin: 0.01, min: 0.6}
  log_loss: {margin: 0.02}
""",
    )
    _assert_same(single, distributed)
    assert {c.status for c in distributed.checks} >= {"pass"}


@pytest.mark.slow
def test_regression_gate_matches_within_the_stated_error_for_r2(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 3_000
    x = rng.normal(0, 1, n)
    y = 2 * x + rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {"y": y, "cand": 2 * x + rng.normal(0, 0.3, n), "base": 1.8 * x + rng.normal(0, 0.5, n)}
    )
    _write(tmp_path, "holdout.parquet", frame)
    single, distributed = _both(
        tmp_path,
        """
task: regression
data: {path: holdout.parquet, target: y, engine: ENGINE}
candidate: {column: cand}
baseline: {column: base}
n_boot: 4000
metrics:
  mae: {margin: 0.02, max: 1.0}
  rmse: {margin: 0.02, max: 1.3}
  mse: {margin: 0.02}
  r2: {margin: 0.01, min: 0.7}
""",
    )
    # R²: a delta-method interval on Spark against a 4,000-replicate percentile bootstrap here. Both
    # estimate the same sampling distribution; at n=3,000 their ends differ by sampling noise of the
    # bootstrap quantiles (about 3% of the half-width) plus skew the normal interval ignores.
    r2 = next(c for c in single.checks if c.id == "compare:r2")
    assert r2.ci is not None
    half = (r2.ci.high - r2.ci.low) / 2
    _assert_same(single, distributed, {"compare:r2": 0.15 * half, "threshold:r2": 0.01})
    spark_r2 = next(c for c in distributed.checks if c.id == "compare:r2")
    assert spark_r2.method == "paired delta method"


@pytest.mark.slow
def test_a_spark_profile_on_the_reference_edges_has_the_exact_counts_and_merges(
    spark: Any, tmp_path: Path
) -> None:
    from pytest_mlgate.profile import build_profile, frame_chunks
    from pytest_mlgate.spark import profile_dataframe

    day1, day2 = _binary_frame(5, n=1_200), _binary_frame(6, n=800, shift=0.2)
    columns = ["income", "age", "region", "group"]
    reference = build_profile(frame_chunks(day1), columns=columns)
    on_edges = profile_dataframe(spark.createDataFrame(day1), columns, like=reference)
    for name in columns:
        a, b = reference.columns[name], on_edges.columns[name]
        assert (b.kind, b.count, b.nulls, b.edges, b.counts) == (a.kind, a.count, a.nulls, a.edges, a.counts)
        assert (b.categories, b.other) == (a.categories, a.other)
        if a.kind == "numeric":
            assert b.mean == pytest.approx(a.mean, rel=1e-12) and b.std == pytest.approx(a.std, rel=1e-9)
    # Built on their own, the quantiles lie within the recorded rank error of the exact ones.
    own = profile_dataframe(spark.createDataFrame(day1), ["income"])
    income = own.columns["income"]
    assert income.quantile_rank_error == pytest.approx(1e-4)
    values = np.sort(day1["income"].to_numpy())
    ranks = np.searchsorted(values, np.asarray(income.quantiles), side="right") / values.size
    grid = np.linspace(0, 1, 1001)
    assert np.all(np.abs(ranks - grid) <= income.quantile_rank_error + 1.0 / values.size)
    assert sum(income.counts) == income.count == values.size
    # Days profiled on one set of edges add up exactly to the profile of both days.
    second = profile_dataframe(spark.createDataFrame(day2), columns, like=reference)
    both = profile_dataframe(spark.createDataFrame(pd.concat([day1, day2])), columns, like=reference)
    merged = on_edges.merge(second)
    for name in columns:
        a, b = merged.columns[name], both.columns[name]
        assert (a.count, a.counts, a.categories, a.other) == (b.count, b.counts, b.categories, b.other)


@pytest.mark.slow
def test_cli_profile_with_engine_spark_writes_a_profile_the_drift_check_reads(
    spark: Any, tmp_path: Path
) -> None:
    from pytest_mlgate.cli import main
    from pytest_mlgate.profile import load_profile

    folder = tmp_path / "days"
    folder.mkdir()
    _write(folder, "part-0.parquet", _binary_frame(7, n=500))
    _write(folder, "part-1.parquet", _binary_frame(8, n=500))
    out = tmp_path / "profile.json"
    assert (
        main(["profile", str(folder), "--engine", "spark", "--columns", "income", "region", "-o", str(out)])
        == 0
    )
    profile = load_profile(out)
    assert profile.rows == 1_000 and set(profile.columns) == {"income", "region"}
    again = tmp_path / "again.json"
    assert main(["profile", str(folder), "--engine", "spark", "--like", str(out), "-o", str(again)]) == 0
    assert load_profile(again).columns["income"].counts == profile.columns["income"].counts
    assert main(["profile", str(tmp_path / "nowhere"), "--engine", "spark", "-o", str(again)]) == 3


@pytest.mark.slow
def test_bad_spark_input_names_the_column_and_fails_closed(spark: Any, tmp_path: Path) -> None:
    from pytest_mlgate.cli import main
    from pytest_mlgate.spark.gate import run_spark_gate

    frame = _binary_frame(9, n=300)
    frame.loc[5, "cand"] = 1.5
    _write(tmp_path, "holdout.parquet", frame)
    body = """
task: binary
data: {path: holdout.parquet, target: label, engine: ENGINE}
candidate: {column: COLUMN}
metrics: {accuracy: {min: 0.5}}
"""
    _, config = _configs(tmp_path, body.replace("COLUMN", "cand"))
    with pytest.raises(
        DataError, match=r"candidate column `cand` must hold probabilities in \[0, 1\].*1 row"
    ):
        run_spark_gate(config)
    _, config = _configs(tmp_path, body.replace("COLUMN", "label"))
    with pytest.raises(
        DataError, match="candidate column `label` holds only 0 and 1: these look like labels"
    ):
        run_spark_gate(config)
    _, config = _configs(tmp_path, body.replace("COLUMN", "nope"))
    with pytest.raises(DataError, match=r"`candidate\.column`: column `nope` is not in the Spark table"):
        run_spark_gate(config)
    (tmp_path / "model.yaml").write_text(
        body.replace("ENGINE", "spark").replace("{column: COLUMN}", "{model: m.skops}"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="score the model into a column first"):
        run_spark_gate(load_config(tmp_path / "model.yaml"))
    # The CLI maps them to its exit codes: 3 for data that cannot be read, 2 for the config.
    (tmp_path / "spark.yaml").write_text(
        body.replace("ENGINE", "spark")
        .replace("holdout.parquet", "missing.parquet")
        .replace("COLUMN", "cand"),
        encoding="utf-8",
    )
    assert main(["gate", "-c", str(tmp_path / "spark.yaml")]) == 3
    assert main(["gate", "-c", str(tmp_path / "model.yaml")]) == 2


@pytest.mark.slow
def test_a_small_spark_table_goes_through_the_row_bootstrap_unchanged(spark: Any, tmp_path: Path) -> None:
    _write(tmp_path, "holdout.parquet", _binary_frame(10, n=400))
    single, distributed = _both(
        tmp_path,
        """
task: binary
data: {path: holdout.parquet, target: label, engine: ENGINE}
candidate: {column: cand}
baseline: {column: base}
metrics: {log_loss: {margin: 0.02, max: 0.8}, roc_auc: {margin: 0.02}}
""",
    )
    _assert_same(single, distributed)
    assert next(c for c in distributed.checks if c.id == "compare:log_loss").method == "paired row bootstrap"


@pytest.mark.slow
def test_auc_placements_are_exact_with_ties_and_no_step_gathers_the_scores_in_one_partition(
    spark: Any,
) -> None:
    from scipy.stats import rankdata

    from pytest_mlgate.spark.sufficient import add_placements

    rng = np.random.default_rng(17)
    n = 3_000
    y = rng.integers(0, 2, n)
    data = pd.DataFrame(
        {
            "pos": y,
            # Coarse ties that straddle any range cut, a score with a single value, and fine floats.
            "coarse": np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, n), 0, 1).round(1),
            "flat": np.full(n, 0.25),
            "fine": rng.beta(2 + y, 2, n),
        }
    )
    with score_ranges(spark, 7):  # seven score ranges, cumulated apart
        frame, m, n_neg = add_placements(
            spark.createDataFrame(data.assign(row=np.arange(n))),
            "pos",
            {f"pl_{c}": c for c in ("coarse", "flat", "fine")},
        )
        plan = frame._jdf.queryExecution().executedPlan().toString()
        got = frame.orderBy("row").toPandas()
    # A window with no partition key shows as an exchange to a single partition.
    assert "SinglePartition" not in plan, plan
    assert (m, n_neg) == (int(y.sum()), int(n - y.sum()))
    positive = y == 1
    for column in ("coarse", "flat", "fine"):
        scores = data[column].to_numpy()
        # Oracle from mid-ranks (scipy): a positive's placement is its rank among all rows less
        # its rank among the positives, over the negatives; symmetrically for a negative.
        overall = rankdata(scores)
        expected = np.empty(n)
        expected[positive] = (overall[positive] - rankdata(scores[positive])) / n_neg
        expected[~positive] = 1 - (overall[~positive] - rankdata(scores[~positive])) / m
        np.testing.assert_allclose(got[f"pl_{column}"].to_numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_a_catalog_table_or_a_query_gives_the_data_checks_of_the_parquet_file(
    spark: Any, tmp_path: Path
) -> None:
    from pytest_mlgate.gate import run_gate
    from pytest_mlgate.profile import build_profile, frame_chunks
    from pytest_mlgate.spark.gate import run_spark_gate

    current = _binary_frame(11, n=1_200, shift=0.4)[["label", "income", "region"]]
    build_profile(frame_chunks(_binary_frame(12, n=1_200)[["income", "region"]])).write(
        tmp_path / "reference.json"
    )
    _write(tmp_path, "current.parquet", current)
    spark.createDataFrame(current).createOrReplaceTempView("current_rows")
    body = "task: binary\ndata: {DATA, target: label}\ndrift: {reference: reference.json}\n"
    (tmp_path / "file.yaml").write_text(body.replace("DATA", "path: current.parquet"), encoding="utf-8")
    single = run_gate(load_config(tmp_path / "file.yaml"))
    assert any(c.status in ("warn", "fail") for c in single.checks)  # a drift to agree on
    for data in ("engine: spark, table: current_rows", "engine: spark, query: 'SELECT * FROM current_rows'"):
        (tmp_path / "spark.yaml").write_text(body.replace("DATA", data), encoding="utf-8")
        _assert_same(single, run_spark_gate(load_config(tmp_path / "spark.yaml")))


@pytest.mark.slow
def test_a_dvc_tracked_parquet_file_is_recorded_in_the_provenance(spark: Any, tmp_path: Path) -> None:
    import jsonschema
    from dvc_parts import dvc_file, dvc_repository, md5_of

    from pytest_mlgate.spark.gate import run_spark_gate

    holdout = _write(dvc_repository(tmp_path), "holdout.parquet", _binary_frame(13, n=400))
    dvc_file(holdout)
    (tmp_path / "spark.yaml").write_text(
        "task: binary\ndata: {path: holdout.parquet, target: label, engine: spark}\n"
        "candidate: {column: cand}\nbaseline: {column: base}\nmetrics: {roc_auc: {margin: 0.05}}\n",
        encoding="utf-8",
    )
    report = json.loads(run_spark_gate(load_config(tmp_path / "spark.yaml")).to_json())
    schema = Path(__file__).parents[1] / "pytest_mlgate" / "schemas" / "report.schema.json"
    jsonschema.validate(report, json.loads(schema.read_text(encoding="utf-8")))
    (record,) = report["provenance"]["dvc"]
    assert (record["role"], record["path"], record["status"]) == ("data", str(holdout), "match")
    assert record["md5"] == md5_of(holdout) and record["remote"] == "storage"


# --- without Spark -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{table: holdout, target: y}", "`data.table` needs `data.engine: spark`"),
        ("{engine: spark, target: y}", "must name exactly one of `path`, `table` or `query`"),
        ("{engine: spark, path: a, table: b, target: y}", "got path, table"),
        (
            "{engine: spark, path: a, format: csv, target: y}",
            "must be 'parquet' or 'delta' with `engine: spark`",
        ),
        ("{target: y}", "missing required key `data.path`"),
    ],
)
def test_the_data_section_names_what_is_wrong(tmp_path: Path, data: str, message: str) -> None:
    path = tmp_path / "mlgate.yaml"
    path.write_text(
        f"task: binary\ndata: {data}\ncandidate: {{column: p}}\nmetrics: {{accuracy: {{min: 0.5}}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_without_pyspark_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlgate.spark import require_pyspark

    monkeypatch.setitem(sys.modules, "pyspark", None)
    # The hint names the extra's requirements when the package metadata is installed, else the extra.
    with pytest.raises(
        ConfigError, match=r"needs pyspark and a Java runtime: pip install '(pyspark|pytest-mlgate\[spark\])"
    ):
        require_pyspark()
