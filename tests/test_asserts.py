"""Assertion helpers used directly (the plugin tests cover them through the fixture)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn import metrics as skm

from pytest_mlgate import (
    ConfigError,
    GateFailure,
    assert_at_least,
    assert_at_most,
    assert_better,
    assert_not_worse,
    compare,
)


def _labels(n: int, p_cand: float, p_base: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(["bad", "good"]), n)
    flip = {"bad": "good", "good": "bad"}
    cand = np.where(rng.random(n) < p_cand, y, [flip[v] for v in y])
    base = np.where(rng.random(n) < p_base, y, [flip[v] for v in y])
    return y, cand, base


def test_assert_better_returns_the_comparison_when_clearly_better() -> None:
    y, cand, base = _labels(20_000, 0.9, 0.8)
    result = assert_better("f1", y, cand, base, pos_label="good")
    assert result.delta == pytest.approx(
        skm.f1_score(y, cand, pos_label="good") - skm.f1_score(y, base, pos_label="good")
    )
    assert result.ci.low > 0


def test_gate_failure_is_an_assertion_error_with_verdict_table_and_fix() -> None:
    y, cand, base = _labels(20_000, 0.8, 0.9)
    with pytest.raises(GateFailure) as info:
        assert_not_worse("accuracy", y, cand, base, margin=0.01)
    assert isinstance(info.value, AssertionError)
    text = str(info.value)
    assert "confidently worse than the baseline by more than margin 0.01" in text
    assert "candidate" in text and "95% CI" in text and "20,000" in text
    assert text.splitlines()[-1].startswith("Fix:")


def test_not_worse_underpowered_names_the_rows_needed() -> None:
    y, cand, base = _labels(200, 0.8, 0.8, seed=3)
    with pytest.raises(GateFailure, match=r"raise n to ≈ [\d,]+ or widen `margin`"):
        assert_not_worse("accuracy", y, cand, base, margin=0.01)


def test_user_callable_metric_uses_the_row_bootstrap() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=3_000)
    cand, base = y + rng.normal(0, 0.3, y.size), y + rng.normal(0, 0.6, y.size)

    def neg_median_abs_error(t: np.ndarray, p: np.ndarray) -> float:
        return -float(np.median(np.abs(t - p)))

    result = assert_better(neg_median_abs_error, y, cand, base, n_boot=300)
    assert result.method == "paired row bootstrap"
    assert result.n_boot == 300


def test_limits_on_the_interval() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 5_000)
    score = 1 / (1 + np.exp(-(2 * (2 * y - 1) + rng.normal(0, 1, y.size))))
    assert assert_at_least("roc_auc", y, score, 0.9).value == pytest.approx(skm.roc_auc_score(y, score))
    assert assert_at_most("log_loss", y, score, 0.5).value == pytest.approx(skm.log_loss(y, score))
    with pytest.raises(GateFailure, match=re.escape("fails <= 0.9: the whole interval is on the wrong side")):
        assert_at_most("roc_auc", y, score, 0.9)


def test_bad_arguments_are_config_errors() -> None:
    y, cand, base = _labels(100, 0.8, 0.8)
    with pytest.raises(ConfigError, match=re.escape("`margin`=-0.1 must be a finite number >= 0")):
        assert_not_worse("accuracy", y, cand, base, margin=-0.1)
    with pytest.raises(ConfigError, match="same length"):
        assert_better("accuracy", y, cand[:-1], base)
    with pytest.raises(ConfigError, match=re.escape("`metric`='acc'")):
        compare("acc", y, cand, base)
