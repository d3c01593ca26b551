"""Tail-latency intervals that cover (issue 15, item 5).

The canary judges ``latency_p99`` by the interval of p99(canary) − p99(control)
on the streaming log grid, the canary arm a tenth of the traffic. The multinomial
bootstrap's percentile interval sat too low there: its upper bound missed the
true difference 6–7% of the time at 500–1,000 canary requests (coverage
0.93–0.94), 11% at 200. The simulations below call the functions the canary
calls (``grid_counts``, ``Sample.from_grid``, ``statistic_difference``) on arms
drawn from distributions whose quantiles are known.

Bands are three Monte Carlo standard errors at the replication count: coverage
0.95 ± 0.019 at 1,200 replications, and each side's miss rate at most
0.025 + 0.0135, so a sound method cannot fail them and the bootstrap's lopsided
misses cannot pass them. Seeds are fixed.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from pytest_mlgate.live import canary
from pytest_mlgate.live.config import load_live_config
from pytest_mlgate.stats.twosample import Sample, grid_counts, statistic_difference, statistic_estimate

REPS = 1_200
SIDE = 0.025 + 3.0 * math.sqrt(0.025 * 0.975 / REPS)
BAND = 3.0 * math.sqrt(0.95 * 0.05 / REPS)
SLOWER = 1.1  # the canary is 10% slower at every quantile


def _lognormal(rng: np.random.Generator, n: int) -> np.ndarray:
    return 50.0 * np.exp(rng.standard_normal(n))


def _lognormal_quantile(q: float) -> float:
    return 50.0 * math.exp(float(sps.norm.ppf(q)))


def _pareto_mix(rng: np.random.Generator, n: int) -> np.ndarray:
    """90% lognormal around 40 ms, 10% a Pareto tail (α = 2.5) from 100 ms: p99 lies in the Pareto part."""
    values = 40.0 * np.exp(0.5 * rng.standard_normal(n))
    tail = rng.random(n) < 0.1
    values[tail] = 100.0 * (1.0 + rng.pareto(2.5, int(tail.sum())))
    return values


def _pareto_mix_quantile(q: float) -> float:
    def cdf(x: float) -> float:
        body = float(sps.norm.cdf(math.log(x / 40.0) / 0.5))
        tail = 1.0 - (100.0 / x) ** 2.5 if x > 100.0 else 0.0
        return 0.9 * body + 0.1 * tail

    low, high = 1.0, 1e6
    for _ in range(200):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if cdf(mid) < q else (low, mid)
    return math.sqrt(low * high)


DISTRIBUTIONS = {
    "lognormal": (_lognormal, _lognormal_quantile),
    "pareto_mix": (_pareto_mix, _pareto_mix_quantile),
}


def _canary_misses(name: str, q: float, n_canary: int, seed: int) -> tuple[float, float]:
    """Share of runs whose interval lies wholly above / wholly below the true difference."""
    draw, quantile = DISTRIBUTIONS[name]
    truth = (SLOWER - 1.0) * quantile(q)
    above = below = 0
    for child in np.random.SeedSequence(seed).spawn(REPS):
        rng = np.random.default_rng(child)
        c = statistic_difference(
            f"latency_p{round(q * 100)}",
            Sample.from_grid(grid_counts(SLOWER * draw(rng, n_canary))),
            Sample.from_grid(grid_counts(draw(rng, 10 * n_canary))),
            statistic=q,
            higher_is_better=False,
            rng=rng,
        )
        above += c.ci.low > truth
        below += c.ci.high < truth
    return above / REPS, below / REPS


def test_the_pareto_mix_quantile_is_the_one_sampled() -> None:
    big = _pareto_mix(np.random.default_rng(0), 2_000_000)
    assert np.quantile(big, 0.99) == pytest.approx(_pareto_mix_quantile(0.99), rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "q", "n_canary"), [("pareto_mix", 0.99, 1000), ("lognormal", 0.95, 500)])
def test_a_canarys_tail_latency_interval_covers_95_percent(name: str, q: float, n_canary: int) -> None:
    above, below = _canary_misses(name, q, n_canary, seed=2024)
    # Measured: pareto_mix p99 at 1,000 canary requests 0.953 (the bootstrap: 0.935, 5.8% of its
    # upper bounds below the truth); lognormal p95 at 500: 0.954.
    assert abs(1.0 - above - below - 0.95) <= BAND, (above, below)
    assert above <= SIDE and below <= SIDE, (above, below)


@pytest.mark.slow
def test_a_p99_on_500_canary_requests_is_not_too_low() -> None:
    above, below = _canary_misses("lognormal", 0.99, 500, seed=7)
    # 500 values hold p99's upper bound between the two largest, where the interpolation is
    # conservative: measured coverage 0.966-0.970, upper misses 1.0-1.5%. The bootstrap missed 6.2%
    # above (coverage 0.932).
    assert 0.95 - BAND <= 1.0 - above - below <= 0.98, (above, below)
    assert above <= SIDE and below <= SIDE, (above, below)


@pytest.mark.slow
def test_one_arms_p99_interval_covers_95_percent() -> None:
    """The monitor's interval of one window's p99 (``statistic_estimate``)."""
    truth = _lognormal_quantile(0.99)
    above = below = 0
    for child in np.random.SeedSequence(11).spawn(REPS):
        rng = np.random.default_rng(child)
        _, ci, _ = statistic_estimate(Sample.exact(_lognormal(rng, 2000)), statistic=0.99, rng=rng)
        above += ci.low > truth
        below += ci.high < truth
    assert abs(1.0 - (above + below) / REPS - 0.95) <= BAND, (above, below)
    assert max(above, below) / REPS <= SIDE, (above, below)


def test_200_values_cannot_bound_a_p99_from_above() -> None:
    # P(all 200 values lie below p99) = 0.99**200 = 13% > 2.5%: no finite upper bound is honest.
    rng = np.random.default_rng(3)
    c = statistic_difference(
        "latency_p99",
        Sample.from_grid(grid_counts(SLOWER * _lognormal(rng, 200))),
        Sample.from_grid(grid_counts(_lognormal(rng, 2000))),
        statistic=0.99,
        higher_is_better=False,
        rng=rng,
    )
    assert c.ci.high == math.inf and math.isfinite(c.ci.low) and math.isfinite(c.delta)
    # From 367 values on, 0.99**n < 0.025; at 400 (1.8%) the draws' 97.5th percentile is finite.
    _, ci, _ = statistic_estimate(Sample.exact(_lognormal(rng, 400)), statistic=0.99, rng=rng)
    assert math.isfinite(ci.high)


def test_two_arms_too_small_for_their_p99_give_an_unbounded_interval_not_nan() -> None:
    rng = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = statistic_difference(
            "latency_p99",
            Sample.exact(_lognormal(rng, 40)),
            Sample.exact(_lognormal(rng, 40)),
            statistic=0.99,
            higher_is_better=False,
            rng=rng,
            boundaries=[10.0],
        )
    assert c.ci == (-math.inf, math.inf)


def test_the_draws_read_exact_order_statistics_and_grid_bins() -> None:
    values = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    sample = Sample.exact(values)
    assert sample.order_statistics(np.arange(1, 6)).tolist() == [1.0, 2.0, 2.0, 3.0, 5.0]
    draws = sample.quantile_draws(np.random.default_rng(0), 20_000, 0.5)
    # The median lies between the 2nd and 4th smallest with probability P(2 <= Binomial(5, .5) <= 3).
    inside = np.mean((draws >= 2.0) & (draws <= 3.0))
    assert inside == pytest.approx(sps.binom.pmf([2, 3], 5, 0.5).sum(), abs=0.015)
    grid = Sample.from_grid(grid_counts(np.full(4, 100.0)))
    spots = grid.order_statistics(np.arange(1, 5))
    assert np.all(np.diff(spots) > 0) and grid.low[0] < spots[0] and spots[-1] < grid.high[0]


def test_a_sequential_canary_reads_the_latency_draws_at_its_own_level(tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(
        "logs: {path: log.csv}\n"
        "canary:\n  control: a\n  canary: b\n  min_requests: 500\n  sequential: {method: mixture}\n"
        "  metrics:\n    latency_p99: {max_relative_increase: 0.2}\n",
        encoding="utf-8",
    )
    config = load_live_config(path)
    assert config.canary is not None
    rng = np.random.default_rng(5)
    control = canary.ArmTotals(requests=30_000, latency=grid_counts(_lognormal(rng, 30_000)))
    slow = canary.ArmTotals(requests=3_000, latency=grid_counts(SLOWER * _lognormal(rng, 3_000)))
    window = canary.Window("window", None, None, {"a": control, "b": slow})
    check = canary._judge_window(config, config.canary, window, ("latency_ms",), False).checks[0]
    assert check.ci is not None and all(math.isfinite(x) for x in check.ci)
    assert "order statistics" in check.method and "normal-mixture sequence" in check.method
    level = check.details["sequential"]["confidence"]
    assert level > 0.99 and check.n_boot is not None and check.n_boot >= 20 / (1 - level)
    assert check.ci.low < check.delta < check.ci.high
    # Too few canary requests for p99 at that level: the interval is open above and the JSON says null.
    small = canary.ArmTotals(requests=600, latency=grid_counts(_lognormal(rng, 600)))
    window = canary.Window("window", None, None, {"a": control, "b": small})
    check = canary._judge_window(config, config.canary, window, ("latency_ms",), False).checks[0]
    assert check.ci is not None and check.ci.high == math.inf and check.status == "inconclusive"
    assert json.loads(json.dumps(check.to_dict(), allow_nan=False))["ci"][1] is None
