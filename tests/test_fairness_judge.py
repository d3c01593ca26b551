"""Fairness limits are judged by the one interval judge (issue 15, item 7), edges included."""

from __future__ import annotations

import itertools
import math

import pytest

from pytest_mlgate.checks.fairness import _judge
from pytest_mlgate.config import FairnessConfig
from pytest_mlgate.stats.decision import judge_interval
from pytest_mlgate.stats.groups import Disparity, GroupRate
from pytest_mlgate.stats.result import Interval

NAN = float("nan")
LIMIT = 0.1
# Below, touching, straddling, touching from above, above the limit; and an interval that could not be computed.
INTERVALS = [(0.02, 0.08), (0.05, 0.1), (0.05, 0.15), (0.1, 0.2), (0.12, 0.2), (NAN, NAN)]


def _disparity(
    difference: tuple[float, float], ratio: tuple[float, float], growth: tuple[float, float]
) -> Disparity:
    group = GroupRate("a", 100, 0.5, Interval(0.45, 0.55), 0.5, Interval(0.45, 0.55), True)
    return Disparity(
        metric="selection_rate",
        groups=(group, GroupRate("b", 100, 0.5, Interval(0.45, 0.55), 0.5, Interval(0.45, 0.55), True)),
        difference=0.0 if math.isnan(difference[0]) else sum(difference) / 2,
        difference_ci=Interval(*difference),
        ratio=1.0,
        ratio_ci=Interval(*ratio),
        baseline_difference=0.0,
        baseline_difference_ci=Interval(0.0, 0.05),
        growth_ci=Interval(*growth),
        n_boot=100,
    )


@pytest.mark.parametrize(("difference", "growth"), list(itertools.product(INTERVALS, INTERVALS)))
def test_difference_and_growth_statuses_are_the_judges(
    difference: tuple[float, float], growth: tuple[float, float]
) -> None:
    cfg = FairnessConfig(sensitive=("g",), max_difference=LIMIT, max_regression=LIMIT)
    check = _judge(cfg, _disparity(difference, (0.9, 1.0), growth), with_baseline=True)
    parts = [
        judge_interval(Interval(*difference), None, LIMIT),
        judge_interval(Interval(*growth), None, LIMIT),
    ]
    worst = "fail" if "fail" in parts else "inconclusive" if "inconclusive" in parts else "pass"
    assert check.status == worst, check.message


@pytest.mark.parametrize(
    "ratio", [(0.7, 0.79), (0.7, 0.8), (0.75, 0.9), (0.8, 0.95), (0.85, 1.0), (NAN, NAN)]
)
def test_four_fifths_ratio_status_is_the_judges(ratio: tuple[float, float]) -> None:
    cfg = FairnessConfig(sensitive=("g",), max_difference=None, max_regression=None, four_fifths=True)
    check = _judge(cfg, _disparity((0.0, 0.05), ratio, (0.0, 0.0)), with_baseline=True)
    assert check.status == judge_interval(Interval(*ratio), 0.8, None), check.message
    assert ("straddles" in check.message) == (check.status == "inconclusive")
