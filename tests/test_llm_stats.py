"""The LLM comparison's statistics: the paired interval against scipy, and its error rates by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from pytest_mlgate.llm.stats import CaseQuantile, bca_interval, bootstrap_mean, bootstrap_ratio, paired_scores
from pytest_mlgate.stats.decision import Verdict, decide


def test_paired_interval_and_pvalue_match_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(5)
    cand = rng.integers(0, 4, 80) / 3.0  # per-case pass rates of 3 samples
    base = rng.integers(0, 4, 80) / 3.0

    c = paired_scores("pass_rate", cand, base, confidence=0.9)

    oracle = sps.ttest_rel(cand, base)
    low, high = oracle.confidence_interval(confidence_level=0.9)
    assert c.ci.low == pytest.approx(low, abs=1e-12)
    assert c.ci.high == pytest.approx(high, abs=1e-12)
    assert c.pvalue == pytest.approx(oracle.pvalue, abs=1e-12)
    assert c.delta == pytest.approx(cand.mean() - base.mean())
    assert c.discordant == int(np.count_nonzero(cand != base))


def _simulate(
    rng: np.random.Generator, *, cases: int, samples: int, lift: float, runs: int, margin: float = 0.0
) -> tuple[float, float]:
    """(share of runs that promote, coverage of the true difference) for cases of varied difficulty.

    Each case has its own pass probability (Beta(2, 1): mostly easy, some hard); the candidate's is
    the baseline's plus ``lift``, so the true difference of mean per-case pass rates is ``lift``.
    """
    promoted = covered = 0
    for _ in range(runs):
        p_base = rng.beta(2.0, 1.0, cases)
        p_cand = np.clip(p_base + lift, 0.0, 1.0)
        true_delta = float(np.mean(p_cand - p_base))
        base = rng.binomial(samples, p_base) / samples
        cand = rng.binomial(samples, p_cand) / samples
        c = paired_scores("pass_rate", cand, base, confidence=0.95)
        d = decide([c], [margin], [0.0], "superiority")[0]
        promoted += d.verdict is Verdict.PROMOTE
        covered += c.ci.low <= true_delta <= c.ci.high
    return promoted / runs, covered / runs


@pytest.mark.slow
@pytest.mark.parametrize(("cases", "samples"), [(40, 1), (60, 3), (200, 5)])
def test_false_promote_rate_at_no_difference_is_at_most_5_percent(cases: int, samples: int) -> None:
    # 1,000 runs: a true rate of 2.5% (the one-sided level) has a standard error of 0.5%, so the
    # 5% bound is 5 standard errors away; the seed is fixed. Measured: 2.1%, 2.7% and 3.6%
    # promoted, 95.9%, 95.2% and 94.1% covered.
    rate, coverage = _simulate(
        np.random.default_rng(cases * 10 + samples), cases=cases, samples=samples, lift=0.0, runs=1000
    )

    assert rate <= 0.05
    assert 0.92 <= coverage <= 0.98


@pytest.mark.slow
def test_cases_not_samples_are_the_unit_when_the_candidate_fixes_some_cases_and_breaks_others() -> None:
    """No difference on average, but a large one case by case (each side's pass probability per case
    is drawn on its own, Beta(0.5, 0.5)): the 5 samples of a case share their case's difference, so
    they are not 5 independent pieces of evidence.

    Above, the candidate's per-case difference is the same for every case, and there treating samples
    as units would go unnoticed; here it promotes 13% of the time (measured), so the same runs also
    show that this test would catch that mistake.
    """
    rng = np.random.default_rng(605)
    runs, cases, samples = 1000, 60, 5
    promoted = covered = promoted_by_samples = 0
    for _ in range(runs):
        p_base, p_cand = rng.beta(0.5, 0.5, cases), rng.beta(0.5, 0.5, cases)
        base = rng.random((cases, samples)) < p_base[:, None]
        cand = rng.random((cases, samples)) < p_cand[:, None]
        c = paired_scores("pass_rate", cand.mean(axis=1), base.mean(axis=1), confidence=0.95)
        promoted += decide([c], [0.0], [0.0], "superiority")[0].verdict is Verdict.PROMOTE
        covered += c.ci.low <= 0.0 <= c.ci.high  # the population's difference is 0
        wrong = paired_scores("pass_rate", cand.ravel() * 1.0, base.ravel() * 1.0, confidence=0.95)
        promoted_by_samples += decide([wrong], [0.0], [0.0], "superiority")[0].verdict is Verdict.PROMOTE

    # Measured: 2.3% promoted, 95.9% covered; samples as units: 12.9% promoted.
    assert promoted / runs <= 0.05
    assert 0.93 <= covered / runs <= 0.98
    assert promoted_by_samples / runs >= 0.08


def test_a_real_improvement_promotes_most_of_the_time() -> None:
    # Without this the test above would pass for a gate that never promotes.
    rate, _ = _simulate(np.random.default_rng(11), cases=200, samples=3, lift=0.15, runs=200)

    assert rate >= 0.8


def test_cost_ratio_interval_is_paired_over_cases() -> None:
    rng = np.random.default_rng(2)
    base = rng.gamma(2.0, 1.0, 300)
    cand = base * 1.2  # every case 20% dearer: a paired interval is a point

    value, ci, _ = bootstrap_ratio(cand, base, rng=np.random.default_rng(0), confidence=0.95, n_boot=500)

    assert value == pytest.approx(0.2)
    assert ci.low == pytest.approx(0.2) and ci.high == pytest.approx(0.2)


def _latency_coverage(
    rng: np.random.Generator, *, cases: int, samples: int, case_sd: float, call_sd: float, runs: int
) -> tuple[float, float, float]:
    """(share of upper bounds below the true p95, of lower bounds above it, of calls-as-units upper
    bounds below it) for lognormal latencies whose log is a case effect plus a call effect."""
    true_p95 = float(np.exp(6.0 + sps.norm.ppf(0.95) * np.hypot(case_sd, call_sd)))
    n = cases * samples
    # The exact order-statistic upper bound for n independent calls: the rank-u smallest.
    rank = int(sps.binom.ppf(0.975, n, 0.95)) + 1
    high_misses = low_misses = naive_misses = 0
    for _ in range(runs):
        effect = rng.normal(0.0, case_sd, cases)
        latency = np.exp(6.0 + effect[:, None] + rng.normal(0.0, call_sd, (cases, samples)))
        ci = CaseQuantile.of(list(latency), 0.95, confidence=0.95).interval(0.95)
        high_misses += ci.high < true_p95
        low_misses += ci.low > true_p95
        naive_misses += rank <= n and np.sort(latency.ravel())[rank - 1] < true_p95
    return high_misses / runs, low_misses / runs, naive_misses / runs


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cases", "samples", "case_sd", "call_sd"),
    [(60, 3, 0.0, 0.5), (200, 1, 0.0, 0.5), (60, 3, 0.5, 0.2), (100, 5, 0.5, 0.2), (100, 5, 0.4, 0.4)],
)
def test_p95_latency_interval_holds_its_coverage_with_cases_as_the_unit(
    cases: int, samples: int, case_sd: float, call_sd: float
) -> None:
    # 1,000 runs (fixed seed): a 2.5% miss rate has a standard error of 0.5%. Measured (upper miss,
    # lower miss, calls-as-units upper miss): independent 60x3 2.4%, 1.9%, 2.6%; 200x1 3.5%, 2.5%,
    # 1.1%; with case effects 60x3 2.4%, 4.1%, 8.3%; 100x5 3.0%, 2.2%, 13.4%; 100x5 with equal case
    # and call spread 3.3%, 2.6%, 6.5%.
    high, low, naive = _latency_coverage(
        np.random.default_rng(cases + samples),
        cases=cases,
        samples=samples,
        case_sd=case_sd,
        call_sd=call_sd,
        runs=1000,
    )

    assert high <= 0.04 and low <= 0.045
    assert 0.93 <= 1.0 - high - low <= 0.97
    if case_sd > 0:
        # The same runs show the bound this replaces missing far more often: the test can tell.
        assert naive >= 0.06


def test_case_quantile_of_independent_calls_is_the_order_statistic_bound() -> None:
    """With one call a case the bounds are the binomial order statistics (scipy's oracle) of an
    effective n shrunk only by K / (K - 1) and (z / t)^2 for the K - 1 degrees of freedom."""
    values = np.random.default_rng(4).exponential(100.0, 400)
    cq = CaseQuantile.of([np.array([v]) for v in values], 0.95, confidence=0.95)

    # Single calls: the variance between cases is the binomial one, with K / (K - 1) for its degree.
    assert cq.design_effect == pytest.approx(400 / 399) and cq.cases == 400
    factor = (sps.norm.ppf(0.975) / sps.t.ppf(0.975, 399)) ** 2
    assert cq.n_eff == pytest.approx(399 * factor)
    assert cq.value == pytest.approx(np.quantile(values, 0.95))
    ci = cq.interval(0.95)
    # The upper bound is where P(Binomial(n_eff, 0.95) < rank) = 97.5%, read at rank * n / n_eff.
    ordered = np.sort(values)
    upper_rank = (sps.binom.ppf(0.975, round(cq.n_eff), 0.95) + 1) * 400 / cq.n_eff
    assert ordered[int(np.floor(upper_rank)) - 2] <= ci.high <= ordered[int(np.ceil(upper_rank))]
    assert ci.low < cq.value < ci.high


def test_a_p95_of_too_few_cases_has_no_upper_bound() -> None:
    # 30 cases x 3 identical samples: 30 values, fewer than the 72 that bound a p95 at 95%.
    values = [np.full(3, float(v)) for v in range(30)]
    cq = CaseQuantile.of(values, 0.95, confidence=0.95)

    assert cq.design_effect == pytest.approx(3.0, rel=0.05)
    assert cq.interval(0.95).high == np.inf


def _cost_coverage(rng: np.random.Generator, *, cases: int, sigma: float, runs: int) -> tuple[float, float]:
    true_mean = float(np.exp(sigma**2 / 2.0))
    high_misses = low_misses = 0
    for _ in range(runs):
        _, ci, _ = bootstrap_mean(rng.lognormal(0.0, sigma, cases), rng=rng, confidence=0.95, n_boot=2000)
        high_misses += ci.high < true_mean
        low_misses += ci.low > true_mean
    return high_misses / runs, low_misses / runs


@pytest.mark.slow
@pytest.mark.parametrize(("cases", "sigma"), [(40, 0.75), (100, 1.0)])
def test_cost_budget_upper_bound_holds_its_coverage_on_skewed_costs(cases: int, sigma: float) -> None:
    # 1,000 runs (fixed seed). Measured (upper miss, lower miss): 40 cases, sigma 0.75: 3.0%, 1.3%
    # (the percentile interval: 6-7% upper misses); 100 cases, sigma 1: 4.2%, 1.9%.
    high, low = _cost_coverage(np.random.default_rng(cases), cases=cases, sigma=sigma, runs=1000)

    assert high <= 0.045 and low <= 0.035
    assert 0.93 <= 1.0 - high - low <= 0.975


def test_bca_interval_matches_scipy_bootstrap() -> None:
    x = np.random.default_rng(1).lognormal(0.0, 1.0, 40)
    reps = x[np.random.default_rng(0).integers(0, 40, (20000, 40))].mean(axis=1)

    ci = bca_interval(reps, float(x.mean()), (x.sum() - x) / 39, 0.95)

    oracle = sps.bootstrap((x,), np.mean, method="BCa", n_resamples=20000, rng=np.random.default_rng(0))
    low, high = oracle.confidence_interval
    assert ci.low == pytest.approx(low, rel=0.01) and ci.high == pytest.approx(high, rel=0.01)
