"""What a new user meets in the first hour (issue #18 items 3-6), with real scikit-learn models.

Models trained on different columns, a starter contract that must accept an i.i.d. holdout, one
orientation of Δ for losses everywhere, and decisions that say why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from pytest_mlgate.config import load_config
from pytest_mlgate.errors import ConfigError, DataError
from pytest_mlgate.gate import run_gate


@pytest.fixture(scope="module")
def split_columns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A candidate fitted on a, b, c and a production model on a, b; the holdout adds a sensitive column."""
    root = tmp_path_factory.mktemp("features")
    rng = np.random.default_rng(3)
    n = 1_200
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    logit = frame["a"] + 0.5 * frame["b"] + 1.5 * frame["c"]
    frame["y"] = (logit + rng.logistic(size=n) > 0).astype(int)
    frame["group"] = rng.choice(["x", "y"], n)
    train, holdout = frame.iloc[:600], frame.iloc[600:]
    sio.dump(LogisticRegression().fit(train[["a", "b", "c"]], train["y"]), root / "cand.skops")
    sio.dump(LogisticRegression().fit(train[["b", "a"]], train["y"]), root / "base.skops")
    sio.dump(LogisticRegression().fit(train[["c", "b"]].to_numpy(), train["y"]), root / "bare.skops")
    holdout.to_csv(root / "holdout.csv", index=False)
    return root


def _config(root: Path, body: str) -> Path:
    path = root / f"mlgate-{abs(hash(body))}.yaml"
    path.write_text("task: binary\nn_boot: 300\ndata: {path: holdout.csv, target: y}\n" + body)
    return path


def test_models_trained_on_different_columns_each_get_their_own(split_columns: Path) -> None:
    # No `features:` anywhere: each model takes its own feature_names_in_, so neither the sensitive
    # column nor the candidate's extra column reaches a model that was not fitted on it.
    path = _config(
        split_columns,
        "candidate: {model: cand.skops}\nbaseline: {model: base.skops}\n"
        "metrics: {roc_auc: {margin: 0.01}}\n"
        "fairness: {sensitive: [group], metrics: [selection_rate], max_difference: 0.5}\n"
        "operational: {rounds: 2, calls: 1, batch_size: 8, max_slowdown: 100}\n",
    )
    report = run_gate(load_config(path))
    checks = {c.id: c for c in report.checks}
    holdout = pd.read_csv(split_columns / "holdout.csv")
    cand = sio.load(split_columns / "cand.skops")
    base = sio.load(split_columns / "base.skops")
    compare = checks["compare:roc_auc"]
    assert compare.value == pytest.approx(
        roc_auc_score(holdout["y"], cand.predict_proba(holdout[["a", "b", "c"]])[:, 1])
    )
    assert compare.baseline == pytest.approx(
        roc_auc_score(holdout["y"], base.predict_proba(holdout[["b", "a"]])[:, 1])
    )
    assert compare.status == "pass"  # c carries most of the signal, and only the candidate has it
    assert not [c for c in report.checks if c.status == "error"], [c.message for c in report.checks]


def test_features_per_model_for_models_without_column_names(split_columns: Path) -> None:
    path = _config(
        split_columns,
        "candidate: {model: cand.skops}\nbaseline: {model: bare.skops, features: [c, b]}\n"
        "metrics: {roc_auc: {margin: 0.01}}\n",
    )
    report = run_gate(load_config(path))
    holdout = pd.read_csv(split_columns / "holdout.csv")
    bare = sio.load(split_columns / "bare.skops")
    expected = roc_auc_score(holdout["y"], bare.predict_proba(holdout[["c", "b"]].to_numpy())[:, 1])
    assert report.checks[0].baseline == pytest.approx(expected)


def test_a_column_the_model_wants_and_the_data_lacks_is_named_with_the_model(split_columns: Path) -> None:
    holdout = pd.read_csv(split_columns / "holdout.csv").drop(columns=["c"])
    holdout.to_csv(split_columns / "no_c.csv", index=False)
    path = split_columns / "no_c.yaml"
    path.write_text(
        "task: binary\ndata: {path: no_c.csv, target: y}\n"
        "candidate: {model: cand.skops}\nbaseline: {model: base.skops}\nmetrics: {roc_auc: {margin: 0.01}}\n"
    )
    with pytest.raises(DataError) as caught:
        run_gate(load_config(path))
    message = str(caught.value)
    assert "candidate model" in message and "`c`" in message and "feature_names_in_" in message
    assert "`candidate.features`" in message and "no_c.csv" in message


def test_features_given_for_a_prediction_column_is_a_config_error(split_columns: Path) -> None:
    path = _config(
        split_columns,
        "candidate: {model: cand.skops}\nbaseline: {column: a, features: [a]}\nmetrics: {roc_auc: {margin: 0.01}}\n",
    )
    with pytest.raises(ConfigError, match=r"`baseline.features` must be left out"):
        load_config(path)
