"""Simulation tests of the statistical claims (DESIGN §3, issue 2 §3).

Datasets are drawn with replacement from a large finite *population* whose
metric values are computed exactly, so the true Δ of every metric is known.
Seeds are fixed, so the counts below are deterministic; the tolerances are
still wide enough to hold for any seed with overwhelming probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn import metrics as skm

from pytest_mlgate.stats.decision import Verdict, decide
from pytest_mlgate.stats.paired import compare
from pytest_mlgate.stats.rng import stream

METRICS = ("accuracy", "f1", "roc_auc", "log_loss")


@dataclass(frozen=True)
class Population:
    y: np.ndarray
    cand: np.ndarray
    base: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> Population:
        idx = rng.integers(0, self.y.size, n)
        return Population(self.y[idx], self.cand[idx], self.base[idx])

    def arrays(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        if metric in ("accuracy", "f1"):
            return (self.cand >= 0.5).astype(int), (self.base >= 0.5).astype(int)
        return self.cand, self.base

    def true_delta(self, metric: str) -> float:
        c, b = self.arrays(metric)
        oracle = {
            "accuracy": skm.accuracy_score,
            "f1": skm.f1_score,
            "roc_auc": skm.roc_auc_score,
            "log_loss": skm.log_loss,
        }[metric]
        return float(oracle(self.y, c) - oracle(self.y, b))


def population(size: int, cand_noise: float, base_noise: float, seed: int) -> Population:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size)
    signal = 1.0 * (2 * y - 1)
    cand = 1 / (1 + np.exp(-(signal + rng.normal(0, cand_noise, size))))
    base = 1 / (1 + np.exp(-(signal + rng.normal(0, base_noise, size))))
    return Population(y, cand, base)


def run(
    pop: Population, n: int, sims: int, seed: int, metrics: tuple[str, ...] = METRICS
) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(sims):
        sample = pop.sample(rng, n)
        results = {}
        for metric in metrics:
            c, b = sample.arrays(metric)
            results[metric] = compare(metric, sample.y, c, b, rng=stream(i, metric), n_boot=1_000)
        out.append(results)
    return out


@pytest.fixture(scope="module")
def null_population() -> Population:
    # The baseline's scores are the candidate's, shuffled within each class: both models
    # have the same score distribution per class, so every metric's true Δ is exactly 0.
    pop = population(400_000, 1.5, 1.5, seed=1)
    rng = np.random.default_rng(1)
    base = pop.cand.copy()
    for label in (0, 1):
        rows = np.flatnonzero(pop.y == label)
        base[rows] = pop.cand[rng.permutation(rows)]
    return Population(pop.y, pop.cand, base)


@pytest.fixture(scope="module")
def null_runs(null_population: Population) -> list[dict[str, object]]:
    assert all(abs(null_population.true_delta(m)) < 1e-12 for m in METRICS)
    return run(null_population, n=2_000, sims=400, seed=2)


def test_no_true_difference_rarely_rejects(null_runs: list[dict[str, object]]) -> None:
    # Margin 0 is the strictest setting: any confident loss would reject.
    rejects = 0
    for results in null_runs:
        decisions = decide([results[m] for m in METRICS], [0.0] * 4, [0.0] * 4)  # type: ignore[misc]
        rejects += any(d.verdict is Verdict.REJECT for d in decisions)
    assert rejects / len(null_runs) <= 0.07


@pytest.mark.parametrize("metric", METRICS)
def test_interval_coverage(metric: str) -> None:
    pop = population(400_000, 1.3, 1.6, seed=3)
    truth = pop.true_delta(metric)
    runs = run(pop, n=1_500, sims=1_000, seed=4, metrics=(metric,))
    covered = sum(r[metric].ci.low <= truth <= r[metric].ci.high for r in runs)  # type: ignore[attr-defined]
    assert 0.93 <= covered / len(runs) <= 0.97


def test_true_delta_at_minus_margin_rarely_promotes_in_non_inferiority() -> None:
    # Candidate is worse; set each margin to exactly the true regression.
    pop = population(400_000, 1.8, 1.5, seed=5)
    margins = [-pop.true_delta(m) if m != "log_loss" else pop.true_delta(m) for m in METRICS]
    assert all(m > 0 for m in margins)
    runs = run(pop, n=2_000, sims=400, seed=6)
    for metric, margin in zip(METRICS, margins, strict=True):
        promotes = sum(
            decide([r[metric]], [margin], [0.0], "non-inferiority")[0].verdict is Verdict.PROMOTE  # type: ignore[list-item]
            for r in runs
        )
        assert promotes / len(runs) <= 0.07, metric


def test_two_point_accuracy_loss_at_20000_rows_is_rejected() -> None:
    rng = np.random.default_rng(7)
    sims, n, rejected = 200, 20_000, 0
    for i in range(sims):
        y = rng.integers(0, 2, n)
        # Joint correctness: both right 80%, only base right 5%, only cand right 3%, both wrong 12%.
        cell = rng.choice(4, size=n, p=[0.80, 0.05, 0.03, 0.12])
        cand_right = np.isin(cell, (0, 2))
        base_right = np.isin(cell, (0, 1))
        cand = np.where(cand_right, y, 1 - y)
        base = np.where(base_right, y, 1 - y)
        result = compare("accuracy", y, cand, base, rng=stream(i, "accuracy"))
        rejected += decide([result], [0.01], [0.0])[0].verdict is Verdict.REJECT
    assert rejected / sims >= 0.95
