"""Canary statistics that must hold at every n and every look (issue 15, items 1, 2, 3 and 7).

The simulations draw counts with numpy, vectorised over runs, then hand them to
the canary's own window judge (``canary._judge_window``), the function a real
run calls for each window: nothing of the decision is re-implemented here. The
judge is deterministic in the counts, so each distinct set of counts is judged
once and weighted by how often it was drawn.

Tolerances cannot flake: every rate is asserted against α plus three binomial
standard errors at the number of simulated runs, with fixed seeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pytest_mlgate.live import canary
from pytest_mlgate.live.common import judge_degradation
from pytest_mlgate.live.config import LiveConfig, load_live_config
from pytest_mlgate.stats.sequential import (
    beta_binomial_bound,
    clopper_pearson,
    exact_rollback,
    mixture_confidence,
    mixture_z,
)
from pytest_mlgate.stats.twosample import grid_counts, proportion_difference

ALPHA = 0.05


def _config(
    tmp_path: Path, extra: str = "", metrics: str = "error_rate: {max_increase: 0, critical: true}"
) -> LiveConfig:
    path = tmp_path / "live.yaml"
    path.write_text(
        "logs: {path: log.csv}\n"
        "canary:\n  control: a\n  canary: b\n  min_requests: 500\n"
        f"  metrics:\n    {metrics}\n{extra}",
        encoding="utf-8",
    )
    return load_live_config(path)


def _bound(runs: int, alpha: float = ALPHA) -> float:
    return alpha + 3.0 * math.sqrt(alpha * (1.0 - alpha) / runs)


def _verdicts(config: LiveConfig, counts: np.ndarray, stepped: bool = False) -> np.ndarray:
    """The window judge's verdict for each row of (canary errors, canary n, control errors, control n)."""
    assert config.canary is not None
    if len(counts) == 0:
        return np.empty(0, dtype=str)
    distinct, inverse = np.unique(counts, axis=0, return_inverse=True)
    verdicts = []
    for x1, n1, x0, n0 in distinct.tolist():
        arms = {"a": canary.ArmTotals(requests=n0, errors=x0), "b": canary.ArmTotals(requests=n1, errors=x1)}
        window = canary.Window("window", None, None, arms)
        verdicts.append(canary._judge_window(config, config.canary, window, ("error",), stepped).verdict)
    return np.asarray(verdicts)[inverse.ravel()]


# --- item 1: the minimum holds per arm ------------------------------------------------------------


def test_five_canary_latencies_beside_twenty_thousand_control_ones_are_not_judged(tmp_path: Path) -> None:
    config = _config(tmp_path, metrics="latency_p95: {max_relative_increase: 0.2, critical: true}")
    rng = np.random.default_rng(0)
    control = canary.ArmTotals(requests=20_000)
    control.latency = grid_counts(rng.lognormal(np.log(80), 0.3, 20_000))
    slow = canary.ArmTotals(requests=5)
    slow.latency = grid_counts(np.full(5, 400.0))  # five times slower, but only five requests
    window = canary.Window("window", None, None, {"a": control, "b": slow})
    assert config.canary is not None
    result = canary._judge_window(config, config.canary, window, ("latency_ms",), False)
    latency = result.checks[0]
    assert latency.status == "inconclusive" and result.verdict == "continue"
    assert "only 5 canary and 20,000 control rows: at least 30 per arm" in latency.message


def test_the_per_arm_minimum_is_checked_on_each_arm_not_the_total() -> None:
    c = proportion_difference("error_rate", (5, 5), (200, 20_000), higher_is_better=False)
    status, message = judge_degradation(c, 0.01, (5, 20_000))
    assert status == "inconclusive" and "per arm" in message
    status, _ = judge_degradation(c, 0.01, (30, 20_000))
    assert status == "fail"  # 5 errors in 5 is past +1 point once each arm has its minimum


# --- item 2: small canaries do not roll back under the null --------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("n", [10, 100, 1_000, 20_000])
def test_a_critical_error_rate_rolls_back_at_most_alpha_under_the_null_at_every_n(
    tmp_path: Path, n: int
) -> None:
    # 1% errors in both arms, allowance 0: before the exact confirmation a canary of 100 requests
    # rolled back 7.9% of the time on its third error, a canary of 10 on its first (9.6%).
    config = _config(tmp_path)
    runs = 1_500
    rng = np.random.default_rng(n)
    counts = np.column_stack(
        [
            rng.binomial(n, 0.01, runs),
            np.full(runs, n),
            rng.binomial(20_000, 0.01, runs),
            np.full(runs, 20_000),
        ]
    )
    rate = float(np.mean(_verdicts(config, counts) == "rollback"))
    assert rate <= _bound(runs), rate


def test_a_small_canary_that_clearly_fails_still_rolls_back_at_once(tmp_path: Path) -> None:
    config = _config(tmp_path)
    # 8 errors in 40 requests against 1% of 20,000: far below min_requests, and critical.
    verdict = _verdicts(config, np.array([[8, 40, 200, 20_000]]))[0]
    assert verdict == "rollback"


