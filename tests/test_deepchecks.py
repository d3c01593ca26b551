"""deepchecks suites and checks as gate checks (issue 16).

deepchecks 0.19.1 cannot import beside numpy 2, so most of this file runs only in
.venv-deepchecks (`make test-deepchecks`). The main environment runs what does not need it: the
clear refusal there, and gating on a result that deepchecks saved in its own environment.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest
from deepchecks_data import SAVED, train_test

from pytest_mlgate.cli import main
from pytest_mlgate.report.validate import report_schema

TRACEBACK = "Traceback (most recent call last)"
NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
HAS_DEEPCHECKS = not NUMPY_2 and importlib.util.find_spec("deepchecks") is not None
needs_deepchecks = pytest.mark.skipif(
    not HAS_DEEPCHECKS, reason="deepchecks imports only in .venv-deepchecks (make test-deepchecks)"
)


def gate(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, dict[str, Any]]:
    """Run `mlgate gate` in-process on CONFIG; return the exit code, stderr and the JSON report (if any)."""
    path = tmp_path / "mlgate.yaml"
    path.write_text(textwrap.dedent(config), encoding="utf-8")
    out = tmp_path / "report.json"
    code = main(["gate", "-c", str(path), "-o", str(out), *extra])
    captured = capsys.readouterr()
    assert TRACEBACK not in captured.err + captured.out
    assert "internal error" not in captured.err
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    gate.stdout = captured.out  # type: ignore[attr-defined]
    return code, captured.err, report


def validate_report(report: dict[str, Any]) -> None:
    jsonschema.validate(report, report_schema())


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train.csv (reference) and test.csv (the gate's data): `x` spreads twice as wide in test."""
    where = tmp_path_factory.mktemp("deepchecks")
    train, test = train_test()
    train.to_csv(where / "train.csv", index=False)
    test.to_csv(where / "test.csv", index=False)
    return where


def in_dir(tables: Path, tmp_path: Path) -> None:
    for name in ("train.csv", "test.csv"):
        (tmp_path / name).write_bytes((tables / name).read_bytes())


# --- the main environment: no deepchecks ---------------------------------------------------


