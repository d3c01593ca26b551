"""Seeded synthetic data sets and config files for the end-to-end tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

CONFIG = """\
task: binary
seed: 0
n_boot: 1000
data: {{path: holdout.csv, target: y}}
candidate: {{column: {candidate}}}
baseline: {{column: base}}
metrics:
  accuracy: {{margin: {margin}}}
  roc_auc: {{margin: {margin}}}
  log_loss: {{margin: {margin}}}
"""


def write_holdout(directory: Path, n: int = 20_000, seed: int = 0) -> Path:
    """Columns: y, base, better (much more informative), slightly (a little more), worse, same (= base)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = 2 * y - 1

    def scores(strength: float) -> np.ndarray:
        return 1 / (1 + np.exp(-(strength * signal + rng.normal(0, 1.0, n))))

    base = scores(1.0)
    frame = pd.DataFrame(
        {
            "y": y,
            "base": base,
            "better": scores(1.6),
            "slightly": scores(1.1),
            "worse": scores(0.5),
            "same": base,
        }
    )
    path = directory / "holdout.csv"
    frame.to_csv(path, index=False)
    return path


def write_config(directory: Path, candidate: str, margin: float = 0.01, extra: str = "") -> Path:
    path = directory / "mlgate.yaml"
    path.write_text(CONFIG.format(candidate=candidate, margin=margin) + extra, encoding="utf-8")
    return path


def binary_frame(
    n: int = 400, *, seed: int = 0, candidate: float = 2.0, baseline: float = 0.5
) -> pd.DataFrame:
    """Binary target `y` with probability columns `cand` and `base`.

    ``candidate`` and ``baseline`` are the signal strengths: the larger, the more
    informative that model's scores. Equal strengths with the same seed give
    different noise; use the same column for identical models.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    sign = 2 * y - 1

    def scores(strength: float) -> np.ndarray:
        logit = strength * sign + rng.normal(size=n)
        return 1.0 / (1.0 + np.exp(-logit))

    return pd.DataFrame({"y": y, "cand": scores(candidate), "base": scores(baseline)})


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def write_config_text(directory: Path, text: str, name: str = "mlgate.yaml") -> Path:
    """Write a YAML config (dedented) and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


BINARY_CONFIG = """
task: binary
data:
  path: data.csv
  target: y
candidate:
  column: cand
baseline:
  column: base
n_boot: 500
metrics:
  accuracy: {}
  roc_auc: {}
"""
"""A binary gate on `data.csv` (columns y, cand, base) comparing accuracy and roc_auc."""
