"""Data-check edges found in review: ties, text forms of categories, malformed profiles, chunking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pytest_mlgate.checks.drift import run_drift
from pytest_mlgate.checks.fairness import group_labels
from pytest_mlgate.checks.validation import run_validation
from pytest_mlgate.cli import main
from pytest_mlgate.config import ColumnRule, DriftConfig, FairnessConfig, ValidationConfig, load_config
from pytest_mlgate.errors import ConfigError, DataError
from pytest_mlgate.profile import build_profile, frame_chunks, infer_contract, load_profile
from pytest_mlgate.stats.drift import QUANTILE_GRID, quantile_shift
from pytest_mlgate.stats.groups import disparities, group_cells
from pytest_mlgate.stats.rng import stream


@pytest.mark.parametrize("kind", ["binary", "poisson", "zero-inflated"])
def test_w1_and_ks_count_ties_as_ties(kind: str) -> None:
    rng = np.random.default_rng(0)

    def draw(shift: float) -> np.ndarray:
        if kind == "binary":
            return (rng.random(50_000) < 0.5 + shift).astype(float)
        if kind == "poisson":
            return rng.poisson(2 + 5 * shift, 50_000).astype(float)
        return np.where(rng.random(50_000) < 0.6 - shift, 0.0, rng.exponential(1, 50_000))

    for shift in (0.0, 0.02):
        ref, cur = draw(0.0), draw(shift)
        w1, d, _ = quantile_shift(np.quantile(ref, QUANTILE_GRID), float(ref.std()), np.sort(cur), ref.size)
        assert w1 == pytest.approx(sps.wasserstein_distance(ref, cur) / ref.std(), abs=0.01)
        assert d == pytest.approx(sps.ks_2samp(ref, cur).statistic, abs=0.005)


def test_many_equal_groups_do_not_fail_the_disparity_limit() -> None:
    rng = np.random.default_rng(1)
    fails = 0
    for i in range(40):
        groups = np.repeat(np.arange(30), 300)
        pred = (rng.random(groups.size) < 0.5).astype(np.intp)
        cells = group_cells(groups, 30, np.ones_like(pred), pred, pred)
        (d,) = disparities(
            cells, [str(g) for g in range(30)], ["selection_rate"], rng=stream(i, "eq"), with_baseline=False
        )
        fails += d.difference_ci.low > 0.1
    assert fails == 0


def test_a_code_column_read_as_text_or_float_is_the_same_category(tmp_path: Path) -> None:
    reference = pd.DataFrame({"code": ["1", "2", "3"] * 1_000})
    path = tmp_path / "ref.json"
    build_profile(frame_chunks(reference)).write(path)
    current = pd.DataFrame({"code": [1.0, 2.0, 3.0, np.nan] * 750})  # a NaN made it float
    (check, _share) = run_drift(DriftConfig(reference=path), current, target="y")
    assert check.status == "pass" and check.value < 0.01


def test_datetime_columns_are_not_compared_as_categories(tmp_path: Path) -> None:
    frame = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=500, freq="h"), "x": np.arange(500.0)})
    path = tmp_path / "ref.json"
    build_profile(frame_chunks(frame)).write(path)
    checks = {c.id: c for c in run_drift(DriftConfig(reference=path), frame, target="y")}
    assert (
        "drift:when" not in checks and "datetime columns not compared: when" in checks["drift:share"].message
    )


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.update(counts=c["counts"][:-1]),
        lambda c: c.update(std=None),
        lambda c: c.update(counts=[-1, *c["counts"][1:]]),
        lambda c: c.update(quantiles=[float("nan")] * len(c["quantiles"])),
        lambda c: c.update(kind="weird"),
    ],
)
def test_a_damaged_profile_is_refused_with_its_name(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "ref.json"
    build_profile(frame_chunks(pd.DataFrame({"x": np.arange(100.0)}))).write(path)
    data = json.loads(path.read_text())
    damage(data["columns"]["x"])  # type: ignore[operator]
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"reference profile .* is malformed"):
        load_profile(path)


def test_a_column_empty_in_the_first_chunk_is_typed_by_later_chunks(tmp_path: Path) -> None:
    frame = pd.DataFrame({"note": [None] * 600 + ["late text"] * 400, "x": np.arange(1_000.0)})
    frame.to_csv(tmp_path / "sparse.csv", index=False)
    assert (
        main(["profile", str(tmp_path / "sparse.csv"), "-o", str(tmp_path / "p.json"), "--chunk-rows", "500"])
        == 0
    )
    profile = load_profile(tmp_path / "p.json")
    assert profile.columns["note"].kind == "categorical"
    assert profile.columns["note"].categories == {"late text": 400} and profile.columns["note"].nulls == 600


def test_the_inferred_contract_accepts_its_own_reference() -> None:
    frame = pd.DataFrame(
        {"id": [1234567] * 300, "amount": np.linspace(0.5, 99.5, 300), "flag": [1, 0, np.nan] * 100}
    )
    contract = infer_contract(build_profile(frame_chunks(frame)))
    rules = tuple(
        ColumnRule(name, **{k: tuple(v) if k == "allowed" else v for k, v in r.items()})
        for name, r in contract["columns"].items()
    )
    checks = run_validation(ValidationConfig(columns=rules, row_min=1), frame)
    assert {c.status for c in checks} == {"pass"}, [c.message for c in checks if c.status != "pass"]
    assert "duplicates" not in contract


def test_numbers_are_not_timestamps_and_integers_tolerate_float_noise() -> None:
    frame = pd.DataFrame({"epoch": [1_700_000_000] * 10, "count": [3.0, 2.9999999999, 4.0] * 3 + [1.0]})
    checks = {
        c.id: c
        for c in run_validation(
            ValidationConfig(
                columns=(
                    ColumnRule("epoch", max_age_seconds=86400, max_age="1d"),
                    ColumnRule("count", dtype="integer"),
                )
            ),
            frame,
        )
    }
    assert (
        checks["validation:epoch"].status == "fail" and "not timestamps" in checks["validation:epoch"].message
    )
    assert checks["validation:count"].status == "pass"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("validation: {columns: {x: {min: 10, max: 0}}}", "must be <= `max`=0"),
        ("validation: {row_count: {min: 10, max: 5}}", "row_count.min`=10 must be <= `max`=5"),
        ("drift: {reference: r.json, psi_warn: 0.5, psi_fail: 0.2}", "psi_warn`=0.5 must be <="),
    ],
)
def test_contradictory_data_check_limits_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "mlgate.yaml").write_text(f"task: binary\ndata: {{path: d.csv, target: y}}\n{text}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "mlgate.yaml")


def test_sensitive_columns_must_form_a_few_groups() -> None:
    with pytest.raises(DataError, match="bin it into at most 50 groups"):
        group_labels(FairnessConfig(sensitive=("age",)), pd.DataFrame({"age": np.arange(500)}))
    with pytest.raises(DataError, match="single group"):
        group_labels(FairnessConfig(sensitive=("sex",)), pd.DataFrame({"sex": ["f"] * 50}))
