"""Bad input gets a clear message and the right exit code, never a traceback.

Exit codes of `mlgate`: 2 for a config or usage error, 3 for data or a model that
cannot be read. Under `pytest --mlgate` a config error is a usage error (exit 4)
and a data error fails every gate item with the plain message.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gate_data import BINARY_CONFIG, binary_frame, write_config_text, write_csv

from pytest_mlgate.cli import main

TRACEBACK = "Traceback (most recent call last)"
EXIT_FAILED, EXIT_USAGE, EXIT_DATA = 1, 2, 3


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `mlgate ARGV` in-process; return (exit code, stderr), and check there was no traceback."""
    code = main(argv)
    captured = capsys.readouterr()
    assert TRACEBACK not in captured.err
    assert TRACEBACK not in captured.out
    assert "internal error" not in captured.err
    return code, captured.err


def gate(tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Write CONFIG as mlgate.yaml in tmp_path and run `mlgate gate -c` on it."""
    path = write_config_text(tmp_path, config)
    return run(["gate", "-c", str(path)], capsys)


def binary_data(tmp_path: Path, n: int = 200, **columns: object) -> pd.DataFrame:
    """Write data.csv with columns y, cand, base (and any overrides) and return the frame."""
    frame = binary_frame(n, seed=3)
    for name, value in columns.items():
        frame[name] = value
    write_csv(frame, tmp_path / "data.csv")
    return frame


def line_of(text: str, fragment: str) -> int:
    """1-based line number of the first line of the dedented TEXT that contains FRAGMENT."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if fragment in line)


# --- data files -----------------------------------------------------------------------------


def test_missing_data_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = gate(tmp_path, BINARY_CONFIG.replace("path: data.csv", "path: holdout_missing.csv"), capsys)

    assert code == EXIT_DATA
    assert "holdout_missing.csv" in err
    assert "does not exist" in err


def test_empty_csv_with_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.csv").write_text("y,cand,base\n", encoding="utf-8")

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "data.csv" in err
    assert "no rows" in err


def test_zero_byte_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.csv").write_bytes(b"")

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "data.csv" in err
    assert "is empty" in err


def test_missing_target_column_suggests_the_close_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = binary_frame(200, seed=3).rename(columns={"y": "default"})
    write_csv(frame, tmp_path / "data.csv")

    code, err = gate(tmp_path, BINARY_CONFIG.replace("target: y", "target: defualt"), capsys)

    assert code == EXIT_DATA
    assert "`data.target`" in err
    assert "column `defualt` is not in the data file `data.csv`" in err
    assert "did you mean `default`?" in err


def test_missing_target_column_without_a_close_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary_data(tmp_path)

    code, err = gate(tmp_path, BINARY_CONFIG.replace("target: y", "target: outcome_label"), capsys)

    assert code == EXIT_DATA
    assert "column `outcome_label`" in err
    assert "did you mean" not in err
    assert "columns: y, cand, base" in err


def test_missing_prediction_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary_data(tmp_path)

    code, err = gate(tmp_path, BINARY_CONFIG.replace("column: cand", "column: cnad"), capsys)

    assert code == EXIT_DATA
    assert "`candidate.column`" in err
    assert "column `cnad`" in err
    assert "did you mean `cand`?" in err


def test_nan_in_candidate_probabilities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cand = binary_frame(200, seed=3)["cand"].to_numpy().copy()
    cand[[3, 10]] = np.nan
    binary_data(tmp_path, cand=cand)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "candidate column `cand`" in err
    assert "2 row(s) with NaN" in err
    assert "first rows: [3, 10]" in err


def test_inf_in_baseline_predictions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = binary_frame(200, seed=3)["base"].to_numpy().copy()
    base[7] = np.inf
    binary_data(tmp_path, base=base)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "baseline column `base`" in err
    assert "with inf" in err
    assert "[7]" in err


def test_probability_outside_unit_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cand = binary_frame(200, seed=3)["cand"].to_numpy().copy()
    cand[5] = 1.5
    binary_data(tmp_path, cand=cand)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "candidate column `cand`" in err
    assert "probabilities in [0, 1]" in err
    assert "row 5 is 1.5" in err
    assert "type: label" in err


def test_non_numeric_probabilities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cand = binary_frame(200, seed=3)["cand"].astype(object).to_numpy().copy()
    cand[4] = "high"
    binary_data(tmp_path, cand=cand)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "candidate column `cand` must be numeric" in err
    assert "'high'" in err


def test_prediction_file_shorter_than_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = binary_data(tmp_path, n=100)
    write_csv(frame[["cand"]].rename(columns={"cand": "p"}).iloc[:90], tmp_path / "candidate_preds.csv")
    config = BINARY_CONFIG.replace("  column: cand", "  file: candidate_preds.csv\n  column: p")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_DATA
    assert "candidate_preds.csv" in err
    assert "has 90 rows but the data has 100" in err


def test_target_with_a_single_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary_data(tmp_path, y=np.ones(200, dtype=int))

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "target column `y`" in err
    assert "fewer than 2 classes" in err


def test_missing_values_in_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    y = binary_frame(200, seed=3)["y"].astype(float).to_numpy().copy()
    y[[0, 9]] = np.nan
    binary_data(tmp_path, y=y)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "target column `y` has 2 missing value(s)" in err
    assert "[0, 9]" in err


def test_binary_string_labels_need_positive_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    y = np.where(binary_frame(200, seed=3)["y"] == 1, "good", "bad")
    binary_data(tmp_path, y=y)

    code, err = gate(tmp_path, BINARY_CONFIG, capsys)

    assert code == EXIT_USAGE
    assert "`positive_label` must be set" in err
    assert "'bad', 'good'" in err


def test_binary_string_labels_work_with_positive_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    y = np.where(binary_frame(200, seed=3)["y"] == 1, "good", "bad")
    binary_data(tmp_path, y=y)

    code, _ = gate(tmp_path, BINARY_CONFIG + "positive_label: good\n", capsys)

    assert code in (0, 1)
    assert (tmp_path / "mlgate-report.json").is_file()


# --- multiclass and models ------------------------------------------------------------------


def _multiclass_frame(labels: list[str], n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(labels, size=n)
    centres = {label: i for i, label in enumerate(["a", "b", "c", "d"])}
    shift = np.array([centres[label] for label in y], dtype=float)
    return pd.DataFrame(
        {"x1": shift + rng.normal(scale=0.5, size=n), "x2": -shift + rng.normal(scale=0.5, size=n), "y": y}
    )


def _train_abc(path: Path) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    train = _multiclass_frame(["a", "b", "c"], 300, seed=0)
    model = LogisticRegression(max_iter=500).fit(train[["x1", "x2"]], train["y"])
    sio.dump(model, path)


MULTICLASS_MODEL_CONFIG = """
task: multiclass
data:
  path: data.csv
  target: y
candidate:
  model: candidate.skops
n_boot: 500
metrics:
  accuracy: {min: 0.1}
"""


def test_multiclass_model_that_does_not_know_a_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _train_abc(tmp_path / "candidate.skops")
    write_csv(_multiclass_frame(["a", "b", "c", "d"], 200, seed=1), tmp_path / "data.csv")

    code, err = gate(tmp_path, MULTICLASS_MODEL_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "candidate.skops" in err
    assert "does not know the labels ['d']" in err
    assert "it knows ['a', 'b', 'c']" in err


def test_multiclass_model_on_known_labels_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _train_abc(tmp_path / "candidate.skops")
    write_csv(_multiclass_frame(["a", "b", "c"], 200, seed=1), tmp_path / "data.csv")

    code, _ = gate(tmp_path, MULTICLASS_MODEL_CONFIG, capsys)

    assert code in (0, 1)
    report = json.loads((tmp_path / "mlgate-report.json").read_text(encoding="utf-8"))
    assert report["provenance"]["classes"] == ["a", "b", "c"]


def test_multiclass_columns_mapping_missing_a_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=150)
    frame = pd.DataFrame(
        {"y": rng.choice(["a", "b", "c"], size=150), "pa": proba[:, 0], "pb": proba[:, 1], "pc": proba[:, 2]}
    )
    write_csv(frame, tmp_path / "data.csv")
    config = """
    task: multiclass
    data: {path: data.csv, target: y}
    candidate:
      columns: {a: pa, b: pb}
    n_boot: 500
    metrics:
      accuracy: {min: 0.1}
    """

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "`candidate.columns` must map every class to a column" in err
    assert "missing ['c']" in err


def test_corrupt_skops_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "candidate.skops").write_bytes(np.random.default_rng(0).bytes(512))
    write_csv(_multiclass_frame(["a", "b", "c"], 100, seed=1), tmp_path / "data.csv")

    code, err = gate(tmp_path, MULTICLASS_MODEL_CONFIG, capsys)

    assert code == EXIT_DATA
    assert "candidate.skops" in err
    assert "not a readable skops file" in err


def test_missing_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(_multiclass_frame(["a", "b", "c"], 100, seed=1), tmp_path / "data.csv")

    code, err = gate(tmp_path, MULTICLASS_MODEL_CONFIG.replace("candidate.skops", "gone.skops"), capsys)

    assert code == EXIT_DATA
    assert "gone.skops" in err
    assert "does not exist" in err


PICKLE_CONFIG = """
task: binary
data:
  path: data.csv
  target: y
candidate:
  model: candidate.joblib
  {trust}
n_boot: 500
metrics:
  accuracy: {{min: 0.1}}
  roc_auc: {{min: 0.5}}
"""


def _pickled_binary_model(tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    joblib.dump(
        LogisticRegression().fit(pd.DataFrame(x, columns=["x1", "x2"]), y), tmp_path / "candidate.joblib"
    )
    write_csv(pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y}), tmp_path / "data.csv")


