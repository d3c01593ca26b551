"""The two-sample statistics against independent oracles (statsmodels, scipy) and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from pytest_mlgate.stats.result import Unmeasurable
from pytest_mlgate.stats.twosample import (
    Sample,
    grid_counts,
    grid_quantile,
    mean_difference,
    proportion_difference,
    sample_ratio,
    shared_edges,
    statistic_difference,
    wilson,
)

statsmodels_proportion = pytest.importorskip("statsmodels.stats.proportion")


@pytest.mark.parametrize(("x", "n"), [(0, 50), (3, 1000), (47, 100), (999, 1000), (5000, 10000)])
def test_wilson_matches_statsmodels(x: int, n: int) -> None:
    low, high = statsmodels_proportion.proportion_confint(x, n, alpha=0.05, method="wilson")
    assert wilson(x, n) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(
    ("treated", "control"),
    [((60, 3000), (20, 3000)), ((0, 500), (4, 480)), ((450, 1000), (430, 1100)), ((7, 40), (7, 40))],
)
def test_newcombe_matches_statsmodels(treated: tuple[int, int], control: tuple[int, int]) -> None:
    c = proportion_difference("rate", treated, control, higher_is_better=False)
    low, high = statsmodels_proportion.confint_proportions_2indep(
        treated[0], treated[1], control[0], control[1], method="newcomb", compare="diff", alpha=0.05
    )
    assert c.ci == pytest.approx((low, high), abs=1e-10)
    assert c.delta == pytest.approx(treated[0] / treated[1] - control[0] / control[1])
    z_test = statsmodels_proportion.test_proportions_2indep(
        treated[0], treated[1], control[0], control[1], method="score", correction=False
    )
    if treated[0] + control[0] > 0:
        assert c.pvalue == pytest.approx(z_test.pvalue, rel=1e-3)


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, 400), rng.normal(0.7, 1.0, 900)
    c = mean_difference(
        "m", (a.size, a.sum(), (a * a).sum()), (b.size, b.sum(), (b * b).sum()), higher_is_better=True
    )
    oracle = sps.ttest_ind(a, b, equal_var=False)
    ci = oracle.confidence_interval(0.95)
    assert c.ci == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert c.pvalue == pytest.approx(oracle.pvalue, rel=1e-9)


def test_sample_ratio_matches_the_chi_square_by_hand() -> None:
    counts, shares = [5230, 4770], [0.5, 0.5]
    expected = np.array(shares) * sum(counts)
    statistic = float(np.sum((np.array(counts) - expected) ** 2 / expected))
    result = sample_ratio(counts, shares)
    assert result.statistic == pytest.approx(statistic)
    assert result.pvalue == pytest.approx(sps.chi2.sf(statistic, 1))
    assert "p-value" in str(result)


def test_the_streaming_grid_reads_quantiles_within_one_percent() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.lognormal(4, 1, 50_000), rng.normal(-3, 1, 10_000), [0.0] * 100])
    counts = grid_counts(values)
    assert counts.sum() == values.size
    for q in (0.01, 0.25, 0.5, 0.9, 0.95, 0.99):
        exact = np.quantile(values, q)
        assert grid_quantile(counts, q) == pytest.approx(exact, rel=0.01, abs=1e-5)


def test_exact_samples_give_the_inverted_cdf_quantile_and_binned_ones_stay_close() -> None:
    rng = np.random.default_rng(6)
    values = rng.gamma(2.0, 5.0, 20_000)
    exact = Sample.exact(values[:800])
    assert exact.quantile(0.9) == np.quantile(values[:800], 0.9, method="inverted_cdf")
    assert exact.mean() == pytest.approx(values[:800].mean())
    binned = Sample.of(values, shared_edges(values))
    assert binned.counts.size <= 1024
    assert binned.mean() == pytest.approx(values.mean(), rel=1e-12)  # bin means keep the mean exact
    assert binned.quantile(0.5) == pytest.approx(np.quantile(values, 0.5), rel=0.005)


def test_too_little_data_is_unmeasurable_not_a_number() -> None:
    with pytest.raises(Unmeasurable):
        proportion_difference("rate", (0, 0), (1, 10), higher_is_better=False)
    with pytest.raises(Unmeasurable):
        statistic_difference(
            "p",
            Sample.exact(np.array([1.0])),
            Sample.exact(np.array([1.0, 2.0])),
            statistic=0.5,
            higher_is_better=True,
            rng=np.random.default_rng(0),
        )


@pytest.mark.slow
def test_newcombe_covers_a_small_rate_difference_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    true = 0.03 - 0.01
    hits = 0
    for _ in range(2000):
        t, c = rng.binomial(2000, 0.03), rng.binomial(2000, 0.01)
        ci = proportion_difference("r", (int(t), 2000), (int(c), 2000), higher_is_better=False).ci
        hits += ci.low <= true <= ci.high
    assert 0.93 <= hits / 2000 <= 0.97  # 95% nominal; sd of the estimate ≈ 0.005


@pytest.mark.slow
def test_the_quantile_bootstrap_covers_a_p95_difference() -> None:
    rng = np.random.default_rng(8)
    true = np.exp(np.log(100) + 0.4 * sps.norm.ppf(0.95)) * (1.1 - 1.0)
    hits = 0
    trials = 150
    for i in range(trials):
        treated = rng.lognormal(np.log(110), 0.4, 3000)
        control = rng.lognormal(np.log(100), 0.4, 3000)
        c = statistic_difference(
            "latency_p95",
            Sample.from_grid(grid_counts(treated)),
            Sample.from_grid(grid_counts(control)),
            statistic=0.95,
            higher_is_better=False,
            rng=np.random.default_rng(i),
            n_boot=1000,
        )
        hits += c.ci.low <= true <= c.ci.high
    # Percentile intervals of a tail quantile run a little narrow at n=3000; 150 trials, sd ≈ 0.018.
    assert 0.88 <= hits / trials <= 0.99, hits


def test_binned_heavy_tails_keep_the_row_bootstraps_width_and_point_masses_stay_exact() -> None:
    from pytest_mlgate.stats.twosample import statistic_estimate

    rng = np.random.default_rng(0)
    revenue = (rng.pareto(1.8, 20_000) + 1) * 10  # 20,000 distinct values: binned
    widths = []
    for sample in (Sample.exact(revenue), Sample.of(revenue, shared_edges(revenue))):
        _, ci, _ = statistic_estimate(sample, statistic=None, rng=np.random.default_rng(1))
        widths.append(ci.high - ci.low)
    assert widths[1] == pytest.approx(widths[0], rel=0.1)  # bin means alone gave about 2/3 of it
    mostly_zero = np.where(rng.random(20_000) < 0.9, 0.0, rng.lognormal(0, 1, 20_000))
    binned = Sample.of(mostly_zero, shared_edges(mostly_zero))
    assert binned.quantile(0.5) == 0.0
    assert binned.quantile(0.95) == pytest.approx(np.quantile(mostly_zero, 0.95), rel=0.01)