def test_the_exact_confirmation_bounds_false_rollbacks_for_every_allowance() -> None:
    rng = np.random.default_rng(3)
    runs = 4_000
    for p0, allowed, ratio, n1, n0 in [
        (0.01, 0.0, None, 50, 5_000),
        (0.02, 0.01, None, 300, 300),
        (0.001, 0.0, 1.2, 2_000, 50_000),
        (0.3, 0.05, None, 40, 40),
    ]:
        p1 = p0 * ratio if ratio is not None else p0 + allowed  # on the null's boundary
        x1, x0 = rng.binomial(n1, p1, runs), rng.binomial(n0, p0, runs)
        for sequential in (False, True):
            hits = exact_rollback(
                x1, n1, x0, n0, allowed=allowed, ratio=ratio, alpha=ALPHA, sequential=sequential
            )
            assert hits.mean() <= _bound(runs), (p0, allowed, ratio, sequential, hits.mean())


# --- item 3: repeated looks and steps --------------------------------------------------------------

STEPS = "  steps:\n" + "".join(f"    s{k}: {{until: '2026-11-30T0{k}:00:00Z'}}\n" for k in range(1, 6))
SHARES = (0.05, 0.10, 0.25, 0.50, 0.50)


def _stepped(config: LiveConfig, rng: np.random.Generator, runs: int, p_canary: float) -> np.ndarray:
    """Whether each run rolls back at some step of a 5-step canary (each step its own window)."""
    rolled = np.zeros(runs, dtype=bool)
    for share in SHARES:
        n1, n0 = round(20_000 * share), round(20_000 * (1 - share))
        counts = np.column_stack(
            [
                rng.binomial(n1, p_canary, runs),
                np.full(runs, n1),
                rng.binomial(n0, 0.01, runs),
                np.full(runs, n0),
            ]
        )
        live = ~rolled  # a rolled-back canary takes no more traffic
        rolled[live] = _verdicts(config, counts[live], stepped=True) == "rollback"
    return rolled


@pytest.mark.slow
def test_a_five_step_canary_under_the_null_rolls_back_at_most_alpha_over_all_steps(tmp_path: Path) -> None:
    config = _config(tmp_path, STEPS)  # no `sequential` key: steps use the mixture by default
    runs = 1_000
    rate = float(_stepped(config, np.random.default_rng(5), runs, 0.01).mean())
    assert rate <= _bound(runs), rate  # one fixed look per step: 12.7-14%


@pytest.mark.slow
def test_a_five_step_canary_with_three_times_the_errors_is_still_caught(tmp_path: Path) -> None:
    config = _config(tmp_path, STEPS)
    caught = _stepped(config, np.random.default_rng(6), 300, 0.03)
    assert caught.mean() >= 0.95


def _cron(
    config: LiveConfig, rng: np.random.Generator, runs: int, p_canary: float, looks: int = 20
) -> np.ndarray:
    """Whether each run rolls back at some look; each look reads the cumulative window since the start."""
    per_look = 500  # requests per arm between two runs of the schedule
    x1 = np.cumsum(rng.binomial(per_look, p_canary, (runs, looks)), axis=1)
    x0 = np.cumsum(rng.binomial(per_look, 0.01, (runs, looks)), axis=1)
    n = per_look * np.arange(1, looks + 1)
    rolled = np.zeros(runs, dtype=bool)
    for look in range(looks):
        counts = np.column_stack([x1[:, look], np.full(runs, n[look]), x0[:, look], np.full(runs, n[look])])
        live = ~rolled
        rolled[live] = _verdicts(config, counts[live]) == "rollback"
    return rolled


@pytest.mark.slow
def test_twenty_cron_looks_under_the_null_roll_back_at_most_alpha_with_the_mixture(tmp_path: Path) -> None:
    config = _config(tmp_path, "  sequential: {method: mixture}\n")
    runs = 250
    rate = float(_cron(config, np.random.default_rng(7), runs, 0.01).mean())
    assert rate <= _bound(runs), rate
    caught = _cron(config, np.random.default_rng(8), 100, 0.03).mean()
    assert caught >= 0.95  # and a canary with three times the errors is caught within the 20 looks


def test_the_normal_mixture_boundary_holds_over_many_looks() -> None:
    rng = np.random.default_rng(9)
    runs, looks = 20_000, 200
    walks = np.cumsum(rng.standard_normal((runs, looks)), axis=1)  # sums of N(0,1): information = n
    n = np.arange(1, looks + 1)
    z = walks / np.sqrt(n)
    crossed = (np.abs(z) >= mixture_z(n / 10.0, ALPHA)).any(axis=1)
    assert crossed.mean() <= _bound(runs)
    fixed = (np.abs(z) >= 1.96).any(axis=1)
    assert fixed.mean() > 0.3  # the same walks, read with a fixed interval at every look
    assert mixture_confidence(1.0, ALPHA) == pytest.approx(
        1.0 - 2.0 * 0.5 * math.erfc(float(mixture_z(1.0, ALPHA)) / math.sqrt(2))
    )


