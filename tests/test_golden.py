"""Golden cases: known inputs → expected outputs, through the fixture (pytester) and directly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.errors import DataError, GateFailure
from pytest_mlgate.golden import Golden, GoldenStore, Tolerance, compare_golden, read_golden, write_golden


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI=true makes updates refuse; these tests decide for themselves when it is set.
    monkeypatch.delenv("CI", raising=False)
    # The pytester runs are in-process and rewrite test_model.py within the same second at the same
    # size (SHIFT 0.0 -> 0.3): a cached .pyc, keyed on mtime and size, would be read for the new source.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


TEST_MODULE = """
import numpy as np
import pandas as pd

SHIFT = {shift}

def model(frame):
    z = frame["x"].to_numpy() + SHIFT
    return 1 / (1 + np.exp(-z))

def test_golden(mlgate_golden):
    inputs = pd.DataFrame({{"x": np.linspace(-3, 3, 25), "group": list("ab") * 12 + ["a"]}})
    mlgate_golden.check("scores_v1", inputs, scores=model, labels=lambda f: (model(f) >= 0.5).astype(int), atol=1e-6)
"""


def _module(pytester: pytest.Pytester, shift: float) -> None:
    pytester.makepyfile(test_model=TEST_MODULE.format(shift=shift))


@pytest.mark.slow  # trains and scores models in several pytest runs
def test_missing_file_fails_with_instructions_then_update_writes_and_passes(
    pytester: pytest.Pytester,
) -> None:
    _module(pytester, 0.0)
    first = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(
        ["*golden file*scores_v1.json* does not exist*", "*Fix: run `pytest --mlgate-update`*"]
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update").assert_outcomes(passed=1)
    assert (pytester.path / "golden" / "scores_v1.json").is_file()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.slow  # trains and scores models in several pytest runs
def test_a_changed_model_fails_with_the_worst_rows_and_update_accepts_it(pytester: pytest.Pytester) -> None:
    _module(pytester, 0.0)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update").assert_outcomes(passed=1)
    _module(pytester, 0.3)
    changed = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-artifacts", "out")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*scores_v1.json does not match (25 rows)*",
            "*worst rows*",
            "*x*group*expected_score*obtained_score*difference*expected_label*obtained_label*",
            "*Fix: if the change is intended, run with --mlgate-update*",
        ]
    )
    assert (pytester.path / "out" / "golden-scores_v1.json.obtained.json").is_file()
    assert "flipped" in (pytester.path / "out" / "golden-scores_v1.json.diff.txt").read_text()
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update").assert_outcomes(passed=1)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_ci_refuses_updates_unless_forced(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _module(pytester, 0.0)
    monkeypatch.setenv("CI", "true")
    refused = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update")
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*CI=true refuses to rewrite expected outputs*"])
    pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--mlgate-update", "--mlgate-force-update"
    ).assert_outcomes(passed=1)


@pytest.mark.slow  # trains and scores models in several pytest runs
def test_update_new_only_keeps_existing_files_and_orphans_are_reported(pytester: pytest.Pytester) -> None:
    _module(pytester, 0.0)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update-new-only").assert_outcomes(
        passed=1
    )
    before = (pytester.path / "golden" / "scores_v1.json").read_text()
    _module(pytester, 0.3)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update-new-only").assert_outcomes(
        failed=1
    )
    assert (pytester.path / "golden" / "scores_v1.json").read_text() == before
    (pytester.path / "golden" / "retired.json").write_text("{}")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--mlgate-update")
    result.stdout.fnmatch_lines(["*mlgate golden files*", "*not used by any test in this run*retired.json*"])


def _golden(tmp_path: Path, scores: list[float], labels: list[int]) -> tuple[Path, Golden]:
    golden = Golden(pd.DataFrame({"x": range(len(scores))}), np.array(scores), np.array(labels), {})
    path = tmp_path / "g.json"
    write_golden(path, golden)
    return path, read_golden(path)


def test_labels_near_the_threshold_are_not_compared_and_the_flip_budget_counts(tmp_path: Path) -> None:
    path, golden = _golden(tmp_path, [0.2, 0.50001, 0.9, 0.1], [0, 1, 1, 0])
    tol = Tolerance(atol=1e-3)
    near = compare_golden(path, golden, np.array([0.2, 0.4999, 0.9, 0.1]), np.array([0, 0, 1, 0]), tol)
    assert near.decisive == 3 and near.label_flips.size == 0 and near.score_mismatches.size == 0
    assert near.passed  # the label flipped, but its expected score sat within tolerance of 0.5
    flipped = compare_golden(
        path, golden, golden.scores, np.array([0, 1, 0, 0]), Tolerance(atol=1e-3, flip_budget=1)
    )
    assert flipped.label_flips.tolist() == [2] and flipped.passed


def test_csv_golden_keeps_its_metadata_beside_it(tmp_path: Path) -> None:
    golden = Golden(pd.DataFrame({"x": [1.0, 2.0]}), np.array([0.1, 0.2]), None, {"model": "m@3"})
    write_golden(tmp_path / "g.csv", golden)
    back = read_golden(tmp_path / "g.csv")
    assert (
        back.metadata == {"model": "m@3"} and back.scores is not None and back.scores.tolist() == [0.1, 0.2]
    )


def test_bad_golden_inputs_and_outputs_are_named(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    store = GoldenStore(tmp_path, tmp_path / "artifacts", mode="all")
    (tmp_path / "corrupt.json").write_text("{not json")
    with pytest.raises(DataError, match=r"golden file .*corrupt.json` is corrupt"):
        read_golden(tmp_path / "corrupt.json")
    train = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0]})
    model = LogisticRegression().fit(train, [0, 0, 1, 1])
    with pytest.raises(DataError, match=r"missing \['b'\], unexpected \['c'\]"):
        store.check("cols", pd.DataFrame({"a": [1.0], "c": [2.0]}), scores=model.predict_proba, atol=1e-6)

    def fussy(frame: pd.DataFrame) -> np.ndarray:
        if (frame["a"] < 0).any():
            raise ValueError("negative a")
        return np.full(len(frame), 0.5)

    with pytest.raises(DataError, match="Row 2 raises on its own: ValueError: negative a"):
        store.check("rows", pd.DataFrame({"a": [1.0, 2.0, -1.0]}), scores=fussy, atol=1e-6)
    with pytest.raises(DataError, match=r"have shape \(2, 3\); expected \(2,\)"):
        store.check("shape", pd.DataFrame({"a": [1.0, 2.0]}), scores=lambda f: np.zeros((2, 3)), atol=1e-6)
    with pytest.raises(DataError, match=r"NaN or inf at rows \[1\]"):
        store.check(
            "nan", pd.DataFrame({"a": [1.0, 2.0]}), scores=lambda f: np.array([0.1, np.nan]), atol=1e-6
        )


def test_missing_file_without_update_is_a_gate_failure(tmp_path: Path) -> None:
    with pytest.raises(GateFailure, match="does not exist"):
        GoldenStore(tmp_path, tmp_path).check("none", scores=lambda f: f, atol=0.1)


def test_regression_section_of_the_config_gates_the_candidate_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from pytest_mlgate.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = (frame["a"] + rng.normal(0, 1, 400) > 0).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    sio.dump(LogisticRegression().fit(frame[["a", "b"]], frame["y"]), tmp_path / "m.skops")
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {model: m.skops}\n"
        "regression: {v1: {golden: golden/v1.json, atol: 1.0e-9}}\n"
    )
    config = str(tmp_path / "mlgate.yaml")
    assert main(["gate", "-c", config]) == 1  # the golden file does not exist yet
    assert (
        "does not exist" in json.loads((tmp_path / "mlgate-report.json").read_text())["checks"][0]["message"]
    )
    assert main(["gate", "-c", config, "--update-golden", "new"]) == 0
    assert main(["gate", "-c", config]) == 0
    sio.dump(LogisticRegression(C=0.01).fit(frame[["a", "b"]], frame["y"]), tmp_path / "m.skops")
    assert main(["gate", "-c", config]) == 1
    check = json.loads((tmp_path / "mlgate-report.json").read_text())["checks"][0]
    assert check["id"] == "regression:v1" and check["status"] == "fail" and "worst rows" in check["message"]
    assert (tmp_path / ".mlgate-artifacts" / "golden-v1.json.obtained.json").is_file()
    capsys.readouterr()


def test_golden_columns_are_checked_against_the_model_before_predicting(tmp_path: Path) -> None:
    golden = Golden(pd.DataFrame({"a": [1.0], "c": [2.0]}), np.array([0.5]), None, {})
    write_golden(tmp_path / "g.json", golden)
    store = GoldenStore(tmp_path, tmp_path / "artifacts")
    with pytest.raises(DataError, match=r"expects \['a', 'b'\]: missing \['b'\], unexpected \['c'\]"):
        store.check("g", scores=lambda f: np.full(len(f), 0.5), atol=1e-6, features=["a", "b"])
