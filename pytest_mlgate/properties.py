"""Property-based model tests with hypothesis (the `properties` extra).

Inputs are realistic because they are built from reference data: a row of it,
with one feature moved to another value seen in that column (categorical) or
anywhere within its observed range (numeric). When a property fails,
hypothesis shrinks the example and the failure shows the minimal row.

    from pytest_mlgate.properties import assert_monotonic

    def test_score_rises_with_income(model, reference):
        assert_monotonic(lambda x: model.predict_proba(x)[:, 1], reference, "income")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError, GateFailure
from .extras import install_hint

if TYPE_CHECKING:
    import pandas as pd

    from .profile import Profile

Predict = Callable[["pd.DataFrame"], Any]


def _hypothesis() -> Any:
    try:
        import hypothesis
    except ImportError:
        raise ConfigError(f"property tests need hypothesis: {install_hint('properties')}") from None
    return hypothesis


def _as_rows(data: pd.DataFrame | Profile) -> pd.DataFrame:
    """Reference rows: the data itself, or rows drawn from an `mlgate profile`'s marginals."""
    from .profile import Profile, rows_from_profile

    return rows_from_profile(data) if isinstance(data, Profile) else data


def _prepare(data: pd.DataFrame | Profile, feature: str) -> pd.DataFrame:
    """Reference rows with ``feature`` checked, and hypothesis importable (else an install hint)."""
    rows = _as_rows(data)
    _check_feature(rows, feature)
    _hypothesis()
    return rows


def _check_feature(data: pd.DataFrame, feature: str) -> None:
    if feature not in data.columns:
        raise ConfigError(
            f"`feature`={feature!r} must be a column of the reference data ({', '.join(map(str, data.columns))})"
        )
    if data[feature].dropna().empty:
        raise ConfigError(f"`feature`={feature!r} has no values in the reference data to draw from")


def _values(data: pd.DataFrame, feature: str) -> Any:
    """A strategy for values of ``feature``: seen categories, or floats within the observed range."""
    import pandas as pd

    st = _hypothesis().strategies
    column = data[feature].dropna()
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        low, high = float(column.min()), float(column.max())
        if pd.api.types.is_integer_dtype(column.dtype):
            return st.integers(int(low), int(high))
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.sampled_from(sorted(column.unique().tolist(), key=str))


def _score(predict: Predict, row: pd.DataFrame) -> float:
    out = np.asarray(predict(row), dtype=np.float64).ravel()
    if out.size != 1 or not np.isfinite(out[0]):
        raise GateFailure(f"the model returned {out!r} for one row; expected one finite score")
    return float(out[0])


def _run(test: Callable[..., None], max_examples: int, seed: int) -> None:
    __tracebackhide__ = True
    hypothesis = _hypothesis()
    settings = hypothesis.settings(
        max_examples=max_examples,
        derandomize=False,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,  # one shrunk counterexample, not an exception group
    )
    hypothesis.seed(seed)(settings(test))()


def _row_text(row: pd.DataFrame) -> str:
    return ", ".join(f"{k}={_plain(v)!r}" for k, v in row.iloc[0].items())


def _plain(value: Any) -> Any:
    """numpy scalars print as np.float64(...); show the Python value."""
    return value.item() if isinstance(value, np.generic) else value


def assert_invariant(
    predict: Predict,
    data: pd.DataFrame | Profile,
    feature: str,
    *,
    atol: float = 1e-6,
    max_examples: int = 100,
    seed: int = 0,
) -> None:
    """The score must not move by more than ``atol`` when ``feature`` changes (it should not matter).

    ``data`` is reference rows, or an `mlgate profile` to draw realistic rows from.
    """
    __tracebackhide__ = True
    data = _prepare(data, feature)
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.integers(0, len(data) - 1), _values(data, feature))
    def invariant(index: int, value: Any) -> None:
        row = data.iloc[[index]].copy()
        before = _score(predict, row)
        row[feature] = value
        after = _score(predict, row)
        if abs(after - before) > atol:
            raise GateFailure(
                f"the score moved when `{feature}` changed, which should not matter.\n\n"
                f"  row {index}: {_row_text(data.iloc[[index]])}\n"
                f"  `{feature}` -> {_plain(value)!r}: score {before:.6g} -> {after:.6g} (|Δ| {abs(after - before):.3g} > atol {atol:g})\n\n"
                f"Fix: the model uses `{feature}`; drop it from the features or retrain without it."
            )

    _run(invariant, max_examples, seed)