def test_exact_bounds_cover_and_the_beta_binomial_sequence_covers_at_every_look() -> None:
    rng = np.random.default_rng(10)
    runs, looks, step = 1_500, 20, 100
    for p in (0.005, 0.05, 0.5):
        x = np.cumsum(rng.binomial(step, p, (runs, looks)), axis=1)
        n = step * np.arange(1, looks + 1)
        low = beta_binomial_bound(x, n, 0.025, "lower")
        high = beta_binomial_bound(x, n, 0.025, "upper")
        missed = ((low > p) | (high < p)).any(axis=1)
        assert missed.mean() <= _bound(runs)
        last = x[:, -1]
        assert np.mean(clopper_pearson(last, n[-1], 0.025, "lower") > p) <= _bound(runs, 0.025)
        assert np.mean(clopper_pearson(last, n[-1], 0.025, "upper") < p) <= _bound(runs, 0.025)


def test_the_sequence_and_the_exact_bounds_name_their_method_in_the_report(tmp_path: Path) -> None:
    config = _config(tmp_path, "  sequential: {method: mixture}\n")
    assert config.canary is not None
    arms = {
        "a": canary.ArmTotals(requests=5_000, errors=50),
        "b": canary.ArmTotals(requests=5_000, errors=300),
    }
    result = canary._judge_window(
        config, config.canary, canary.Window("w", None, None, arms), ("error",), False
    )
    check = result.checks[0]
    assert result.verdict == "rollback" and check.status == "fail"
    assert (
        check.details["sequential"]["method"] == "mixture"
        and check.details["sequential"]["confidence"] > 0.99
    )
    assert check.details["exact"]["method"] == "beta-binomial confidence sequences"
    assert check.details["exact"]["confirmed"] is True


# --- item 7: prediction drift through the one interval judge ---------------------------------------


def _drift_verdicts(tmp_path: Path, shift: float, n: int, runs: int) -> list[str]:
    config = _config(tmp_path, metrics="prediction_drift: {max: 0.1, critical: true}")
    assert config.canary is not None
    rng = np.random.default_rng(11)
    statuses = []
    for _ in range(runs):
        control, treated = canary.ArmTotals(requests=n), canary.ArmTotals(requests=n)
        control.scores = grid_counts(rng.beta(2, 5, n))
        treated.scores = grid_counts(np.clip(rng.beta(2, 5, n) + shift, 0, 1))
        window = canary.Window("w", None, None, {"a": control, "b": treated})
        statuses.append(
            canary._judge_window(config, config.canary, window, ("score",), False).checks[0].status
        )
    return statuses


def test_score_drift_is_judged_on_an_interval_of_psi(tmp_path: Path) -> None:
    alike = _drift_verdicts(tmp_path, 0.0, 200, 100)
    assert alike.count("fail") <= 1  # 200 scores an arm: PSI's noise alone must not fail it
    shifted = _drift_verdicts(tmp_path, 0.25, 2_000, 5)
    assert set(shifted) == {"fail"}
    config = _config(tmp_path, metrics="prediction_drift: {max: 0.1}")
    assert config.canary is not None
    control, treated = canary.ArmTotals(requests=5_000), canary.ArmTotals(requests=5_000)
    rng = np.random.default_rng(12)
    control.scores = grid_counts(rng.beta(2, 5, 5_000))
    treated.scores = grid_counts(rng.beta(2, 5, 5_000))
    window = canary.Window("w", None, None, {"a": control, "b": treated})
    check = canary._judge_window(config, config.canary, window, ("score",), False).checks[0]
    assert check.status == "pass" and check.ci is not None and check.ci.high <= 0.1
    assert "whole interval of PSI" in check.message


# --- item 3 for A/B: the sequence replaces the peeking rule ----------------------------------------


def test_an_ab_test_with_the_mixture_decides_at_an_early_look_instead_of_warning(tmp_path: Path) -> None:
    from live_logs import generators

    from pytest_mlgate.live import run_analysis

    make_logs = generators()
    text = (
        "logs: {path: log.csv, columns: {unit: user_id}}\n"
        "abtest:\n  control: A\n  treatment: B\n  planned_units: 15000\n  sequential: {method: mixture}\n"
        "  metrics:\n    conversion: {column: converted, type: proportion, min_effect: 0.005}\n"
    )
    (tmp_path / "live.yaml").write_text(text, encoding="utf-8")
    make_logs.abtest(users=12_000, lift=0.06, seed=5).to_csv(tmp_path / "log.csv", index=False)
    report = run_analysis("abtest", load_live_config(tmp_path / "live.yaml"))
    peek = next(c for c in report.checks if c.id == "abtest:planned_sample")
    assert peek.status == "pass" and "PEEKING" not in peek.message and "every look" in peek.message
    conversion = next(c for c in report.checks if c.id == "abtest:conversion")
    assert "normal-mixture sequence" in (conversion.method or "")
    assert report.verdict == "promote"  # 6 points of lift show at 6,000 users an arm, long before 15,000
    make_logs.abtest(users=12_000, lift=0.0, seed=5).to_csv(tmp_path / "log.csv", index=False)
    report = run_analysis("abtest", load_live_config(tmp_path / "live.yaml"))
    assert report.verdict == "continue"  # nothing shown yet, and the planned size is not reached
