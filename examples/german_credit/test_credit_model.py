"""A data scientist's own model tests, using pytest-mlgate's helpers.

They run with or without --mlgate; with --mlgate the gate in mlgate.yaml runs too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio

ARTIFACTS = Path(__file__).parent / "artifacts"
FEATURES = [
    "credit_amount",
    "duration",
    "age",
    "job",
    "sex",
    "housing",
    "saving_accounts",
    "checking_account",
    "purpose",
]


def _load(name: str):
    path = ARTIFACTS / f"{name}.skops"
    return sio.load(path, trusted=sio.get_untrusted_types(file=path) or None)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    if not (ARTIFACTS / "holdout.csv").exists():
        pytest.skip("run train.py first")
    return pd.read_csv(ARTIFACTS / "holdout.csv")


@pytest.mark.mlgate
def test_candidate_auc_is_not_worse_than_production(mlgate, holdout: pd.DataFrame) -> None:
    candidate = _load("candidate").predict_proba(holdout[FEATURES])[:, 1]
    production = _load("production").predict_proba(holdout[FEATURES])[:, 1]
    mlgate.assert_not_worse("roc_auc", holdout["risk"], candidate, production, margin=0.02)


@pytest.mark.mlgate
def test_candidate_auc_floor(mlgate, holdout: pd.DataFrame) -> None:
    candidate = _load("candidate").predict_proba(holdout[FEATURES])[:, 1]
    mlgate.assert_at_least("roc_auc", holdout["risk"], candidate, 0.65)


def test_candidate_reproduces_its_golden_cases(mlgate_golden, holdout: pd.DataFrame) -> None:
    # Known inputs → expected scores, written once with `pytest --mlgate-update` and committed.
    candidate = _load("candidate")
    mlgate_golden.check(
        "candidate_v1",
        holdout[FEATURES].head(40),
        scores=lambda x: candidate.predict_proba(x)[:, 1],
        labels=candidate.predict,
        atol=1e-4,
    )
