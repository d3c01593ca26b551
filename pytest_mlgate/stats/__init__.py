"""Pure numerics of the gate: paired comparisons, intervals and decisions.

Nothing here knows about pytest, YAML, files or MLflow; inputs are numpy arrays.
"""

from __future__ import annotations

from .result import Comparison, Estimate, Interval

__all__ = ["Comparison", "Estimate", "Interval"]