@pytest.mark.skipif(not NUMPY_2, reason="the refusal is for environments with numpy 2")
def test_numpy_2_refuses_deepchecks_naming_the_conflict_and_the_way_out(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_dir(tables, tmp_path)
    code, err, report = gate(
        tmp_path,
        """\
        task: binary
        data: {path: test.csv, target: y}
        deepchecks: {suites: [data_integrity]}
        """,
        capsys,
    )

    assert code == 2, err
    assert f"deepchecks 0.19.1 needs numpy < 2, found numpy {np.__version__}" in err
    assert "docs/deepchecks.md" in err and "deepchecks.result" in err
    assert report == {}  # a gate that cannot run its checks writes no report that could pass


def test_a_saved_deepchecks_result_gates_in_an_environment_without_deepchecks(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_dir(tables, tmp_path)
    (tmp_path / "saved.json").write_bytes(SAVED.read_bytes())
    config = """\
        task: binary
        data: {path: test.csv, target: y}
        deepchecks: {result: saved.json%s}
        """

    code, _err, report = gate(tmp_path, config % "", capsys, "--markdown", str(tmp_path / "summary.md"))

    validate_report(report)
    rows = by_id(report)
    drift = rows["deepchecks:result/Feature Drift"]
    assert drift["kind"] == "deepchecks" and drift["status"] == "fail"
    assert drift["metric"] == "Feature Drift"
    assert drift["details"]["condition"] == "categorical drift score < 0.2 and numerical drift score < 0.1"
    assert drift["details"]["figures"]["x.Drift score"] == pytest.approx(0.205, abs=1e-9)
    assert rows["deepchecks:result/Label Drift"]["status"] == "pass"
    # The saved JSON keeps only the text of why a check did not run, so it fails closed and says how to
    # accept it.
    leak = rows["deepchecks:result/Date Train Test Leakage Duplicates"]
    assert leak["status"] == "error"
    assert "Dataset does not contain a datetime" in leak["message"] and "deepchecks.skip" in leak["message"]
    assert report["decision"] == "reject" and code == 1
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "deepchecks:result/Feature Drift" in summary and "numerical drift score" in summary

    code, _err, report = gate(
        tmp_path,
        config % ", skip: [DateTrainTestLeakageDuplicates]",
        capsys,
        "--html",
        str(tmp_path / "r.html"),
    )
    assert "deepchecks:result/Date Train Test Leakage Duplicates" not in by_id(report)
    assert report["checks"][0]["status"] == "fail" and code == 1
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>deepchecks</h2>" in html and "x.Drift score 0.2050" in html


def test_pytest_mlgate_runs_the_deepchecks_rows_as_test_items(
    tables: Path, pytester: pytest.Pytester
) -> None:
    in_dir(tables, pytester.path)
    (pytester.path / "saved.json").write_bytes(SAVED.read_bytes())
    (pytester.path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: test.csv, target: y}\n"
        "deepchecks: {result: saved.json, skip: [Date Train Test Leakage Duplicates]}\n",
        encoding="utf-8",
    )
    result = pytester.runpytest_subprocess("--mlgate", "-p", "no:cacheprovider")
    # One test item for the section, failing on its failing row.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mlgate deepchecks*", "deepchecks:result/Feature Drift: FAIL*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        ("[1, 2]", "is not a deepchecks result"),
        ('{"type": "SuiteResult", "results": {}}', "`$.results` must be a list"),
        ('{"type": "SuiteResult", "results": [{"type": "Other"}]}', "`$.results[0]` must be an object whose"),
        (
            '{"type": "CheckResult", "check": {"name": "X"}, "conditions_results": [{"Status": "MAYBE"}]}',
            "conditions_results[0].Status must be one of PASS, WARN, FAIL, ERROR, not 'MAYBE'",
        ),
        ('{"type": "SuiteResult", "name": "s", "results": []}', None),
        ("{not json", "is not valid JSON"),
    ],
)
def test_a_broken_saved_result_is_a_data_error_naming_the_file_and_the_place(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], saved: str, message: str | None
) -> None:
    in_dir(tables, tmp_path)
    (tmp_path / "saved.json").write_text(saved, encoding="utf-8")
    code, err, report = gate(
        tmp_path,
        "task: binary\ndata: {path: test.csv, target: y}\ndeepchecks: {result: saved.json}\n",
        capsys,
    )
    if message is None:  # an empty suite judged nothing: that fails closed as an error row
        assert code == 1 and report["checks"][0]["status"] == "error"
        assert "judged nothing" in report["checks"][0]["message"]
        return
    assert code == 3, err
    assert "saved.json" in err and message in err


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{suites: [data_integrty]}", "did you mean 'data_integrity'?"),
        ("{suites: [train_test_validation]}", "train_test_validation needs `deepchecks.reference`"),
        ("{suites: [model_evaluation], reference: train.csv}", "model_evaluation needs `candidate.model`"),
        ("{result: s.json, suites: [data_integrity]}", "cannot be combined"),
        ("{checks: {FeatureDrift: {}}}", "has no `conditions`"),
        ("{checks: {FeatureDrift: {conditions: {drift_below: {}}}}}", "must name a condition method"),
        ("{}", "must have at least one of `metrics`"),
        ("{skip: [FeatureDrift]}", "must have `suites`, `checks` or a saved `result`"),
        ("{suites: data_integrity}", "must be an array"),
    ],
)
def test_a_wrong_deepchecks_section_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, message: str
) -> None:
    (tmp_path / "test.csv").write_text("x,y\n1,0\n2,1\n", encoding="utf-8")
    code, err, _ = gate(
        tmp_path, f"task: binary\ndata: {{path: test.csv, target: y}}\ndeepchecks: {section}\n", capsys
    )
    assert code == 2, err
    assert message in err


