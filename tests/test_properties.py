"""Property helpers: a violated monotonicity shrinks to a readable counterexample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.errors import ConfigError, GateFailure
from pytest_mlgate.properties import assert_invariant, assert_monotonic, assert_robust


@pytest.fixture
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "income": rng.uniform(1_000, 9_000, 200),
            "age": rng.integers(18, 80, 200),
            "region": rng.choice(["north", "south"], 200),
        }
    )


def _logistic(frame: pd.DataFrame) -> np.ndarray:
    return 1 / (1 + np.exp(-(frame["income"].to_numpy() - 5_000) / 1_000))


def test_a_monotonic_model_passes_and_a_violating_one_fails_with_a_counterexample(
    reference: pd.DataFrame,
) -> None:
    assert_monotonic(_logistic, reference, "income", max_examples=50)

    def dips(frame: pd.DataFrame) -> np.ndarray:
        income = frame["income"].to_numpy()
        return _logistic(frame) - 0.5 * ((income > 6_000) & (income < 7_000))

    with pytest.raises(GateFailure) as info:
        assert_monotonic(dips, reference, "income", max_examples=200)
    text = str(info.value)
    assert "does not rise with `income`" in text and "minimal counterexample" in text
    assert "`income`=" in text and "region=" in text  # the row is shown, readable


def test_invariance_to_a_feature_that_should_not_matter(reference: pd.DataFrame) -> None:
    assert_invariant(_logistic, reference, "region", max_examples=30)

    def uses_region(frame: pd.DataFrame) -> np.ndarray:
        return _logistic(frame) + 0.1 * (frame["region"].to_numpy() == "south")

    with pytest.raises(GateFailure, match="the score moved when `region` changed"):
        assert_invariant(uses_region, reference, "region", max_examples=30)


def test_robustness_to_small_noise(reference: pd.DataFrame) -> None:
    def labels(frame: pd.DataFrame) -> np.ndarray:
        return (_logistic(frame) >= 0.5).astype(int)

    assert assert_robust(labels, reference, noise=0.001, max_flip_rate=0.05) <= 0.05
    with pytest.raises(GateFailure, match="flipped"):
        assert_robust(labels, reference, noise=1.0, max_flip_rate=0.01)


def test_unknown_feature_is_a_config_error(reference: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="`feature`='salary' must be a column"):
        assert_monotonic(_logistic, reference, "salary")


def test_properties_section_reports_each_property(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from pytest_mlgate.cli import main

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"income": rng.normal(size=400), "noise": rng.normal(size=400)})
    frame["y"] = (frame["income"] + rng.normal(0, 0.5, 400) > 0).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    model = LogisticRegression().fit(frame[["income", "noise"]], frame["y"])
    model.coef_[0, 1] = 0.0  # `noise` cannot matter
    sio.dump(model, tmp_path / "m.skops")
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {model: m.skops}\n"
        "properties:\n  monotonic: {income: increasing, noise: decreasing}\n  invariant: [noise]\n"
        "  robust: {noise: 0.001, max_flip_rate: 0.05}\n  max_examples: 30\n"
    )
    assert main(["gate", "-c", str(tmp_path / "mlgate.yaml")]) == 0
    checks = {
        c["id"]: c["status"] for c in json.loads((tmp_path / "mlgate-report.json").read_text())["checks"]
    }
    assert checks == {
        "properties:monotonic:income": "pass",
        "properties:monotonic:noise": "pass",
        "properties:invariant:noise": "pass",
        "properties:robust": "pass",
    }
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {model: m.skops}\n"
        "properties: {monotonic: {income: decreasing}, max_examples: 30}\n"
    )
    assert main(["gate", "-c", str(tmp_path / "mlgate.yaml")]) == 1
    (check,) = json.loads((tmp_path / "mlgate-report.json").read_text())["checks"]
    assert check["status"] == "fail" and "minimal counterexample" in check["message"]
    capsys.readouterr()


def test_rows_can_come_from_a_stored_profile(reference: pd.DataFrame) -> None:
    from pytest_mlgate.profile import build_profile, frame_chunks

    profile = build_profile(frame_chunks(reference))
    assert_monotonic(_logistic, profile, "income", max_examples=30)
    with pytest.raises(GateFailure, match="does not rise with `income`"):
        assert_monotonic(lambda f: -_logistic(f), profile, "income", max_examples=30)