def assert_monotonic(
    predict: Predict,
    data: pd.DataFrame | Profile,
    feature: str,
    *,
    increasing: bool = True,
    atol: float = 1e-9,
    max_examples: int = 100,
    seed: int = 0,
) -> None:
    """Raising ``feature`` (all else equal) must not lower the score (or raise it, when decreasing).

    ``data`` is reference rows, or an `mlgate profile` to draw realistic rows from.
    """
    __tracebackhide__ = True
    data = _prepare(data, feature)
    from hypothesis import given
    from hypothesis import strategies as st

    values = _values(data, feature)

    @given(st.integers(0, len(data) - 1), values, values)
    def monotonic(index: int, a: Any, b: Any) -> None:
        low, high = (a, b) if a <= b else (b, a)
        row = data.iloc[[index]].copy()
        row[feature] = low
        at_low = _score(predict, row)
        row[feature] = high
        at_high = _score(predict, row)
        wrong = at_high < at_low - atol if increasing else at_high > at_low + atol
        if wrong:
            direction = "rise" if increasing else "fall"
            raise GateFailure(
                f"the score does not {direction} with `{feature}`: a minimal counterexample (shrunk by hypothesis):\n\n"
                f"  row {index}: {_row_text(data.iloc[[index]])}\n"
                f"  `{feature}`={_plain(low)!r}: score {at_low:.6g}\n"
                f"  `{feature}`={_plain(high)!r}: score {at_high:.6g}\n\n"
                "Fix: add a monotonic constraint to the model for this feature, or review the feature's encoding."
            )

    _run(monotonic, max_examples, seed)


def assert_robust(
    predict_labels: Predict,
    data: pd.DataFrame | Profile,
    *,
    noise: float = 0.01,
    max_flip_rate: float = 0.01,
    seed: int = 0,
) -> float:
    """Gaussian noise of ``noise``·σ on every numeric column flips at most ``max_flip_rate`` of labels.

    Returns the observed flip rate. Deterministic for a seed: every row gets one noisy copy.
    """
    __tracebackhide__ = True
    import pandas as pd

    data = _as_rows(data)
    if not 0 <= max_flip_rate <= 1 or noise < 0:
        raise ConfigError(f"`noise`={noise!r} must be >= 0 and `max_flip_rate`={max_flip_rate!r} in [0, 1]")
    rng = np.random.default_rng(seed)
    noisy = data.copy()
    numeric = [
        c
        for c in data.columns
        if pd.api.types.is_numeric_dtype(data[c].dtype) and not pd.api.types.is_bool_dtype(data[c].dtype)
    ]
    if not numeric:
        raise ConfigError("`assert_robust` needs at least one numeric column to add noise to")
    for column in numeric:
        spread = float(data[column].std()) or 0.0
        moved = data[column].astype(np.float64) + rng.normal(0.0, noise * spread, len(data))
        # Integer features stay integers (ages, counts): noise rounds to the nearest step.
        noisy[column] = (
            np.round(moved).astype(data[column].dtype)
            if pd.api.types.is_integer_dtype(data[column].dtype)
            else moved
        )
    before = np.asarray(predict_labels(data))
    after = np.asarray(predict_labels(noisy))
    flipped = np.flatnonzero(before != after)
    rate = flipped.size / max(len(data), 1)
    if rate > max_flip_rate:
        examples = "\n".join(f"  row {i}: {_row_text(data.iloc[[i]])}" for i in flipped[:5])
        raise GateFailure(
            f"noise of {noise:g}σ on {len(numeric)} numeric column(s) flipped {flipped.size} of {len(data)} labels "
            f"({rate:.2%} > {max_flip_rate:.2%}).\n\n{examples}\n\n"
            "Fix: the decision boundary is fragile near these rows; regularise, or raise max_flip_rate if expected."
        )
    return rate
