"""Seeded tables for the deepchecks tests, and the saved deepchecks result they gate on.

`tests/deepchecks/saved_suite.json` is what deepchecks 0.19.1 itself wrote for `saved_suite()` on
these tables (`python tests/deepchecks_data.py` rewrites it in .venv-deepchecks); the main
environment, where deepchecks cannot import, gates on that file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SAVED = Path(__file__).resolve().parent / "deepchecks" / "saved_suite.json"


def train_test(n: int = 4000, *, seed: int = 0, spread: float = 2.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference (train) and a current (test) table: `x` is N(0, 1) then N(0, spread), the rest alike.

    A spread change moves the tails a lot and the middle little: PSI on deciles sees it at once,
    the largest CDF gap (Kolmogorov-Smirnov) stays near 0.16 for a doubling.
    """
    rng = np.random.default_rng(seed)

    def table(x_sd: float) -> pd.DataFrame:
        x = rng.normal(0.0, x_sd, n)
        z = rng.normal(0.0, 1.0, n)
        colour = rng.choice(["red", "green", "blue"], n)
        y = (z + 0.5 * rng.normal(size=n) > 0).astype(int)
        return pd.DataFrame({"x": x, "z": z, "colour": colour, "y": y})

    return table(1.0), table(spread)


def saved_suite() -> Any:
    """Run in .venv-deepchecks: a small suite with a failing, a passing and a not-run check."""
    from deepchecks.tabular import Dataset, Suite
    from deepchecks.tabular.checks import DateTrainTestLeakageDuplicates, FeatureDrift, LabelDrift

    train, test = train_test(600, seed=1)
    suite = Suite(
        "saved by deepchecks",
        FeatureDrift().add_condition_drift_score_less_than(max_allowed_numeric_score=0.1),
        LabelDrift().add_condition_drift_score_less_than(),
        DateTrainTestLeakageDuplicates(),
    )
    return suite.run(
        Dataset(train, label="y", cat_features=["colour"]),
        Dataset(test, label="y", cat_features=["colour"]),
        with_display=False,
    )


if __name__ == "__main__":
    SAVED.parent.mkdir(exist_ok=True)
    SAVED.write_text(saved_suite().to_json(with_display=False) + "\n", encoding="utf-8")
    print(f"wrote {SAVED}")
