"""Cosmetics a new user hit in the first hour (issue 18, item 7), and the profile's memory (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gate_data import write_config, write_holdout

from pytest_mlgate.cli import main


@pytest.fixture
def gated(pytester: pytest.Pytester) -> pytest.Pytester:
    write_holdout(pytester.path, n=2_000)
    write_config(pytester.path, "better")
    pytester.makepyfile(test_user="def test_mine():\n    pass\n")
    return pytester


def test_the_header_counts_the_gate_items_it_deselects(gated: pytest.Pytester) -> None:
    # Before: "collected 1 item / 3 deselected / -2 selected" (the gate's items were never counted).
    result = gated.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider", "-k", "mine")
    result.stdout.fnmatch_lines(["collected 4 items / 3 deselected / 1 selected"])
    result.assert_outcomes(passed=1)


def test_a_config_named_on_the_command_line_runs_its_checks(gated: pytest.Pytester) -> None:
    # Before: "ERROR: not found: .../mlgate.yaml".
    other = gated.path / "elsewhere"
    other.mkdir()
    (gated.path / "mlgate.yaml").rename(other / "gate.yml")
    (gated.path / "holdout.csv").rename(other / "holdout.csv")  # paths are relative to the config
    result = gated.runpytest_inprocess("--mlgate", "elsewhere/gate.yml", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)  # its three checks; the user's test file was not named
    result.stdout.fnmatch_lines(["collected 3 items", "*decision: PROMOTE*"])
    assert json.loads((other / "mlgate-report.json").read_text())["decision"] == "promote"


def test_two_configs_on_the_command_line_are_a_usage_error(gated: pytest.Pytester) -> None:
    (gated.path / "second.yaml").write_text((gated.path / "mlgate.yaml").read_text())
    result = gated.runpytest_inprocess("--mlgate", "mlgate.yaml", "second.yaml", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mlgate takes one config file; the command line names 2*"])


def test_junit_properties_are_json_not_python_reprs(gated: pytest.Pytester) -> None:
    result = gated.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider", "--junitxml=junit.xml")
    assert result.ret == 0
    case = next(
        c
        for c in ET.parse(gated.path / "junit.xml").getroot().iter("testcase")
        if c.get("name") == "compare:roc_auc"
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert json.loads(props["mlgate.threshold"]) == {
        "margin": 0.01,
        "gain": 0.0,
    }  # was "{'margin': 0.01, ...}"
    assert json.loads(props["mlgate.underpowered"]) is False  # was "False"
    low, high = json.loads(props["mlgate.ci"])
    assert low < high


def test_validate_config_takes_dash_c_like_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "better")
    assert main(["validate-config", "-c", str(config)]) == 0  # was "unrecognized arguments: -c", exit 2
    assert "mlgate.yaml: valid" in capsys.readouterr().out
    assert main(["validate-config", str(config), "--config", str(config)]) == 0
    other = tmp_path / "other.yaml"
    other.write_text(config.read_text())
    assert main(["validate-config", str(config), "-c", str(other)]) == 2
    assert "give the config once" in capsys.readouterr().err


def test_models_fitted_without_feature_names_do_not_flood_the_output(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    sio = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    y = (x[:, 0] + rng.normal(size=600) > 0).astype(int)
    sio.dump(LogisticRegression().fit(x[:300], y[:300]), tmp_path / "cand.skops")  # arrays: no names
    named = pd.DataFrame(x[:300, :2], columns=["a", "b"])
    sio.dump(LogisticRegression().fit(named, y[:300]), tmp_path / "base.skops")
    pd.DataFrame({"a": x[300:, 0], "b": x[300:, 1], "c": x[300:, 2], "y": y[300:]}).to_csv(
        tmp_path / "holdout.csv", index=False
    )
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: holdout.csv, target: y}\n"
        "candidate: {model: cand.skops}\nbaseline: {model: base.skops}\n"
        "metrics:\n  accuracy: {margin: 0.05}\n"
        "operational: {rounds: 2, calls: 3, batch_size: 8, max_slowdown: 100}\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["gate", "-c", str(tmp_path / "mlgate.yaml"), "--no-log"])
    assert code in (0, 1)
    leaked = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert leaked == []  # before: "X has feature names, but LogisticRegression was fitted without ..."
    report = json.loads((tmp_path / "mlgate-report.json").read_text())
    assert {c["id"] for c in report["checks"]} >= {"compare:accuracy", "operational:latency_b1"}


# The child measures its own working memory: peak RSS (VmHWM) less its RSS once the libraries are
# imported. Not an rlimit on the address space: mimalloc and pyarrow's threads reserve far more
# virtual memory than they touch, so an RLIMIT_AS cap fails for reasons that have nothing to do with us.
PROFILE_CHILD = """
import sys
import numpy, pandas, pyarrow.parquet, scipy.stats
from pytest_mlgate.cli import main

def status(key):
    return int(next(line for line in open("/proc/self/status") if line.startswith(key)).split()[1]) // 1024

before = status("VmRSS")
assert main(["profile", sys.argv[1], "-o", sys.argv[2], "--chunk-rows", "20000"]) == 0
print(status("VmHWM") - before)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak RSS from /proc")
def test_profile_memory_follows_the_batch_not_the_row_group(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = 4_000_000
    rng = np.random.default_rng(0)
    path = tmp_path / "one-row-group.parquet"
    # 64 MB of incompressible numbers in a single row group: reading a whole column chunk at once
    # (pyarrow's unbuffered default) costs that much, however small the batches.
    table = pa.table({"x": rng.normal(size=rows), "z": rng.normal(size=rows)})
    pq.write_table(table, path, row_group_size=rows, compression="NONE")
    del table
    child = subprocess.run(
        [sys.executable, "-c", PROFILE_CHILD, str(path), str(tmp_path / "p.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    working_mib = int(child.stdout.strip().splitlines()[-1])
    # Measured: 95 MiB before the buffered reader, 43 MiB with it.
    assert working_mib < 70, f"profiling a 64 MB row group took {working_mib} MiB above the imports"
    profile = json.loads((tmp_path / "p.json").read_text())
    assert profile["rows"] == rows and sum(profile["columns"]["x"]["counts"]) == rows