def test_pickle_model_without_trust_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _pickled_binary_model(tmp_path)

    code, err = gate(tmp_path, PICKLE_CONFIG.format(trust=""), capsys)

    assert code == EXIT_USAGE
    assert "`candidate.trust`=false must be true" in err
    assert "candidate.joblib" in err
    assert "arbitrary code" in err
    assert not (tmp_path / "mlgate-report.json").exists()


def test_pickle_model_with_trust_loads_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _pickled_binary_model(tmp_path)

    code, _ = gate(tmp_path, PICKLE_CONFIG.format(trust="trust: true"), capsys)

    assert code in (0, 1)
    report = json.loads((tmp_path / "mlgate-report.json").read_text(encoding="utf-8"))
    assert report["provenance"]["candidate"]["kind"] == "model"
    assert [c["id"] for c in report["checks"]] == ["threshold:accuracy", "threshold:roc_auc"]


# --- config errors --------------------------------------------------------------------------


def test_unknown_metric_suggests_the_close_name_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = BINARY_CONFIG.replace("  accuracy: {}", "  acuracy: {}")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "unknown metric `acuracy`" in err
    assert "did you mean `accuracy`?" in err
    assert f"line {line_of(config, 'acuracy')}" in err


def test_unknown_top_level_key_suggests_the_close_name_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = BINARY_CONFIG.replace("metrics:", "metircs:")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "unknown key `metircs`" in err
    assert "did you mean `metrics`?" in err
    assert f"line {line_of(config, 'metircs')}" in err


