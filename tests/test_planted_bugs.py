"""Tests aimed at bugs the rest of the suite let through (issue 15, "Tests that can fail").

Each test here kills at least one mutant listed in tools/mutate.py: a plausible
wrong statistic that still produced plausible reports. They are small and
deterministic (fixed seeds) so that `make mutate` can run them once per mutant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pytest_mlgate.checks.drift import run_drift
from pytest_mlgate.checks.fairness import run_fairness
from pytest_mlgate.config import DriftConfig, FairnessConfig
from pytest_mlgate.profile import build_profile, frame_chunks
from pytest_mlgate.results import CheckResult
from pytest_mlgate.stats.decision import judge_interval
from pytest_mlgate.stats.delong import delong_paired, delong_single
from pytest_mlgate.stats.drift import QUANTILE_GRID, numeric_edges, quantile_shift
from pytest_mlgate.stats.groups import callable_disparity, disparities, group_cells
from pytest_mlgate.stats.paired import compare
from pytest_mlgate.stats.result import Interval
from pytest_mlgate.stats.rng import stream

# --- drift ----------------------------------------------------------------------------------


def _drift(tmp_path: Path, reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, CheckResult]:
    path = tmp_path / "reference.json"
    build_profile(frame_chunks(reference)).write(path)
    return {c.id: c for c in run_drift(DriftConfig(reference=path), current, target="y")}


def test_drift_pvalues_are_benjamini_hochberg_adjusted_across_the_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    columns = [f"x{j}" for j in range(12)]
    reference = pd.DataFrame(rng.normal(size=(300, 12)), columns=columns)
    current = pd.DataFrame(rng.normal(size=(300, 12)), columns=columns)
    current["x0"] += 0.4  # one small p-value, so the adjustment has something to move
    checks = [c for cid, c in _drift(tmp_path, reference, current).items() if cid != "drift:share"]
    raw = np.array([c.details["pvalue_raw"] for c in checks])
    reported = np.array([c.pvalue for c in checks])
    assert reported == pytest.approx(sps.false_discovery_control(raw, method="bh"))
    assert (reported > raw).any()  # not the identity on these p-values


def test_numeric_bins_are_the_references_deciles(tmp_path: Path) -> None:
    # 1,000 distinct values: 9 interior edges at the deciles, 100 values in each of the 10 bins,
    # and nothing in the underflow and overflow bins.
    values = np.random.default_rng(32).permutation(np.arange(1_000, dtype=float))
    expected = np.quantile(values, np.arange(1, 10) / 10)
    assert numeric_edges(values) == pytest.approx(expected)
    column = build_profile(frame_chunks(pd.DataFrame({"v": values}))).columns["v"]
    assert column.edges == pytest.approx(expected)
    assert column.counts == [0] + [100] * 10 + [0]


def test_the_reference_against_itself_has_zero_drift_in_every_bin(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": np.random.default_rng(33).normal(size=2_000)})
    check = _drift(tmp_path, frame, frame)["drift:v"]
    assert check.value == pytest.approx(0.0, abs=1e-12)
    assert check.details["histogram"]["reference"] == [0.0] + [0.1] * 10 + [0.0]


def test_a_moderate_shift_warns_and_only_a_large_one_fails(tmp_path: Path) -> None:
    rng = np.random.default_rng(34)
    reference = pd.DataFrame({"v": rng.normal(size=20_000)})
    moderate = _drift(tmp_path, reference, pd.DataFrame({"v": rng.normal(0.4, 1, 20_000)}))["drift:v"]
    large = _drift(tmp_path, reference, pd.DataFrame({"v": rng.normal(1.0, 1, 20_000)}))["drift:v"]
    assert 0.1 <= moderate.value < 0.25 and moderate.status == "warn"  # type: ignore[operator]
    assert large.value >= 0.25 and large.status == "fail"  # type: ignore[operator]


def test_large_but_insignificant_drift_at_tiny_n_rarely_flags(tmp_path: Path) -> None:
    # 40 rows from the reference's own distribution: PSI is far above 0.1 by noise alone (the noise
    # floor is about 0.25), and only the significance rule tells that from drift.
    rng = np.random.default_rng(35)
    large = flagged = 0
    for _ in range(20):
        reference, current = rng.normal(size=(400, 1)), rng.normal(size=(40, 1))
        check = _drift(
            tmp_path, pd.DataFrame(reference, columns=["v"]), pd.DataFrame(current, columns=["v"])
        )["drift:v"]
        large += check.value >= 0.1  # type: ignore[operator]
        flagged += check.status != "pass"
    assert large >= 18
    assert flagged <= 4  # about 1 expected at q = 0.05


def test_ks_pvalue_uses_both_sample_sizes() -> None:
    rng = np.random.default_rng(36)
    reference, current = rng.normal(size=50_000), rng.normal(0.05, 1, 2_000)
    _, d, p = quantile_shift(
        np.quantile(reference, QUANTILE_GRID), float(reference.std()), np.sort(current), reference.size
    )
    oracle = sps.ks_2samp(reference, current, method="asymp")
    assert d == pytest.approx(oracle.statistic, abs=0.003)
    assert p == pytest.approx(float(sps.kstwobign.sf(d * np.sqrt(50_000 * 2_000 / 52_000))))
    assert p == pytest.approx(oracle.pvalue, rel=0.3)


# --- fairness -------------------------------------------------------------------------------

PRIME_SIZES = (37, 41, 43, 47)


def _groups(sizes: tuple[int, ...], seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(sizes)), sizes).astype(np.intp)
    y = rng.integers(0, 2, groups.size).astype(np.intp)
    cand = (rng.random(groups.size) < 0.5).astype(np.intp)
    base = (rng.random(groups.size) < 0.5).astype(np.intp)
    return groups, y, cand, base


def test_the_fairness_bootstrap_keeps_every_group_at_its_own_size() -> None:
    # With each group resampled at its own size n_g, a rate's replicates are multiples of 1/n_g.
    # 2,001 replicates put the 2.5% and 97.5% percentiles exactly on replicates, so the interval
    # ends must be multiples of 1/n_g too; a bootstrap of whole rows lets n_g vary and breaks this.
    groups, y, cand, base = _groups(PRIME_SIZES, 37)
    big = 4_000  # one large group, so that the small ones are a small share of the rows
    groups = np.concatenate([groups, np.full(big, len(PRIME_SIZES), dtype=np.intp)])
    rng = np.random.default_rng(38)
    y, cand, base = (np.concatenate([a, rng.integers(0, 2, big).astype(np.intp)]) for a in (y, cand, base))
    cells = group_cells(groups, len(PRIME_SIZES) + 1, y, cand, base)
    names = [*map(str, PRIME_SIZES), "big"]
    (result,) = disparities(
        cells, names, ["selection_rate"], rng=stream(0, "fairness"), n_boot=2_001, min_group_size=10
    )
    for rate, size in zip(result.groups, PRIME_SIZES, strict=False):
        ends = np.array([*rate.candidate_ci, *(rate.baseline_ci or ())]) * size
        assert ends == pytest.approx(np.round(ends), abs=1e-6), (size, ends / size)


def test_a_user_metric_sees_each_group_at_its_own_size_in_every_resample() -> None:
    groups, y, cand, base = _groups(PRIME_SIZES, 39)
    seen: list[int] = []

    def rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        seen.append(y_true.size)
        return float(np.mean(y_pred))

    callable_disparity(
        "rate",
        rate,
        groups,
        [str(s) for s in PRIME_SIZES],
        y,
        cand,
        base,
        rng=stream(0, "fairness:rate"),
        n_boot=50,
        min_group_size=10,
    )
    assert sorted(set(seen)) == sorted(PRIME_SIZES)
    assert len(seen) == len(PRIME_SIZES) * 2 * 51  # both models, the point and 50 resamples


def _two_groups(seed: int, gap: float, n: int = 400) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.repeat(["a", "b"], n)
    y = rng.integers(0, 2, 2 * n).astype(np.intp)
    pred = (rng.random(2 * n) < np.where(g == "a", 0.5, 0.5 - gap)).astype(np.intp)
    return pd.DataFrame({"g": g}), y, pred


def _fair(frame: pd.DataFrame, y: np.ndarray, pred: np.ndarray, **limits: object) -> CheckResult:
    cfg = FairnessConfig(
        sensitive=("g",),
        metrics=("selection_rate",),
        **{"max_difference": None, "max_regression": None, **limits},  # type: ignore[arg-type]
    )
    (check,) = run_fairness(cfg, frame, y, pred, None, seed=0, n_boot=1_000, confidence=0.95)
    return check


def test_a_fairness_interval_straddling_its_limit_is_inconclusive() -> None:
    frame, y, pred = _two_groups(40, gap=0.06)
    low, high = _fair(frame, y, pred).ci  # type: ignore[misc]
    point = _fair(frame, y, pred).value
    assert low < point < high  # type: ignore[operator]
    for limit in ((point + high) / 2, (low + point) / 2):  # type: ignore[operator]
        check = _fair(frame, y, pred, max_difference=limit)
        assert check.status == "inconclusive" and "straddles" in check.message, limit
    assert _fair(frame, y, pred, max_difference=high + 0.01).status == "pass"


def test_a_ratio_interval_straddling_its_limit_is_inconclusive() -> None:
    frame, y, pred = _two_groups(41, gap=0.1)
    check = _fair(frame, y, pred)
    r_low, r_high = check.details["ratio_ci"]
    ratio = check.details["ratio"]
    assert r_low < ratio < r_high
    for limit in ((r_low + ratio) / 2, (ratio + r_high) / 2):
        assert _fair(frame, y, pred, min_ratio=limit).status == "inconclusive", limit


def test_the_fairness_check_uses_the_number_of_resamples_asked_for() -> None:
    frame, y, pred = _two_groups(42, gap=0.0)
    cfg = FairnessConfig(sensitive=("g",), metrics=("selection_rate",))
    (check,) = run_fairness(cfg, frame, y, pred, pred, seed=0, n_boot=345, confidence=0.95)
    assert check.n_boot == 345


def test_equal_groups_rarely_get_a_difference_interval_above_zero() -> None:
    # Ten groups with the same rate: the true difference is 0, so the interval's lower bound should
    # exceed 0 in at most about 5% of samples. Pointwise 95% intervals per group would do so in about
    # a fifth; the simultaneous band keeps it near 5%.
    rng = np.random.default_rng(43)
    groups = np.repeat(np.arange(10), 300).astype(np.intp)
    names = [str(g) for g in range(10)]
    above = 0
    for i in range(100):
        pred = (rng.random(groups.size) < 0.5).astype(np.intp)
        cells = group_cells(groups, 10, pred, pred, pred)
        (d,) = disparities(cells, names, ["selection_rate"], rng=stream(i, "fairness"), n_boot=500)
        above += d.difference_ci.low > 0
    assert above <= 10


# --- absolute limits on an interval ---------------------------------------------------------


def test_an_interval_straddling_a_limit_is_inconclusive_on_either_side() -> None:
    assert judge_interval(Interval(0.8, 0.9), 0.85, None) == "inconclusive"
    assert judge_interval(Interval(0.8, 0.9), None, 0.85) == "inconclusive"
    assert judge_interval(Interval(0.8, 0.9), 0.75, 0.95) == "pass"
    assert judge_interval(Interval(0.8, 0.9), 0.95, None) == "fail"
    assert judge_interval(Interval(0.8, 0.9), None, 0.75) == "fail"


# --- paired bootstrap ------------------------------------------------------------------------


def test_a_comparison_draws_the_number_of_resamples_asked_for() -> None:
    rng = np.random.default_rng(46)
    y = rng.integers(0, 2, 500)
    cand, base = np.where(rng.random(500) < 0.8, y, 1 - y), np.where(rng.random(500) < 0.7, y, 1 - y)
    assert compare("accuracy", y, cand, base, rng=stream(0, "n"), n_boot=700).n_boot == 700


def test_a_bootstrap_interval_on_a_mean_loss_agrees_with_the_paired_t_interval() -> None:
    # Below 1,000 rows a mean loss is bootstrapped; on well-behaved losses its 95% percentile
    # interval must be about as wide as the t-interval (a 90% one is a sixth narrower).
    rng = np.random.default_rng(47)
    y = rng.normal(size=600)
    cand, base = y + rng.normal(0, 1.0, 600), y + rng.normal(0, 1.2, 600)
    c = compare("mae", y, cand, base, rng=stream(0, "mae"), n_boot=4_000)
    diff = np.abs(cand - y) - np.abs(base - y)
    half_t = sps.t.ppf(0.975, 599) * diff.std(ddof=1) / np.sqrt(600)
    assert c.method != "paired t"
    assert (c.ci.high - c.ci.low) / (2 * half_t) == pytest.approx(1.0, abs=0.06)
    assert (c.ci.low + c.ci.high) / 2 == pytest.approx(diff.mean(), abs=0.2 * half_t)


def _delong_by_definition(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's (1988) placement values from every positive-negative pair: O(m·n), no ranks."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    kernel = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    return kernel.mean(axis=2), kernel.mean(axis=1)  # V10 per positive, V01 per negative


def test_delong_standard_errors_equal_the_definition_on_unbalanced_classes() -> None:
    # One positive in ten, so a variance that mixes up the two class sizes is far off.
    rng = np.random.default_rng(48)
    y = (rng.random(1_500) < 0.1).astype(np.intp)
    cand = y * 0.8 + rng.normal(0, 1, 1_500)
    base = y * 0.6 + rng.normal(0, 1, 1_500)
    v10, v01 = _delong_by_definition(y, np.stack([cand, base]))
    m, n = v10.shape[1], v01.shape[1]
    auc, se = delong_single(y, cand)
    assert auc == pytest.approx(v10[0].mean())
    assert se == pytest.approx(np.sqrt(v10[0].var(ddof=1) / m + v01[0].var(ddof=1) / n), rel=1e-9)
    d10, d01 = v10[0] - v10[1], v01[0] - v01[1]
    paired = np.sqrt(d10.var(ddof=1) / m + d01.var(ddof=1) / n)
    assert delong_paired(y, cand, base).se == pytest.approx(paired, rel=1e-9)


# --- canary score drift, through the public analysis ----------------------------------------

CANARY_DRIFT = """
logs: {path: log.csv, columns: {arm: model_version}}
canary:
  control: 1
  canary: 2
  min_requests: 20
  metrics:
    prediction_drift: {max: 0.25, critical: true}
