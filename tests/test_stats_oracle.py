"""Point values and standard errors checked against independent oracles (sklearn, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from sklearn import metrics as skm

from pytest_mlgate.stats.bootstrap import TOP_UP_N_BOOT, draw_replicates
from pytest_mlgate.stats.decision import Verdict, decide, holm, judge_threshold
from pytest_mlgate.stats.delong import delong_paired, delong_single
from pytest_mlgate.stats.paired import compare, estimate
from pytest_mlgate.stats.result import Estimate, Interval
from pytest_mlgate.stats.rng import stream


def _binary(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    cand = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1.5, n))))
    base = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + rng.normal(0, 1.5, n))))
    return y, cand, base


def _multiclass(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)

    def proba(strength: float) -> np.ndarray:
        logits = rng.normal(0, 1, (n, k))
        logits[np.arange(n), y] += strength
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    return y, proba(1.5), proba(1.0)


RNG = stream(0, "oracle")


@pytest.mark.parametrize(
    ("metric", "oracle"),
    [
        ("accuracy", skm.accuracy_score),
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
        ("precision_macro", lambda y, p: skm.precision_score(y, p, average="macro")),
        ("recall_macro", lambda y, p: skm.recall_score(y, p, average="macro")),
        ("f1_macro", lambda y, p: skm.f1_score(y, p, average="macro")),
    ],
)
def test_binary_label_metrics_equal_sklearn(metric: str, oracle: object) -> None:
    y, cand, base = _binary(3_001, seed=1)
    lc, lb = (cand >= 0.5).astype(int), (base >= 0.5).astype(int)
    result = compare(metric, y, lc, lb, rng=stream(0, metric), n_boot=200)
    assert callable(oracle)
    assert result.candidate == pytest.approx(oracle(y, lc), rel=1e-12, abs=0)
    assert result.baseline == pytest.approx(oracle(y, lb), rel=1e-12, abs=0)


@pytest.mark.parametrize("average", ["macro", "micro"])
@pytest.mark.parametrize("kind", ["precision", "recall", "f1"])
def test_multiclass_label_metrics_equal_sklearn(kind: str, average: str) -> None:
    y, cand, base = _multiclass(2_000, 4, seed=2)
    lc, lb = cand.argmax(axis=1), base.argmax(axis=1)
    oracle = getattr(skm, f"{kind}_score")
    result = compare(f"{kind}_{average}", y, lc, lb, rng=stream(0, "mc"), n_boot=200, n_classes=4)
    assert result.candidate == pytest.approx(oracle(y, lc, average=average), rel=1e-12)
    assert result.baseline == pytest.approx(oracle(y, lb, average=average), rel=1e-12)


def test_score_metrics_equal_sklearn() -> None:
    y, cand, base = _binary(2_500, seed=3)
    auc = compare("roc_auc", y, cand, base, rng=RNG)
    assert (auc.candidate, auc.baseline) == pytest.approx(
        (skm.roc_auc_score(y, cand), skm.roc_auc_score(y, base)), rel=1e-12
    )
    ll = compare("log_loss", y, cand, base, rng=RNG)
    assert (ll.candidate, ll.baseline) == pytest.approx(
        (skm.log_loss(y, cand), skm.log_loss(y, base)), rel=1e-12
    )
    brier = compare("brier", y, cand, base, rng=RNG)
    assert brier.candidate == pytest.approx(skm.brier_score_loss(y, cand), rel=1e-12)


def test_multiclass_scores_equal_sklearn() -> None:
    y, cand, base = _multiclass(1_500, 3, seed=4)
    auc = compare("roc_auc_ovr", y, cand, base, rng=RNG, n_classes=3)
    assert auc.candidate == pytest.approx(
        skm.roc_auc_score(y, cand, multi_class="ovr", average="macro"), rel=1e-12
    )
    ll = compare("log_loss", y, cand, base, rng=RNG, n_classes=3)
    assert ll.candidate == pytest.approx(skm.log_loss(y, cand), rel=1e-12)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(size=1_500)
    cand, base = y + rng.normal(0, 0.5, y.size), y + rng.normal(0, 0.6, y.size)
    for metric, oracle in (
        ("mae", skm.mean_absolute_error),
        ("mse", skm.mean_squared_error),
        ("rmse", lambda y, p: np.sqrt(skm.mean_squared_error(y, p))),  # sklearn 1.3 has no rmse
        ("r2", skm.r2_score),
    ):
        result = compare(metric, y, cand, base, rng=stream(0, metric), n_boot=300)
        assert result.candidate == pytest.approx(oracle(y, cand), rel=1e-12), metric
        assert result.baseline == pytest.approx(oracle(y, base), rel=1e-12), metric


def test_mcnemar_pvalue_equals_exact_binomial() -> None:
    y, cand, base = _binary(800, seed=6)
    lc, lb = (cand >= 0.5).astype(int), (base >= 0.5).astype(int)
    only_cand = int(np.sum((lc == y) & (lb != y)))
    only_base = int(np.sum((lb == y) & (lc != y)))
    expected = min(1.0, 2 * sps.binom.cdf(min(only_cand, only_base), only_cand + only_base, 0.5))
    assert compare("accuracy", y, lc, lb, rng=RNG, n_boot=200).pvalue == pytest.approx(expected, rel=1e-9)


def _bootstrap_auc_deltas(y: np.ndarray, cand: np.ndarray, base: np.ndarray, replicates: int) -> np.ndarray:
    """Row-bootstrap ΔAUC by the Mann–Whitney rank formula (independent of delong.py)."""
    rng = np.random.default_rng(8)
    out = []
    for _ in range(replicates // 500):
        idx = rng.integers(0, y.size, (500, y.size))
        pos = y[idx] == 1
        m = pos.sum(axis=1)
        aucs = [
            ((sps.rankdata(s[idx], axis=1) * pos).sum(axis=1) - m * (m + 1) / 2) / (m * (y.size - m))
            for s in (cand, base)
        ]
        out.append(aucs[0] - aucs[1])
    return np.concatenate(out)


def test_delong_se_matches_a_20000_replicate_bootstrap() -> None:
    y, cand, base = _binary(1_000, seed=7)
    deltas = _bootstrap_auc_deltas(y, cand, base, 20_000)
    assert deltas.size == 20_000
    assert delong_paired(y, cand, base).se == pytest.approx(float(deltas.std(ddof=1)), rel=0.05)


def test_multiclass_delong_se_matches_bootstrap() -> None:
    y, cand, base = _multiclass(900, 3, seed=15)
    rng = np.random.default_rng(16)
    deltas = []
    for _ in range(400):
        idx = rng.integers(0, y.size, y.size)
        deltas.append(
            skm.roc_auc_score(y[idx], cand[idx], multi_class="ovr")
            - skm.roc_auc_score(y[idx], base[idx], multi_class="ovr")
        )
    assert delong_paired(y, cand, base).se == pytest.approx(float(np.std(deltas, ddof=1)), rel=0.12)


def test_single_auc_se_matches_bootstrap_and_value_matches_sklearn() -> None:
    y, cand, _ = _binary(1_000, seed=9)
    auc, se = delong_single(y, cand)
    assert auc == pytest.approx(skm.roc_auc_score(y, cand), rel=1e-12)
    rng = np.random.default_rng(10)
    idx = rng.integers(0, y.size, (5_000, y.size))
    ranks = sps.rankdata(cand[idx], axis=1)
    pos = y[idx] == 1
    m = pos.sum(axis=1)
    boot = ((ranks * pos).sum(axis=1) - m * (m + 1) / 2) / (m * (y.size - m))
    assert se == pytest.approx(float(boot.std(ddof=1)), rel=0.05)


def test_paired_t_interval_equals_scipy_ttest() -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(size=5_000)
    cand, base = y + rng.normal(0, 0.5, y.size), y + rng.normal(0, 0.52, y.size)
    result = compare("mse", y, cand, base, rng=RNG)
    ci = sps.ttest_rel((y - cand) ** 2, (y - base) ** 2).confidence_interval(0.95)
    assert result.ci == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_holm_step_down() -> None:
    assert holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert holm([0.01, 0.02, 0.03], 0.05) == [True, True, True]
    assert holm([0.2, 0.001], 0.05) == [False, True]
    assert holm([], 0.05) == []


def test_threshold_judged_on_the_interval() -> None:
    def est(low: float, high: float) -> Estimate:
        return Estimate("roc_auc", (low + high) / 2, Interval(low, high), 100, "x", 0.95)

    assert judge_threshold(est(0.86, 0.9), 0.85, None) == "pass"
    assert judge_threshold(est(0.8, 0.84), 0.85, None) == "fail"
    assert judge_threshold(est(0.84, 0.9), 0.85, None) == "inconclusive"
    assert judge_threshold(est(0.3, 0.35), None, 0.4) == "pass"
    assert judge_threshold(est(0.45, 0.5), None, 0.4) == "fail"


def test_identical_models_keep_in_superiority_and_promote_in_non_inferiority() -> None:
    y, cand, _ = _binary(5_000, seed=12)
    same = compare("roc_auc", y, cand, cand.copy(), rng=RNG)
    (sup,) = decide([same], [0.01], [0.0], "superiority")
    (noninf,) = decide([same], [0.01], [0.0], "non-inferiority")
    assert sup.verdict is Verdict.KEEP
    assert noninf.verdict is Verdict.PROMOTE


def test_underpowered_states_the_rows_needed() -> None:
    y, cand, base = _binary(200, seed=13)
    result = compare("accuracy", y, (cand >= 0.5).astype(int), (base >= 0.5).astype(int), rng=RNG)
    (d,) = decide([result], [0.01], [0.0])
    assert d.verdict is Verdict.KEEP and d.underpowered
    half = result.ci.half_width
    assert d.n_needed == math.ceil(200 * (half / 0.01) ** 2) + 1
    assert "need n ≈" in d.reason


def test_top_up_only_near_a_boundary() -> None:
    def normal(gen: np.random.Generator, k: int) -> np.ndarray:
        return gen.normal(0.0, 1.0, k)

    far = draw_replicates(normal, stream(0, "far"), 2_000, 0.95, boundaries=[10.0])
    near = draw_replicates(normal, stream(0, "near"), 2_000, 0.95, boundaries=[1.96])
    assert far.size == 2_000
    assert near.size == TOP_UP_N_BOOT


def test_streams_are_reproducible_and_independent() -> None:
    a1 = stream(0, "compare:accuracy").random(5)
    a2 = stream(0, "compare:accuracy").random(5)
    b = stream(0, "compare:roc_auc").random(5)
    c = stream(1, "compare:accuracy").random(5)
    assert np.array_equal(a1, a2)
    assert not np.array_equal(a1, b)
    assert not np.array_equal(a1, c)


def test_floor_estimate_for_accuracy_covers_the_point() -> None:
    y, cand, _ = _binary(2_000, seed=14)
    est = estimate("accuracy", y, (cand >= 0.5).astype(int), rng=RNG)
    assert est.ci.low < est.value < est.ci.high
    assert est.value == pytest.approx(skm.accuracy_score(y, (cand >= 0.5).astype(int)))