def test_unknown_nested_key_names_the_dotted_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = BINARY_CONFIG.replace("  target: y", "  target: y\n  taget: y")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "unknown key `data.taget`" in err
    assert "did you mean `data.target`?" in err
    assert f"line {line_of(config, 'taget')}" in err


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("n_boot: many", "`n_boot`='many' must be a finite integer"),
        ("n_boot: 10", "`n_boot`=10 must be >= 200"),
        ("confidence: 1.5", "`confidence`=1.5 must be < 1"),
        ("threshold: yes", "`threshold`=True must be a finite number"),
        ("mode: superority", "did you mean 'superiority'?"),
    ],
    ids=["n_boot-not-integer", "n_boot-too-small", "confidence-above-1", "threshold-boolean", "mode-typo"],
)
def test_wrong_value_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, fragment: str
) -> None:
    config = BINARY_CONFIG.replace("n_boot: 500", setting)

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert fragment in err
    assert f"line {line_of(config, setting)}" in err


def test_missing_required_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = BINARY_CONFIG.replace("task: binary\n", "")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "missing required key `task`" in err


def test_malformed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = BINARY_CONFIG.replace("  accuracy: {}", "  accuracy: {margin: 0.1")

    code, err = gate(tmp_path, config, capsys)

    assert code == EXIT_USAGE
    assert "mlgate.yaml" in err
    assert "not valid YAML" in err


def test_config_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mlgate.yaml"
    path.write_bytes(BINARY_CONFIG.replace("binary", "bin\xe4ry").encode("latin-1"))

    code, err = run(["gate", "-c", str(path)], capsys)

    assert code == EXIT_USAGE
    assert "mlgate.yaml" in err
    assert "not valid UTF-8" in err


