"""A/B outcomes when units repeat (issue 15, item 4): delta-method intervals clustered by unit, CUPED.

The coverage simulations are A/A tests (both arms from one population, so the
true difference is 0) with fixed seeds. With R replications the Monte Carlo
standard error of a 95% coverage is sqrt(0.95·0.05/R); the asserted band
[0.93, 0.97] is at least 3 of them either side of 0.95 (R ≥ 1,069).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.cli import main
from pytest_mlgate.errors import ConfigError
from pytest_mlgate.live import run_analysis
from pytest_mlgate.live.config import load_live_config
from pytest_mlgate.stats.twosample import UnitTotals, cuped_theta, ratio_difference

REPLICATIONS = 1200
UNITS = 200
BAND = (0.93, 0.97)


def test_the_band_is_three_monte_carlo_errors_wide() -> None:
    se = math.sqrt(0.95 * 0.05 / REPLICATIONS)
    assert min(0.95 - BAND[0], BAND[1] - 0.95) >= 3 * se


def clustered_arms(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> dict[str, np.ndarray]:
    """Per-unit sums of units whose requests share the unit's level; heavy users make more requests."""
    level = rng.lognormal(0.0, 0.8, shape)
    requests = 1 + rng.poisson(3, shape) + (level > 1.5) * rng.poisson(4, shape)
    if kind == "proportion":  # clicks per request: each unit has its own click rate
        rate = np.clip(level / 8.0, 0.0, 0.9)
        outcome = rng.binomial(requests, rate).astype(np.float64)
    else:  # a sum of `requests` gamma(2, level/2) values
        outcome = rng.gamma(2.0 * requests, level / 2.0)
    sessions = 1 + rng.poisson(level)  # for revenue per session
    pre = level * requests * rng.lognormal(0.0, 0.3, shape)  # last month's outcome, before assignment
    return {"outcome": outcome, "requests": requests.astype(np.float64), "sessions": sessions, "pre": pre}


def coverage(kind: str, denominator: str, cuped: bool, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    t = clustered_arms(rng, (REPLICATIONS, UNITS), kind)
    c = clustered_arms(rng, (REPLICATIONS, UNITS), kind)
    covered, widths = 0, []
    for r in range(REPLICATIONS):
        arms = [
            UnitTotals(a["outcome"][r], a[denominator][r].astype(np.float64), a["pre"][r] if cuped else None)
            for a in (t, c)
        ]
        found = ratio_difference(
            "m", *arms, higher_is_better=True, covariate="pre" if cuped else None, confidence=0.95
        )
        covered += found.ci.low <= 0.0 <= found.ci.high
        widths.append(found.ci.half_width)
    return covered / REPLICATIONS, float(np.mean(widths))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "denominator", "seed"),
    [("mean", "requests", 1), ("proportion", "requests", 2), ("mean", "sessions", 3)],
    ids=["per-request mean", "per-request rate", "revenue per session"],
)
def test_delta_method_intervals_cover_on_clustered_units(kind: str, denominator: str, seed: int) -> None:
    covered, _ = coverage(kind, denominator, cuped=False, seed=seed)
    assert BAND[0] <= covered <= BAND[1], covered


@pytest.mark.slow
def test_cuped_keeps_coverage_and_narrows_the_interval() -> None:
    _, plain_width = coverage("mean", "requests", cuped=False, seed=4)
    adjusted, adjusted_width = coverage("mean", "requests", cuped=True, seed=4)
    assert BAND[0] <= adjusted <= BAND[1], adjusted
    assert adjusted_width < 0.75 * plain_width, (adjusted_width, plain_width)


def test_cuped_theta_is_the_pooled_within_arm_slope() -> None:
    rng = np.random.default_rng(0)
    x0, x1 = rng.normal(0, 1, 500), rng.normal(5, 1, 500)  # arms at different levels
    y0, y1 = 2.0 * x0 + rng.normal(0, 0.1, 500), 2.0 * x1 + 10.0 + rng.normal(0, 0.1, 500)
    assert cuped_theta([(y0, x0), (y1, x1)]) == pytest.approx(2.0, abs=0.02)
    assert cuped_theta([(y0, np.ones(500)), (y1, np.ones(500))]) == 0.0  # a constant covariate: no change


def test_one_request_per_unit_is_the_plain_normal_interval() -> None:
    rng = np.random.default_rng(5)
    y1, y0 = rng.normal(1.0, 2.0, 400), rng.normal(0.5, 1.0, 300)
    found = ratio_difference(
        "m", UnitTotals(y1, np.ones(400)), UnitTotals(y0, np.ones(300)), higher_is_better=True
    )
    se = math.sqrt(y1.var(ddof=1) / 400 + y0.var(ddof=1) / 300)
    assert found.delta == pytest.approx(y1.mean() - y0.mean())
    assert found.ci.half_width == pytest.approx(1.959964 * se, rel=1e-5)


# --- through `mlgate abtest` ----------------------------------------------------------------

AB = """
logs: {{path: log.csv, columns: {{unit: user_id}}}}
abtest:
  control: A
  treatment: B
  planned_units: 100
  metrics:
{metrics}
"""


