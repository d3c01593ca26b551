"""Delta tables on the Spark engine: only the rows the log holds are counted, or the read is refused.

The tables are written with deltalake (delta-rs); an overwrite and a delete leave the
removed Parquet files on disk, as they stay until a vacuum, so reading the folder as
plain Parquet would count them. The session has no Delta data source (delta-spark's
jars come from Maven, out of reach here), so these tests read through deltalake.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import deltalake  # the dev extra installs it: missing, these tests must fail, not skip
import pandas as pd
import pytest
from test_spark import _assert_same, _binary_frame

from pytest_mlgate.config import load_config
from pytest_mlgate.errors import ConfigError

# One JVM per test process: these share tests/test_spark.py's xdist worker and its active session.
pytestmark = pytest.mark.xdist_group("spark")


GATE = """
task: binary
data: {DATA, target: label}
candidate: {column: cand}
baseline: {column: base}
metrics: {accuracy: {margin: 0.02, min: 0.5}, log_loss: {margin: 0.05}}
fairness: {sensitive: [group], max_difference: 0.3}
"""


def _gate_both(tmp: Path, table: Path, live: pd.DataFrame, drift: bool = False) -> tuple[Any, Any]:
    """The single-machine gate on a Parquet file of the live rows, and the Spark gate on the table.

    With ``drift``, the Spark gate names the table again as `drift.current`, the third place that reads it.
    """
    from pytest_mlgate.gate import run_gate
    from pytest_mlgate.spark.gate import run_spark_gate

    live.to_parquet(tmp / "live.parquet", index=False)
    single = GATE.replace("DATA", "path: live.parquet")
    spark = GATE.replace("DATA", f"engine: spark, path: {table.name}")
    if drift:
        single += "drift: {reference: reference.json}\n"
        spark += f"drift: {{reference: reference.json, current: {table.name}}}\n"
    (tmp / "single.yaml").write_text(single, encoding="utf-8")
    (tmp / "spark.yaml").write_text(spark, encoding="utf-8")
    return run_gate(load_config(tmp / "single.yaml")), run_spark_gate(load_config(tmp / "spark.yaml"))


@pytest.mark.slow
def test_the_gate_and_the_profile_count_only_the_rows_the_log_holds(spark: Any, tmp_path: Path) -> None:
    from pytest_mlgate.cli import main
    from pytest_mlgate.profile import build_profile, frame_chunks, load_profile

    table = tmp_path / "holdout"
    deltalake.write_deltalake(table, _binary_frame(21, n=700))  # version 0
    rows = _binary_frame(22, n=600)
    deltalake.write_deltalake(table, rows, mode="overwrite")  # version 1: the 700 rows' file stays
    deltalake.DeltaTable(table).delete("income > 40")  # version 2: rewrites the file without them
    live = rows[rows["income"] <= 40].reset_index(drop=True)
    assert 0 < len(live) < len(rows)
    # What the old reader saw: every Parquet file in the folder, removed ones included.
    assert spark.read.parquet(str(table)).count() == 700 + len(rows) + len(live)

    build_profile(frame_chunks(_binary_frame(23, n=500)), columns=["income", "region"]).write(
        tmp_path / "reference.json"
    )
    single, distributed = _gate_both(tmp_path, table, live, drift=True)
    _assert_same(single, distributed)
    assert {"drift:income", "drift:region"} <= {c.id for c in distributed.checks}
    data = distributed.provenance["data"]
    assert data["rows"] == len(live)
    assert data["delta"] == {"reader": "deltalake", "version": 2, "files": 1}
    jsonschema = pytest.importorskip("jsonschema")
    from pytest_mlgate.report.validate import report_schema

    jsonschema.validate(json.loads(distributed.to_json()), report_schema())

    # `data.version` reads the table as it was: 700 rows at version 0, all 600 at version 1.
    from pytest_mlgate.spark.gate import read_data

    for version, count in ((0, 700), (1, len(rows))):
        (tmp_path / "old.yaml").write_text(
            GATE.replace("DATA", f"engine: spark, path: holdout, version: {version}"), encoding="utf-8"
        )
        read = read_data(load_config(tmp_path / "old.yaml"), spark)
        assert (read.frame.count(), read.delta["version"]) == (count, version)
    (tmp_path / "old.yaml").write_text(
        GATE.replace("DATA", "engine: spark, path: holdout, version: 9"), encoding="utf-8"
    )
    assert main(["gate", "-c", str(tmp_path / "old.yaml")]) == 3
    (tmp_path / "old.yaml").write_text(
        GATE.replace("DATA", "engine: spark, path: live.parquet, version: 0"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"`data\.version`=0 needs a Delta table"):
        read_data(load_config(tmp_path / "old.yaml"), spark)

    # Profiled on the edges of the live rows' own single-machine profile, the counts must be its counts.
    expected = build_profile(frame_chunks(live), columns=["income", "region"])
    expected.write(tmp_path / "reference.json")
    out = tmp_path / "profile.json"
    args = ["profile", str(table), "--engine", "spark", "--like", str(tmp_path / "reference.json")]
    assert main([*args, "-o", str(out)]) == 0
    profile = load_profile(out)
    assert profile.rows == len(live)
    for name in ("income", "region"):
        got, want = profile.columns[name], expected.columns[name]
        assert (got.count, got.counts, got.categories, got.other) == (
            want.count,
            want.counts,
            want.categories,
            want.other,
        )


@pytest.mark.slow
def test_a_partitioned_table_keeps_the_partition_values_and_types_of_the_delta_schema(
    spark: Any, tmp_path: Path
) -> None:
    from pytest_mlgate.spark.read import read_path

    # Over 1,000 live rows: the moments path, which does not depend on the order partitions are read in.
    rows = _binary_frame(24, n=1_800)
    # Zero-padded codes: partition discovery would infer integers and turn "01" into 1.
    rows["group"] = rows["group"].map({"a": "01", "b": "02", "c": "10"})
    rows["day"] = rows.index % 3
    table = tmp_path / "holdout"
    deltalake.write_deltalake(table, rows, partition_by=["group", "day"])
    deltalake.DeltaTable(table).delete("day = 2")
    live = rows[rows["day"] != 2].reset_index(drop=True)

    frame = read_path(spark, table).frame
    assert dict(frame.dtypes)["group"] == "string" and dict(frame.dtypes)["day"] == "bigint"
    got = frame.toPandas().sort_values(["cand", "base", "income"]).reset_index(drop=True)
    want = live.sort_values(["cand", "base", "income"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)

    single, distributed = _gate_both(tmp_path, table, live)
    _assert_same(single, distributed)
    fairness = [
        (a, b) for a, b in zip(single.checks, distributed.checks, strict=True) if a.kind == "fairness"
    ]
    assert fairness and all(b.details["groups"] == a.details["groups"] for a, b in fairness)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("configuration", "feature"),
    [
        ({"delta.columnMapping.mode": "name"}, "columnMapping"),
        ({"delta.enableDeletionVectors": "true"}, "deletionVectors"),
    ],
)
def test_a_table_whose_reader_protocol_plain_files_cannot_honour_is_refused(
    spark: Any, tmp_path: Path, configuration: dict[str, str], feature: str
) -> None:
    from pytest_mlgate.cli import main

    table = tmp_path / "holdout"
    deltalake.write_deltalake(table, _binary_frame(25, n=50), configuration=configuration)
    (tmp_path / "spark.yaml").write_text(
        GATE.replace("DATA", "engine: spark, path: holdout"), encoding="utf-8"
    )
    from pytest_mlgate.spark.gate import run_spark_gate

    with pytest.raises(ConfigError, match=rf"`data\.path`=`{re.escape(str(table))}` .*needs .*{feature}"):
        run_spark_gate(load_config(tmp_path / "spark.yaml"))
    assert main(["gate", "-c", str(tmp_path / "spark.yaml")]) == 2


@pytest.mark.slow
def test_without_deltalake_a_delta_folder_is_refused_not_read_as_parquet(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_mlgate.cli import main

    table = tmp_path / "holdout"
    deltalake.write_deltalake(table, _binary_frame(26, n=50))
    (tmp_path / "spark.yaml").write_text(
        GATE.replace("DATA", "engine: spark, path: holdout"), encoding="utf-8"
    )
    monkeypatch.setitem(sys.modules, "deltalake", None)  # `import deltalake` now raises ImportError
    capsys.readouterr()
    assert main(["gate", "-c", str(tmp_path / "spark.yaml")]) == 2
    err = capsys.readouterr().err
    assert "is a Delta table (it holds _delta_log/)" in err and "delta-spark" in err
    assert re.search(r"pip install '(deltalake|pytest-mlgate\[delta\])", err), err
    assert "would count rows the log removed" in err
    out = tmp_path / "profile.json"
    assert main(["profile", str(table), "--engine", "spark", "-o", str(out)]) == 2
    assert "is a Delta table" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
def test_a_session_with_a_delta_data_source_reads_the_table_through_it(spark: Any, tmp_path: Path) -> None:
    from pyspark.sql.datasource import DataSource, DataSourceReader

    from pytest_mlgate.spark.read import read_path

    table = tmp_path / "holdout"
    deltalake.write_deltalake(table, pd.DataFrame({"a": [1, 2, 3]}))

    # delta-spark's jars come from Maven, out of reach here: a Python data source registered under the
    # name "delta" stands in for it. Defined in the test, so that cloudpickle ships it to the worker by
    # value. Its schema differs from the table's, which shows which reader ran; no rows are read, since
    # Spark's Python worker may run on an interpreter without pyarrow.
    class Reader(DataSourceReader):
        def read(self, partition: Any) -> Any:
            yield ("from the delta source",)

    class Delta(DataSource):
        @classmethod
        def name(cls) -> str:
            return "delta"

        def schema(self) -> str:
            return "marker string"

        def reader(self, schema: Any) -> Any:
            return Reader()

    # A new session has its own registry of data sources (and shares the JVM): the module's session
    # stays without a Delta source.
    with_delta = spark.newSession()
    with_delta.dataSource.register(Delta)
    read = read_path(with_delta, table)
    assert read.delta == {"reader": "spark delta source"}
    assert read.frame.columns == ["marker"]
    assert read_path(spark, table).delta == {"reader": "deltalake", "version": 0, "files": 1}


# --- without Spark -----------------------------------------------------------------------------


def test_format_delta_is_accepted_with_spark_only(tmp_path: Path) -> None:
    body = "task: binary\ndata: {DATA, target: y}\ncandidate: {column: p}\nmetrics: {accuracy: {min: 0.5}}\n"
    path = tmp_path / "mlgate.yaml"
    path.write_text(body.replace("DATA", "engine: spark, path: t, format: delta"), encoding="utf-8")
    assert load_config(path).data.format == "delta"
    for data, message in (
        ("path: t, format: delta", "`data.format`='delta' needs `data.engine: spark` and `data.path`"),
        ("engine: spark, table: t, format: delta", "needs `data.engine: spark` and `data.path`"),
        ("engine: spark, path: t, format: csv", "must be 'parquet' or 'delta' with `engine: spark`"),
        ("path: t.csv, version: 3", "`data.version` needs `data.engine: spark` and a Delta table"),
        ("engine: spark, path: t, version: -1", "`data.version`=-1 must be"),
    ):
        path.write_text(body.replace("DATA", data), encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(path)


def test_the_single_machine_engine_names_a_delta_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_mlgate.cli import main

    table = tmp_path / "holdout"
    (table / "_delta_log").mkdir(parents=True)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: holdout, format: parquet, target: label}\n"
        "candidate: {column: cand}\nmetrics: {accuracy: {min: 0.5}}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["gate", "-c", str(tmp_path / "mlgate.yaml")]) == 3
    assert "is a Delta table (it holds _delta_log/)" in capsys.readouterr().err
    assert main(["profile", str(table), "-o", str(tmp_path / "p.json")]) == 3
    assert "read the table with `data.engine: spark`" in capsys.readouterr().err
