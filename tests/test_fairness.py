"""Fairness: point values against fairlearn's MetricFrame, interval coverage, power, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from pytest_mlgate.checks.fairness import MISSING_GROUP, group_labels, run_fairness
from pytest_mlgate.config import FAIRNESS_METRICS, FairnessConfig
from pytest_mlgate.errors import DataError
from pytest_mlgate.stats.groups import disparities, group_cells
from pytest_mlgate.stats.rng import stream

ORACLES = {
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "true_negative_rate": true_negative_rate,
    "accuracy": accuracy_score,
    "precision": lambda y, p: precision_score(y, p, zero_division=0),
}


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n, p=[0.4, 0.6]),
            "age": rng.choice(["young", "middle", "old"], n),
            "y": rng.integers(0, 2, n),
        }
    )
    frame["cand"] = np.where(rng.random(n) < 0.8, frame["y"], 1 - frame["y"])
    frame["base"] = np.where(rng.random(n) < 0.75, frame["y"], 1 - frame["y"])
    return frame


def test_per_group_values_equal_fairlearn_metricframe_including_intersections() -> None:
    frame = _data(6_000, 0)
    cfg = FairnessConfig(sensitive=("sex", "age"), metrics=FAIRNESS_METRICS)
    checks = run_fairness(
        cfg,
        frame,
        frame["y"].to_numpy(),
        frame["cand"].to_numpy(),
        frame["base"].to_numpy(),
        seed=0,
        n_boot=200,
        confidence=0.95,
    )
    for check in checks:
        oracle = MetricFrame(
            metrics=ORACLES[check.metric],
            y_true=frame["y"],
            y_pred=frame["cand"],
            sensitive_features=frame[["sex", "age"]],
        )
        ours = {g["group"]: g["candidate"] for g in check.details["groups"]}
        for (sex, age), value in oracle.by_group.items():
            assert ours[f"sex={sex}, age={age}"] == pytest.approx(value, abs=1e-12), check.metric
        assert check.value == pytest.approx(oracle.difference(method="between_groups"), abs=1e-12)
        assert check.details["ratio"] == pytest.approx(oracle.ratio(method="between_groups"), abs=1e-12)


def test_per_group_rate_intervals_cover_the_truth() -> None:
    rng = np.random.default_rng(1)
    true_tpr = {0: 0.7, 1: 0.8}
    covered = total = 0
    for i in range(500):
        groups = np.repeat([0, 1], 1_000)
        y = rng.integers(0, 2, 2_000)
        hit = rng.random(2_000) < np.where(groups == 0, true_tpr[0], true_tpr[1])
        pred = np.where(y == 1, hit, rng.random(2_000) < 0.2).astype(np.intp)
        cells = group_cells(groups, 2, y, pred, pred)
        (d,) = disparities(
            cells, ["a", "b"], ["true_positive_rate"], rng=stream(i, "cov"), n_boot=1_000, with_baseline=False
        )
        for g, rate in zip(d.groups, (true_tpr[0], true_tpr[1]), strict=True):
            covered += g.candidate_ci.low <= rate <= g.candidate_ci.high
            total += 1
    assert 0.93 <= covered / total <= 0.97


def test_cutting_one_groups_tpr_by_15_points_fails() -> None:
    rng = np.random.default_rng(2)
    cfg = FairnessConfig(sensitive=("g",), metrics=("true_positive_rate",))
    fails = 0
    for i in range(100):
        g = np.repeat(["a", "b"], 2_000)
        y = rng.integers(0, 2, 4_000)
        base_hit = rng.random(4_000) < 0.8
        cand_hit = np.where(g == "a", rng.random(4_000) < 0.65, base_hit)
        noise = rng.random(4_000) < 0.1
        base = np.where(y == 1, base_hit, noise).astype(np.intp)
        cand = np.where(y == 1, cand_hit, noise).astype(np.intp)
        (check,) = run_fairness(
            cfg, pd.DataFrame({"g": g}), y, cand, base, seed=i, n_boot=1_000, confidence=0.95
        )
        fails += check.status == "fail"
    assert fails / 100 >= 0.95


def test_small_and_undefined_groups_are_listed_as_insufficient_never_dropped() -> None:
    frame = _data(3_000, 3)
    frame.loc[:19, "sex"] = "x"  # a group of 20
    frame.loc[frame["sex"] == "m", "y"] = 0  # no positives: TPR undefined
    cfg = FairnessConfig(sensitive=("sex",), metrics=("true_positive_rate",))
    (check,) = run_fairness(
        cfg,
        frame,
        frame["y"].to_numpy(),
        frame["cand"].to_numpy(),
        frame["base"].to_numpy(),
        seed=0,
        n_boot=300,
        confidence=0.95,
    )
    status = {g["group"]: (g["status"], g["reason"]) for g in check.details["groups"]}
    assert status["x"][0] == "insufficient_data" and "n=20 < 30" in status["x"][1]
    assert status["m"][0] == "insufficient_data" and "undefined" in status["m"][1]
    assert check.status == "inconclusive"  # one sufficient group left: nothing to compare
    assert "insufficient_data" in check.message


def test_missing_sensitive_values_form_a_group_or_fail_as_configured() -> None:
    frame = _data(500, 4)
    frame.loc[[3, 8], "sex"] = np.nan
    _, names = group_labels(FairnessConfig(sensitive=("sex",)), frame)
    assert MISSING_GROUP in names
    with pytest.raises(DataError, match=r"`sex` has 2 missing value\(s\) \(rows \[3, 8\]\)"):
        group_labels(FairnessConfig(sensitive=("sex",), missing="error"), frame)
    with pytest.raises(DataError, match=r"`fairness\.sensitive`: column `gender` is not in the data"):
        group_labels(FairnessConfig(sensitive=("gender",)), frame)


def test_four_fifths_rule_only_when_asked() -> None:
    rng = np.random.default_rng(5)
    g = np.repeat(["a", "b"], 5_000)
    y = rng.integers(0, 2, 10_000)
    pred = (rng.random(10_000) < np.where(g == "a", 0.5, 0.35)).astype(np.intp)  # ratio 0.7
    frame = pd.DataFrame({"g": g})
    plain = FairnessConfig(
        sensitive=("g",), metrics=("selection_rate",), max_difference=None, max_regression=None
    )
    strict = FairnessConfig(
        sensitive=("g",),
        metrics=("selection_rate",),
        max_difference=None,
        max_regression=None,
        four_fifths=True,
    )
    (off,) = run_fairness(plain, frame, y, pred, None, seed=0, n_boot=500, confidence=0.95)
    (on,) = run_fairness(strict, frame, y, pred, None, seed=0, n_boot=500, confidence=0.95)
    assert off.status == "inconclusive" and "no fairness limit" in off.message
    assert on.status == "fail" and "below 0.8" in on.message


def test_missing_sensitive_column_exits_3_naming_it(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from pytest_mlgate.cli import main

    frame = _data(400, 6)
    frame["score"] = np.where(frame["cand"] == 1, 0.8, 0.2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: score}\nfairness: {sensitive: [gender]}\n"
    )
    assert main(["gate", "-c", str(tmp_path / "mlgate.yaml")]) == 3
    assert "column `gender` is not in the data" in capsys.readouterr().err


def test_a_user_callable_per_group_matches_fairlearn(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fairmetric.py").write_text(
        "import numpy as np\n\ndef balanced_accuracy(y, p):\n"
        "    return float(np.mean([np.mean(p[y == k] == k) for k in (0, 1) if np.any(y == k)]))\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        from fairmetric import balanced_accuracy  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    frame = _data(3_000, 7)
    cfg = FairnessConfig(
        sensitive=("sex",), metrics=("fairmetric:balanced_accuracy",), max_difference=0.2, max_regression=None
    )
    (check,) = run_fairness(
        cfg,
        frame,
        frame["y"].to_numpy(),
        frame["cand"].to_numpy(),
        frame["base"].to_numpy(),
        seed=0,
        n_boot=200,
        confidence=0.95,
        base_dir=tmp_path,
    )
    oracle = MetricFrame(
        metrics=balanced_accuracy, y_true=frame["y"], y_pred=frame["cand"], sensitive_features=frame["sex"]
    )
    ours = {g["group"]: g["candidate"] for g in check.details["groups"]}
    assert ours == pytest.approx(oracle.by_group.to_dict(), abs=1e-12)
    assert check.status == "pass" and check.method == "stratified paired row bootstrap"