def clustered_log(users: int = 1200, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(users) % 2 == 0, "A", "B")
    level = rng.lognormal(0.0, 0.8, users)
    visits = 1 + rng.poisson(4, users)
    user = np.repeat(np.arange(users), visits)
    n = user.size
    return pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-11-30", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "arm": np.repeat(arm, visits),
            "request_id": [f"r{i}" for i in range(n)],
            "user_id": [f"u{u}" for u in user],
            "clicked": (rng.random(n) < np.clip(level[user] / 8.0, 0, 0.9)).astype(int),
            "revenue": rng.gamma(2.0, level[user] / 2.0).round(4),
            "sessions": 1 + rng.poisson(1.0, n),
            "pre_revenue": np.repeat(level * visits * rng.lognormal(0, 0.3, users), visits).round(4),
        }
    )


def analyse(tmp_path: Path, metrics: str, log: pd.DataFrame | None = None) -> dict[str, Any]:
    log = clustered_log() if log is None else log
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "ab.yaml").write_text(AB.format(metrics=metrics), encoding="utf-8")
    report = run_analysis("abtest", load_live_config(tmp_path / "ab.yaml"))
    return {c.id: c for c in report.checks}


def unit_totals(log: pd.DataFrame, arm: str, column: str, denominator: str | None = None) -> UnitTotals:
    rows = log[log["arm"] == arm]
    grouped = rows.groupby("user_id", sort=False)
    bottom = grouped[denominator].sum() if denominator else grouped.size()
    return UnitTotals(grouped[column].sum().to_numpy(float), bottom.to_numpy(float))


def test_per_request_outcomes_of_repeating_units_are_clustered_by_unit(tmp_path: Path) -> None:
    log = clustered_log()
    checks = analyse(
        tmp_path,
        "    ctr: {column: clicked, type: proportion, aggregate: none, min_effect: 0}\n"
        "    revenue: {column: revenue, type: mean, aggregate: none, min_effect: 0}\n",
        log,
    )
    for name, column in (("ctr", "clicked"), ("revenue", "revenue")):
        check = checks[f"abtest:{name}"]
        assert check.method.startswith("delta method") and "clustered by unit" in check.method
        assert check.details["clustered_by_unit"] is True
        expected = ratio_difference(
            name,
            unit_totals(log, "B", column),
            unit_totals(log, "A", column),
            higher_is_better=True,
        )
        assert check.ci == pytest.approx(tuple(expected.ci), rel=1e-9)
        assert check.n == 1200  # units, not requests
        # Requests of one user are alike, so a per-request interval would be far too narrow.
        per_request = log.groupby("arm")[column].agg(["var", "size"])
        naive = 1.96 * math.sqrt(float((per_request["var"] / per_request["size"]).sum()))
        assert check.ci.half_width > 1.15 * naive, (name, check.ci.half_width / naive)


def test_a_ratio_metric_with_cuped_reports_both(tmp_path: Path) -> None:
    log = clustered_log()
    checks = analyse(
        tmp_path,
        "    per_session: {column: revenue, type: mean, denominator: sessions, covariate: pre_revenue,"
        " min_effect: 0}\n"
        "    plain: {column: revenue, type: mean, denominator: sessions, min_effect: 0}\n",
        log,
    )
    cuped, plain = checks["abtest:per_session"], checks["abtest:plain"]
    assert "CUPED on `pre_revenue`" in cuped.method and "CUPED" not in plain.method
    expected = ratio_difference(
        "plain",
        unit_totals(log, "B", "revenue", "sessions"),
        unit_totals(log, "A", "revenue", "sessions"),
        higher_is_better=True,
    )
    assert plain.ci == pytest.approx(tuple(expected.ci), rel=1e-9)
    assert plain.value == pytest.approx(
        log.loc[log.arm == "B", "revenue"].sum() / log.loc[log.arm == "B", "sessions"].sum()
    )
    assert cuped.ci.half_width < 0.8 * plain.ci.half_width
    assert cuped.details["covariate"] == "pre_revenue" and cuped.details["denominator"] == "sessions"


def test_units_that_do_not_repeat_keep_their_intervals(tmp_path: Path) -> None:
    log = clustered_log().drop_duplicates("user_id")
    checks = analyse(
        tmp_path, "    ctr: {column: clicked, type: proportion, aggregate: none, min_effect: 0}\n", log
    )
    assert checks["abtest:ctr"].method == "Newcombe score"


def test_a_unit_without_its_covariate_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = clustered_log()
    log.loc[log["user_id"] == "u3", "pre_revenue"] = np.nan
    log.to_csv(tmp_path / "log.csv", index=False)
    metrics = "    r: {column: revenue, type: mean, covariate: pre_revenue, min_effect: 0}\n"
    (tmp_path / "ab.yaml").write_text(AB.format(metrics=metrics), encoding="utf-8")
    assert main(["abtest", "-c", str(tmp_path / "ab.yaml"), "-o", str(tmp_path / "r.json")]) == 3
    err = capsys.readouterr().err
    assert "column `pre_revenue`" in err and "'u3'" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists() or "verdict" not in json.loads(
        (tmp_path / "r.json").read_text()
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{column: clicked, type: proportion, denominator: sessions, min_effect: 0}", "needs type mean"),
        (
            "{column: revenue, type: mean, aggregate: sum, denominator: sessions, min_effect: 0}",
            "no `aggregate`",
        ),
        ("{column: revenue, type: quantile, covariate: pre_revenue, min_effect: 0}", "mean or proportion"),
    ],
)
def test_misleading_ratio_or_cuped_configs_are_refused(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "ab.yaml").write_text(AB.format(metrics=f"    m: {spec}\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_live_config(tmp_path / "ab.yaml")
