"""Drift statistics, profiles, and simulations of their error rates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from pytest_mlgate.checks.drift import run_drift
from pytest_mlgate.config import DriftConfig
from pytest_mlgate.errors import DataError
from pytest_mlgate.profile import build_profile, frame_chunks, load_profile
from pytest_mlgate.stats.drift import (
    QUANTILE_GRID,
    benjamini_hochberg,
    compare_counts,
    numeric_counts,
    numeric_edges,
    quantile_shift,
)


def test_psi_and_js_by_hand_and_chi2_by_scipy() -> None:
    ref, cur = np.array([50, 30, 20]), np.array([30, 30, 40])
    s = compare_counts(ref, cur)
    p = (ref + 0.5) / (100 + 1.5)
    q = (cur + 0.5) / (100 + 1.5)
    assert s.psi == pytest.approx(np.sum((q - p) * np.log(q / p)))
    assert s.js == pytest.approx(float(jensenshannon(p, q, base=2) ** 2))
    assert s.pvalue == pytest.approx(sps.chi2_contingency(np.vstack([ref, cur]), correction=False).pvalue)
    assert s.noise_floor == pytest.approx(2 * (1 / 100 + 1 / 100))
    assert s.share_change == pytest.approx(0.2)


def test_an_empty_bin_does_not_explode_psi() -> None:
    s = compare_counts(np.array([0, 500, 500]), np.array([1, 500, 499]))
    assert s.psi < 0.01


def test_numeric_bins_have_underflow_and_overflow() -> None:
    ref = np.arange(100, dtype=float)
    edges = numeric_edges(ref)
    counts = numeric_counts(np.array([-5.0, 0.0, 50.0, 99.0, 150.0]), edges, 0.0, 99.0)
    assert counts[0] == 1 and counts[-1] == 1 and counts.sum() == 5
    assert numeric_counts(ref, edges, 0.0, 99.0)[[0, -1]].tolist() == [0, 0]


def test_w1_and_ks_match_scipy_on_raw_data() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(0, 1, 200_000), rng.normal(0.2, 1.1, 50_000)
    w1, d, _ = quantile_shift(np.quantile(ref, QUANTILE_GRID), float(ref.std()), np.sort(cur), ref.size)
    assert w1 == pytest.approx(sps.wasserstein_distance(ref, cur) / ref.std(), rel=0.03)
    assert d == pytest.approx(sps.ks_2samp(ref, cur).statistic, abs=0.002)


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.001, 0.02, 0.03, 0.5, 0.04])
    assert benjamini_hochberg(p) == pytest.approx(sps.false_discovery_control(p))


def _frame(n: int, seed: int, shift: float = 0.0, weights: tuple[float, ...] = (0.2,) * 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num": rng.normal(shift, 1, n),
            "cat": rng.choice(list("abcde"), n, p=weights),
            "const": np.ones(n),
        }
    )


def test_chunked_profile_counts_equal_the_whole_frame_and_merge_exactly(tmp_path: Path) -> None:
    frame = _frame(10_000, 1)
    whole = build_profile(frame_chunks(frame))
    chunked = build_profile(lambda: (frame.iloc[i : i + 1_000] for i in range(0, 10_000, 1_000)))
    edges = whole.columns["num"].edges
    assert chunked.columns["cat"].categories == whole.columns["cat"].categories
    assert chunked.columns["num"].mean == pytest.approx(frame["num"].mean())
    assert chunked.columns["num"].std == pytest.approx(frame["num"].std())
    # Counts on the same frozen edges are exact, whatever the chunking.
    first = build_profile(frame_chunks(frame.iloc[:4_000]))
    second = build_profile(frame_chunks(frame.iloc[4_000:]))
    second.columns["num"].edges = first.columns["num"].edges
    for part, rows in ((first, frame.iloc[:4_000]), (second, frame.iloc[4_000:])):
        col = part.columns["num"]
        col.counts = numeric_counts(
            rows["num"].to_numpy(), np.asarray(first.columns["num"].edges), -10.0, 10.0
        ).tolist()
        col.min, col.max = -10.0, 10.0
    second.columns["cat"].categories = {
        k: second.columns["cat"].categories.get(k, 0) for k in first.columns["cat"].categories
    }
    merged = first.merge(second)
    expected = numeric_counts(frame["num"].to_numpy(), np.asarray(first.columns["num"].edges), -10.0, 10.0)
    assert merged.columns["num"].counts == expected.tolist()
    assert merged.columns["num"].std == pytest.approx(frame["num"].std())
    assert merged.rows == 10_000
    path = tmp_path / "p.json"
    whole.write(path)
    assert load_profile(path).columns["num"].edges == edges


def test_profile_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    build_profile(frame_chunks(_frame(100, 2))).write(path)
    data = json.loads(path.read_text())
    data["schema_version"] = "0"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="schema_version '0'"):
        load_profile(path)


def _drift(
    reference: pd.DataFrame, current: pd.DataFrame, tmp_path: Path, **cfg: object
) -> dict[str, object]:
    path = tmp_path / "ref.json"
    build_profile(frame_chunks(reference)).write(path)
    checks = run_drift(DriftConfig(reference=path, **cfg), current, target="y")  # type: ignore[arg-type]
    return {c.id: c for c in checks}


def test_drift_check_flags_a_shift_and_names_unseen_categories(tmp_path: Path) -> None:
    current = _frame(5_000, 4, shift=0.8)
    current.loc[:9, "cat"] = "zz"
    checks = _drift(_frame(5_000, 3), current, tmp_path)
    assert checks["drift:num"].status == "fail"  # type: ignore[attr-defined]
    assert checks["drift:cat"].details["unseen_categories"] == ["zz"]  # type: ignore[attr-defined]
    assert checks["drift:const"].status == "pass"  # type: ignore[attr-defined]
    assert checks["drift:const"].details["note"] == "constant in the reference"  # type: ignore[attr-defined]


def test_drift_bad_columns_fail_closed(tmp_path: Path) -> None:
    current = _frame(500, 5).astype({"num": object})
    current.loc[3, "num"] = "oops"
    current["cat"] = np.nan
    checks = _drift(_frame(500, 6), current.drop(columns=["const"]), tmp_path)
    assert checks["drift:num"].status == "error" and "holds text" in checks["drift:num"].message  # type: ignore[attr-defined]
    assert checks["drift:cat"].status == "error" and "all NaN" in checks["drift:cat"].message  # type: ignore[attr-defined]
    assert (
        checks["drift:const"].status == "error"
        and "missing from the current" in checks["drift:const"].message
    )  # type: ignore[attr-defined]
    assert checks["drift:share"].status == "fail"  # type: ignore[attr-defined]


# --- simulations ----------------------------------------------------------------------------


def _flagged(tmp_path: Path, reference: pd.DataFrame, current: pd.DataFrame) -> bool:
    """Whether the drift check itself (profile, bins, BH, flag rule) flags any column of ``current``."""
    path = tmp_path / "reference.json"
    build_profile(frame_chunks(reference)).write(path)
    checks = run_drift(DriftConfig(reference=path), current, target="y")
    return any(c.status != "pass" for c in checks if c.id != "drift:share")


def _normal_frame(rng: np.random.Generator, n: int, features: int) -> pd.DataFrame:
    return pd.DataFrame(rng.normal(size=(n, features)), columns=[f"x{j}" for j in range(features)])


@pytest.mark.slow
@pytest.mark.parametrize(("n", "runs"), [(100, 60), (1_000, 40), (10_000, 20), (200_000, 3)])
def test_thirty_features_without_drift_rarely_flag(tmp_path: Path, n: int, runs: int) -> None:
    # At n=100 most columns show PSI, share or W1 above their thresholds by noise alone, so
    # only the BH-adjusted p keeps the family's false alarms near q; 200,000 rows exercise the
    # profile's 100,000-value sample for edges and quantiles.
    rng = np.random.default_rng(n)
    flagged = sum(
        _flagged(tmp_path, _normal_frame(rng, n, 30), _normal_frame(rng, n, 30)) for _ in range(runs)
    )
    # "At most 5%", tested at the 1% level: more flags than this are unlikely at a true rate of 5%.
    assert flagged <= sps.binom.ppf(0.99, runs, 0.05), flagged


@pytest.mark.slow
def test_half_sigma_shift_at_5000_rows_is_flagged(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    flagged = 0
    for _ in range(50):
        reference, current = _normal_frame(rng, 5_000, 5), _normal_frame(rng, 5_000, 5)
        current["x2"] += 0.5
        flagged += _flagged(tmp_path, reference, current)
    assert flagged == 50


def test_category_reweighted_from_20_to_30_percent_is_flagged(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    flagged = 0
    for _ in range(50):
        reference = pd.DataFrame({"c": rng.choice(list("abcde"), 5_000, p=[0.2] * 5)})
        current = pd.DataFrame({"c": rng.choice(list("abcde"), 5_000, p=[0.3, 0.175, 0.175, 0.175, 0.175])})
        flagged += _flagged(tmp_path, reference, current)
    assert flagged >= 48


def test_parquet_reference_is_profiled_in_batches_and_roles_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_mlgate.cli import main

    reference = _frame(3_000, 9).assign(y=np.random.default_rng(9).integers(0, 2, 3_000), score=0.5)
    reference.to_parquet(tmp_path / "ref.parquet")
    assert (
        main(
            ["profile", str(tmp_path / "ref.parquet"), "-o", str(tmp_path / "p.json"), "--chunk-rows", "700"]
        )
        == 0
    )
    profile = load_profile(tmp_path / "p.json")
    assert profile.rows == 3_000 and sum(profile.columns["num"].counts) == 3_000
    current = _frame(3_000, 10).assign(y=1, score=np.random.default_rng(10).random(3_000))
    checks = {
        c.id: c
        for c in run_drift(
            DriftConfig(reference=tmp_path / "p.json", prediction="score"), current, target="y"
        )
    }
    assert checks["drift:y"].details["role"] == "label" and checks["drift:y"].status == "fail"
    assert checks["drift:score"].details["role"] == "prediction"
    assert checks["drift:num"].details["role"] == "feature"
    capsys.readouterr()