"""


def _canary(tmp_path: Path, n: int, canary_scores: tuple[float, float], seed: int) -> tuple[str, CheckResult]:
    from pytest_mlgate.live import run_analysis
    from pytest_mlgate.live.config import load_live_config

    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["1", "2"], n))
    score = np.where(arm == "1", rng.beta(2, 5, 2 * n), rng.beta(*canary_scores, 2 * n))
    start = pd.Timestamp("2026-11-30T00:00:00Z")
    log = pd.DataFrame(
        {
            "timestamp": (start + pd.to_timedelta(np.arange(2 * n), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model_version": arm,
            "request_id": [f"r{i}" for i in range(2 * n)],
            "score": score.round(6),
        }
    )
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "live.yaml").write_text(CANARY_DRIFT, encoding="utf-8")
    report = run_analysis("canary", load_live_config(tmp_path / "live.yaml"))
    check = next(c for c in report.checks if c.metric in ("psi", "prediction_drift") and c.kind == "drift")
    return str(report.verdict), check


def test_canary_score_drift_at_tiny_n_is_not_a_failure_without_significance(tmp_path: Path) -> None:
    # 40 requests an arm, the same score distribution: PSI is large by noise alone.
    verdict, check = _canary(tmp_path, 40, (2, 5), seed=44)
    assert check.value is not None and check.value >= 0.25
    assert check.status != "fail" and verdict != "rollback", (check.status, check.message)


def test_canary_score_drift_that_is_large_and_significant_fails(tmp_path: Path) -> None:
    verdict, check = _canary(tmp_path, 2_000, (5, 2), seed=45)
    assert check.status == "fail" and verdict == "rollback", (check.status, check.message)