def test_yaml_that_is_not_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = gate(tmp_path, "- just\n- a list\n", capsys)

    assert code == EXIT_USAGE
    assert "must be a mapping" in err


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["gate", "-c", str(tmp_path / "nowhere.yaml")], capsys)

    assert code == EXIT_USAGE
    assert "nowhere.yaml" in err
    assert "does not exist" in err


def test_no_config_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    code, err = run(["validate-config"], capsys)

    assert code == EXIT_USAGE
    assert "no mlgate.yaml" in err
    assert "--config" in err


def test_validate_config_reports_an_unknown_metric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config_text(tmp_path, BINARY_CONFIG.replace("roc_auc", "roc_acu"))

    code, err = run(["validate-config", str(path)], capsys)

    assert code == EXIT_USAGE
    assert "unknown metric `roc_acu`" in err
    assert "did you mean `roc_auc`?" in err


def test_bad_command_line_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["gate", "--fail-on", "sometimes"])

    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--fail-on" in err
    assert TRACEBACK not in err


# --- mlgate report --------------------------------------------------------------------------


def test_report_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["report", str(tmp_path / "no-report.json")], capsys)

    assert code == EXIT_DATA
    assert "no-report.json" in err
    assert "does not exist" in err


@pytest.mark.parametrize(
    "content", ['{"hello": "world"}', "[1, 2, 3]", "not json at all"], ids=["object", "list", "text"]
)
def test_report_on_a_file_that_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")

    code, err = run(["report", str(path)], capsys)

    assert code == EXIT_DATA
    assert "other.json" in err
    assert "is not an mlgate JSON report" in err


def test_report_with_a_future_schema_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"schema_version": "2.0", "checks": [], "decision": "keep"}), encoding="utf-8")

    code, err = run(["report", str(path)], capsys)

    assert code == EXIT_DATA
    assert "schema_version 2.0" in err


# --- under pytest --mlgate ------------------------------------------------------------------


def _pytester_gate(pytester: pytest.Pytester, config: str, frame: pd.DataFrame | None = None) -> None:
    pytester.makefile(".yaml", mlgate=textwrap.dedent(config).lstrip("\n"))
    if frame is not None:
        write_csv(frame, pytester.path / "data.csv")


def test_pytest_missing_data_file_fails_every_item_without_traceback(pytester: pytest.Pytester) -> None:
    _pytester_gate(pytester, BINARY_CONFIG.replace("path: data.csv", "path: holdout_missing.csv"))

    result = pytester.runpytest_subprocess("--mlgate")

    result.assert_outcomes(failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "holdout_missing.csv" in output
    assert "does not exist" in output
    assert TRACEBACK not in output + result.stderr.str()


def test_pytest_nan_predictions_fail_every_item_without_traceback(pytester: pytest.Pytester) -> None:
    frame = binary_frame(200, seed=3)
    frame.loc[4, "cand"] = np.nan
    _pytester_gate(pytester, BINARY_CONFIG, frame)

    result = pytester.runpytest_inprocess("--mlgate")  # in-process: the data stack is already imported

    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert "candidate column `cand` has 1 row(s) with NaN" in output
    assert TRACEBACK not in output + result.stderr.str()


def test_pytest_unknown_config_key_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _pytester_gate(pytester, BINARY_CONFIG.replace("metrics:", "metircs:"), binary_frame(200, seed=3))

    result = pytester.runpytest_subprocess("--mlgate")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "mlgate:" in err
    assert "unknown key `metircs`" in err
    assert "did you mean `metrics`?" in err
    assert TRACEBACK not in err + result.stdout.str()


def test_a_table_that_does_not_fit_in_memory_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1e8 rows on a 23 GiB machine ended as "internal error: MemoryError:" with exit 1, the code of a
    # failed gate (measured with benchmarks/bench_spark.py); the rows not fitting is neither.
    import pytest_mlgate.gate

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    binary_data(tmp_path)
    monkeypatch.setattr(pytest_mlgate.gate, "run_gate", out_of_memory)
    code, err = gate(tmp_path, BINARY_CONFIG, capsys)
    assert code == EXIT_DATA
    assert "`gate` ran out of memory" in err and "`data.engine: spark`" in err
