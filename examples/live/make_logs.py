"""Write the example prediction logs: a canary, a shadow run, an A/B test and a week of production.

Each log is generated with a known effect, so the verdicts are known too:

* ``canary-bad.csv``: the canary (version 2) fails 3x as often as the control (version 1) -> rollback
* ``canary-good.csv``: the canary is as good as the control -> promote
* ``shadow.csv``: the shadow (version 2) disagrees with production on 2% of requests -> promote, rows named
* ``abtest.csv``: treatment B lifts conversion from 10% to 12% -> promote
* ``abtest-srm.csv``: the same test with a broken 55/45 split -> invalid
* ``production.csv``: a week of production logs whose last days drift -> retrain

Run: ``python make_logs.py [OUTDIR]`` (default: this folder). Deterministic (fixed seeds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-11-30T00:00:00Z")


def _stamps(rng: np.random.Generator, n: int, hours: float, start: pd.Timestamp = START) -> pd.Series:
    seconds = np.sort(rng.uniform(0, hours * 3600, n))
    return (start + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canary(
    n: int = 12_000, canary_error: float = 0.06, control_error: float = 0.02, seed: int = 1
) -> pd.DataFrame:
    """Requests split 50/50 between version 1 (control) and version 2 (canary) over 6 hours."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["1", "2"], n)
    error = np.where(arm == "2", rng.random(n) < canary_error, rng.random(n) < control_error)
    latency = rng.lognormal(np.log(80), 0.35, n)
    score = rng.beta(2, 5, n)
    label = np.where(
        rng.random(n) < 0.5, (rng.random(n) < score).astype(float), np.nan
    )  # half labelled so far
    return pd.DataFrame(
        {
            "timestamp": _stamps(rng, n, 6),
            "model_version": arm,
            "request_id": [f"c{seed}-{i:06d}" for i in range(n)],
            "latency_ms": latency.round(3),
            "error": error.astype(int),
            "score": score.round(6),
            "prediction": (score >= 0.5).astype(int),
            "label": label,
        }
    )


def shadow(n: int = 5_000, disagreement: float = 0.02, seed: int = 2) -> pd.DataFrame:
    """Each request scored by production (1) and the shadow (2); the shadow flips 2% of labels."""
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 5, n)
    flip = np.zeros(n, dtype=bool)
    flip[rng.choice(n, round(disagreement * n), replace=False)] = True
    nudged = np.clip(score + rng.normal(0, 0.01, n), 0, 1)
    same_side = (nudged >= 0.5) == (score >= 0.5)  # small noise, but the label stays where it was
    shadow_score = np.where(same_side, nudged, score)
    shadow_score = np.where(flip, np.where(score >= 0.5, 0.45, 0.55) - (score - 0.5) * 0.1, shadow_score)
    label = (rng.random(n) < score).astype(int)
    stamps = _stamps(rng, n, 24)
    ids = [f"s-{i:06d}" for i in range(n)]
    rows = []
    for arm, s in (("1", score), ("2", shadow_score)):
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": stamps,
                    "model_version": arm,
                    "request_id": ids,
                    "score": s.round(6),
                    "prediction": (s >= 0.5).astype(int),
                    "label": label,
                }
            )
        )
    both = pd.concat(rows).sort_values(["timestamp", "model_version"], kind="stable")
    return both.reset_index(drop=True)


def abtest(users: int = 40_000, lift: float = 0.02, split: float = 0.5, seed: int = 3) -> pd.DataFrame:
    """Users split between A and B; conversion 10% (+lift for B), revenue heavy-tailed, resolution hours."""
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(users) < split, "A", "B")
    visits = rng.integers(1, 4, users)
    user = np.repeat(np.arange(users), visits)
    arm_rows = np.repeat(arm, visits)
    n = user.size
    rate = np.where(arm_rows == "B", 0.10 + lift, 0.10) / 1.8  # per visit, about the per-user rate
    converted = (rng.random(n) < rate).astype(int)
    revenue = np.where(converted == 1, rng.lognormal(3.0, 1.0, n), 0.0)
    resolution = rng.gamma(2.0, 6.0, n)
    return pd.DataFrame(
        {
            "timestamp": _stamps(rng, n, 24 * 14),
            "arm": arm_rows,
            "request_id": [f"v{i:07d}" for i in range(n)],
            "user_id": [f"u{u:06d}" for u in user],
            "converted": converted,
            "revenue": revenue.round(2),
            "resolution_hours": resolution.round(3),
        }
    )


def production(n: int = 14_000, seed: int = 4) -> pd.DataFrame:
    """Seven days of production traffic for version 1; from day 5 the customers' income drifts up."""
    rng = np.random.default_rng(seed)
    stamps = _stamps(rng, n, 24 * 7)
    day = (pd.to_datetime(stamps) - START).total_seconds() / 86_400
    income = rng.lognormal(10.5, 0.4, n) * np.where(day >= 5, 1.8, 1.0)
    age = rng.integers(18, 80, n)
    score = np.clip(rng.beta(2, 5, n) + np.where(day >= 5, 0.1, 0.0), 0, 1)
    label = np.where(day < 6, (rng.random(n) < score).astype(float), np.nan)  # labels lag a day
    return pd.DataFrame(
        {
            "timestamp": stamps,
            "model_version": "1",
            "request_id": [f"p-{i:06d}" for i in range(n)],
            "income": income.round(2),
            "age": age,
            "latency_ms": rng.lognormal(np.log(60), 0.3, n).round(3),
            "error": (rng.random(n) < 0.005).astype(int),
            "score": score.round(6),
            "prediction": (score >= 0.5).astype(int),
            "label": label,
        }
    )


def reference(n: int = 5_000, seed: int = 5) -> pd.DataFrame:
    """The training-time inputs the production profile is built from."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.lognormal(10.5, 0.4, n).round(2), "age": rng.integers(18, 80, n)})


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    canary().to_csv(out / "canary-bad.csv", index=False)
    canary(canary_error=0.02, seed=6).to_csv(out / "canary-good.csv", index=False)
    shadow().to_csv(out / "shadow.csv", index=False)
    abtest().to_csv(out / "abtest.csv", index=False)
    abtest(split=0.55, seed=7).to_csv(out / "abtest-srm.csv", index=False)
    production().to_csv(out / "production.csv", index=False)
    reference().to_csv(out / "reference.csv", index=False)
    print(f"logs written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "logs")
