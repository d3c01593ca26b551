"""Synthetic holdout sets for end-to-end gate tests (imported by the plugin tests)."""

from __future__ import annotations

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