# --- .venv-deepchecks: deepchecks runs here --------------------------------------------------


@needs_deepchecks
def test_the_saved_result_is_what_deepchecks_writes_today() -> None:
    """The committed file the main environment gates on must match deepchecks' own output."""
    from deepchecks_data import saved_suite

    fresh = json.loads(saved_suite().to_json(with_display=False))
    saved = json.loads(SAVED.read_text(encoding="utf-8"))
    assert [r.get("conditions_results") for r in fresh["results"]] == [
        r.get("conditions_results") for r in saved["results"]
    ]
    assert [r["type"] for r in fresh["results"]] == ["CheckResult", "CheckResult", "CheckFailure"]


@needs_deepchecks
def test_drift_side_by_side_psi_fails_a_spread_change_that_deepchecks_ks_passes(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same data, both judges: `x` doubles its spread (4,000 rows each side).

    The native drift check bins `x` on the reference's deciles: half the current rows land in the
    two outer deciles instead of a fifth, so PSI is 0.79 (fail >= 0.25) and highly
    significant. deepchecks' Feature Drift scores a numeric column by the Kolmogorov-Smirnov
    statistic, the largest gap between the two CDFs; a symmetric spread change keeps the CDFs
    together in the middle and the gap peaks near 0.16, under its default 0.2, so it passes.
    """
    in_dir(tables, tmp_path)
    code, _err, report = gate(
        tmp_path,
        """\
        task: binary
        data: {path: test.csv, target: y}
        drift: {reference: train.csv, columns: [x, z, colour]}
        deepchecks:
          reference: train.csv
          cat_features: [colour]
          checks:
            FeatureDrift:
              conditions: {add_condition_drift_score_less_than: {max_allowed_numeric_score: 0.2}}
        """,
        capsys,
    )
    rows = by_id(report)
    native = rows["drift:x"]
    assert native["status"] == "fail" and native["value"] > 0.35, native
    deep = rows["deepchecks:checks/Feature Drift"]
    assert deep["status"] == "pass", deep
    figures = deep["details"]["figures"]
    assert 0.13 < figures["x.Drift score"] < 0.19, figures
    # Both see the same unchanged column `z`: neither flags it.
    assert rows["drift:z"]["status"] == "pass"
    assert code == 1 and report["decision"] == "reject"
    validate_report(report)


@needs_deepchecks
def test_data_integrity_finds_planted_problems_in_every_report_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(4)
    n = 300
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "city": rng.choice(["Paris", "Lyon"], n).astype(object),
            "y": rng.integers(0, 2, n),
        }
    )
    frame.loc[:40, "city"] = "paris!"  # a variant of "Paris": deepchecks' String Mismatch
    frame = pd.concat([frame, frame.iloc[:60]], ignore_index=True)  # 60 duplicate rows: Data Duplicates
    frame.to_csv(tmp_path / "test.csv", index=False)
    code, _err, report = gate(
        tmp_path,
        """\
        task: binary
        data: {path: test.csv, target: y}
        deepchecks: {suites: [data_integrity], cat_features: [city]}
        """,
        capsys,
        "--markdown",
        str(tmp_path / "summary.md"),
        "--html",
        str(tmp_path / "report.html"),
    )
    validate_report(report)
    rows = by_id(report)
    dupes = rows["deepchecks:data_integrity/Data Duplicates"]
    assert dupes["status"] == "warn" or dupes["status"] == "fail", dupes
    assert dupes["details"]["suite"] == "data_integrity"
    mismatch = rows["deepchecks:data_integrity/String Mismatch"]
    assert mismatch["status"] in ("warn", "fail"), mismatch
    # The suite's Identifier Label Correlation needs an index or a date column: deepchecks says it does
    # not apply, which is listed as a warning (not silently dropped, not a failure).
    assert "deepchecks:data_integrity/Identifier Label Correlation" in rows, sorted(rows)
    not_run = rows["deepchecks:data_integrity/Identifier Label Correlation"]
    assert not_run["status"] == "warn" and "does not apply" in not_run["message"]
    assert not_run["details"]["exception"] == "DatasetValidationError"
    failing = [c for c in report["checks"] if c["status"] in ("fail", "error")]
    assert (code == 1) == bool(failing)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for text in ("deepchecks:data_integrity/Data Duplicates", "Duplicate data ratio"):
        assert text in summary
    assert "<h2>deepchecks</h2>" in html and "Duplicate data ratio" in html
    terminal = gate.stdout  # type: ignore[attr-defined]
    assert "deepchecks:data_integrity/Data Duplicates" in terminal and "Duplicate data ratio" in terminal


@needs_deepchecks
def test_explicit_checks_run_on_the_candidate_model_and_bad_names_are_config_errors(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    in_dir(tables, tmp_path)
    train = pd.read_csv(tmp_path / "train.csv")
    model = LogisticRegression().fit(train[["x", "z"]], train["y"])
    sio.dump(model, tmp_path / "model.skops")
    config = """\
        task: binary
        data: {path: test.csv, target: y, features: [x, z]}
        candidate: {model: model.skops}
        deepchecks:
          reference: train.csv
          checks:
            %s
        """

    code, err, report = gate(
        tmp_path,
        config
        % (
            "SimpleModelComparison: {params: {strategy: most_frequent}, conditions: "
            "{add_condition_gain_greater_than: {min_allowed_gain: 0.1}}}\n"
            "            RocReport: {conditions: {add_condition_auc_greater_than: {min_auc: 0.99}}}"
        ),
        capsys,
    )
    validate_report(report)
    rows = by_id(report)
    assert rows["deepchecks:checks/Simple Model Comparison"]["status"] == "pass"
    roc = [c for c in report["checks"] if c["metric"].startswith("ROC Report")]
    # The model sees `z` through noise of half its size: its AUC is near 0.9, below the 0.99 asked for.
    assert roc and all(c["status"] == "fail" for c in roc), roc
    assert code == 1

    code, err, _ = gate(tmp_path, config % "FeatureDrfit: {conditions: {add_condition_x: {}}}", capsys)
    assert code == 2 and "did you mean `FeatureDrift`?" in err
    code, err, _ = gate(tmp_path, config % "FeatureDrift: {conditions: {add_condition_x: {}}}", capsys)
    assert code == 2 and "add_condition_drift_score_less_than" in err
    code, err, _ = gate(
        tmp_path,
        config % "FeatureDrift: {params: {bogus: 1}, conditions: {add_condition_drift_score_less_than: {}}}",
        capsys,
    )
    assert code == 2 and "`deepchecks.checks.FeatureDrift.params`" in err


@needs_deepchecks
@pytest.mark.slow
def test_the_three_suites_run_on_the_gate_data_and_model(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    in_dir(tables, tmp_path)
    train = pd.read_csv(tmp_path / "train.csv")
    sio.dump(LogisticRegression().fit(train[["x", "z"]], train["y"]), tmp_path / "model.skops")
    _code, _err, report = gate(
        tmp_path,
        """\
        task: binary
        data: {path: test.csv, target: y, features: [x, z]}
        candidate: {model: model.skops}
        deepchecks:
          reference: train.csv
          suites: [data_integrity, train_test_validation, model_evaluation]
          skip: [MultivariateDrift, WeakSegmentsPerformance]
        """,
        capsys,
    )
    validate_report(report)
    suites = {c["details"]["suite"] for c in report["checks"]}
    assert suites == {"data_integrity", "train_test_validation", "model_evaluation"}
    assert not any("Multivariate Drift" in c["id"] for c in report["checks"])
    assert by_id(report)["deepchecks:train_test_validation/Feature Drift"]["status"] == "pass"
    errors = [c["message"] for c in report["checks"] if c["status"] == "error"]
    assert not errors, errors
