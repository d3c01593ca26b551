"""Assertion helpers for users' own tests.

Each helper decides on the confidence interval, returns the result object on
success, and otherwise raises ``GateFailure`` with three parts: the verdict, a
small table, and the fix.

    from pytest_mlgate import assert_not_worse

    def test_candidate_is_not_worse(holdout, candidate, production):
        assert_not_worse("roc_auc", holdout.y, candidate.predict_proba(holdout.X)[:, 1],
                         production.predict_proba(holdout.X)[:, 1], margin=0.01)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from .errors import ConfigError, DataError, GateFailure
from .report.table import fmt, fmt_delta, plain
from .stats.decision import MIN_DISCORDANT, MIN_ROWS, POWER, Mode, Verdict, decide, judge_threshold
from .stats.metrics import METRICS
from .stats.paired import compare as _compare
from .stats.paired import compare_callable, estimate
from .stats.result import Comparison, Estimate
from .stats.rng import stream

MetricArg = str | Callable[[Any, Any], float]

__all__ = ["assert_at_least", "assert_at_most", "assert_better", "assert_not_worse", "compare"]


def compare(
    metric: MetricArg,
    y_true: ArrayLike,
    candidate: ArrayLike,
    baseline: ArrayLike,
    *,
    pos_label: Any = 1,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    boundaries: Sequence[float] = (),
) -> Comparison:
    """Paired comparison with an interval; see ``pytest_mlgate.stats.paired.compare``."""
    name = metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")
    rng = stream(seed, f"assert:{name}")
    if callable(metric):
        y, c, b = (np.asarray(a) for a in (y_true, candidate, baseline))
        _same_length(y, c, b)
        return compare_callable(
            name,
            metric,
            y,
            c,
            b,
            higher_is_better=higher_is_better,
            rng=rng,
            confidence=confidence,
            n_boot=n_boot,
            boundaries=boundaries,
        )
    y, (c, b), k = _encode(name, y_true, (candidate, baseline), pos_label)
    return _compare(
        name, y, c, b, rng=rng, confidence=confidence, n_boot=n_boot, boundaries=boundaries, n_classes=k
    )


def assert_better(
    metric: MetricArg,
    y_true: ArrayLike,
    candidate: ArrayLike,
    baseline: ArrayLike,
    *,
    gain: float = 0.0,
    margin: float = 0.0,
    **options: Any,
) -> Comparison:
    """Pass when the candidate beats the baseline by more than ``gain``, with confidence (L > gain)."""
    __tracebackhide__ = True
    return _assert_comparison("superiority", metric, y_true, candidate, baseline, gain, margin, options)


def assert_not_worse(
    metric: MetricArg,
    y_true: ArrayLike,
    candidate: ArrayLike,
    baseline: ArrayLike,
    *,
    margin: float,
    **options: Any,
) -> Comparison:
    """Pass when the candidate is confidently no worse than ``margin`` (L > -margin)."""
    __tracebackhide__ = True
    return _assert_comparison("non-inferiority", metric, y_true, candidate, baseline, 0.0, margin, options)


def assert_at_least(
    metric: str, y_true: ArrayLike, prediction: ArrayLike, minimum: float, **options: Any
) -> Estimate:
    """Pass when the whole interval of ``metric`` is at or above ``minimum``."""
    __tracebackhide__ = True
    return _assert_limit(metric, y_true, prediction, minimum, None, options)


def assert_at_most(
    metric: str, y_true: ArrayLike, prediction: ArrayLike, maximum: float, **options: Any
) -> Estimate:
    """Pass when the whole interval of ``metric`` is at or below ``maximum``."""
    __tracebackhide__ = True
    return _assert_limit(metric, y_true, prediction, None, maximum, options)


# --- internals ------------------------------------------------------------------------------


def _assert_comparison(
    mode: Mode,
    metric: MetricArg,
    y_true: ArrayLike,
    candidate: ArrayLike,
    baseline: ArrayLike,
    gain: float,
    margin: float,
    options: dict[str, Any],
) -> Comparison:
    __tracebackhide__ = True
    for key, value in (("gain", gain), ("margin", margin)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ConfigError(f"`{key}`={value!r} must be a finite number >= 0")
    result = compare(metric, y_true, candidate, baseline, boundaries=(gain, -margin), **options)
    (decision,) = decide([result], [margin], [gain], mode)
    if decision.verdict is Verdict.PROMOTE:
        return result
    if decision.verdict is Verdict.REJECT:
        verdict = f"{result.metric} of the candidate is confidently worse than the baseline by more than margin {margin:g}."
        fix = "Fix: the candidate regresses; investigate it rather than the test."
    elif mode == "superiority":
        more = f" by more than {gain:g}" if gain else ""
        why = decision.reason.removeprefix("not shown better: ")
        verdict = f"{result.metric} of the candidate is not shown better than the baseline{more}: {why}."
        fix = _fix_for_doubt(result) or _fix_for_gain(result, gain)
    else:
        verdict = (
            f"{result.metric} of the candidate is not shown within margin {margin:g} of the baseline: "
            f"{decision.reason.removeprefix('not shown non-inferior: ')}."
        )
        fix = _fix_for_doubt(result) or (
            f"Fix: raise n to ≈ {decision.n_needed:,} or widen `margin`."
            if decision.underpowered
            else "Fix: the candidate may be worse than the margin allows; raise n to tell, or widen `margin`."
        )
    raise GateFailure(_message(verdict, result, fix))


def _fix_for_doubt(result: Comparison) -> str:
    """The fix when the interval is decisive but too thin to trust ("" when it is not)."""
    if result.n < MIN_ROWS:
        return f"Fix: measure on at least {MIN_ROWS} rows."
    d = result.discordant
    if d is not None and 0 < d < MIN_DISCORDANT:
        need = math.ceil(result.n * MIN_DISCORDANT / d)
        return (
            f"Fix: the interval rests on the {d} rows where the models' labels differ; raise n to ≈ {need:,} "
            f"so that about {MIN_DISCORDANT} of them differ (at today's rate of {d} in {result.n:,})."
        )
    return ""


def _fix_for_gain(result: Comparison, gain: float) -> str:
    half = result.oriented_ci.half_width
    surplus = result.oriented_delta - gain
    beyond = f"above +{gain:g}" if result.higher_is_better else f"below -{gain:g}"
    if surplus <= 0:
        return (
            f"Fix: the observed Δ {fmt_delta(result.delta)} is not {beyond} (the required gain); more data "
            "will not help unless the true gain is larger. Use assert_not_worse to accept a tie."
        )
    # Rows for 80% power if the true gain were the observed one: the MDE scales as 1/sqrt(n).
    mde = half * (1.0 + float(norm.ppf(POWER)) / float(norm.ppf(0.5 + result.confidence / 2.0)))
    n_needed = math.ceil(result.n * (mde / surplus) ** 2)
    return (
        f"Fix: raise n to ≈ {n_needed:,} (80% power if the true Δ is {fmt_delta(result.delta)}), "
        "or lower `gain`."
    )


def _assert_limit(
    metric: str,
    y_true: ArrayLike,
    prediction: ArrayLike,
    minimum: float | None,
    maximum: float | None,
    options: dict[str, Any],
) -> Estimate:
    __tracebackhide__ = True
    pos_label = options.pop("pos_label", 1)
    seed = options.pop("seed", 0)
    y, (p,), k = _encode(metric, y_true, (prediction,), pos_label)
    limit = minimum if minimum is not None else maximum
    assert limit is not None
    est = estimate(
        metric, y, p, rng=stream(seed, f"assert-limit:{metric}"), boundaries=[limit], n_classes=k, **options
    )
    status = judge_threshold(est, minimum, maximum)
    if status == "pass":
        return est
    op = ">=" if minimum is not None else "<="
    if status == "fail":
        verdict = f"{metric} {fmt(est.value)} fails {op} {limit:g}: the whole interval is on the wrong side."
        fix = "Fix: the model does not meet the limit; improve it or revisit the limit."
    else:
        distance = abs(est.value - limit)
        need = math.ceil(est.n * (est.ci.half_width / distance) ** 2) + 1 if distance > 0 else None
        verdict = f"{metric} {op} {limit:g} is not shown: the interval straddles the limit."
        fix = (
            f"Fix: raise n to ≈ {need:,}."
            if need
            else "Fix: the estimate sits on the limit; more data will not decide."
        )
    table = plain(
        [(metric, fmt(est.value), str(est.ci), fmt(est.n), f"{op} {limit:g}")],
        ("metric", "value", f"{est.confidence:.0%} CI", "n", "limit"),
    )
    raise GateFailure(f"{verdict}\n\n{_indent(table)}\n\n{fix}")


def _message(verdict: str, c: Comparison, fix: str) -> str:
    row = (
        c.metric,
        fmt(c.candidate),
        fmt(c.baseline),
        fmt_delta(c.delta),
        f"[{fmt_delta(c.ci.low)}, {fmt_delta(c.ci.high)}]",
        fmt(c.n),
    )
    table = plain([row], ("metric", "candidate", "baseline", "Δ", f"{c.confidence:.0%} CI", "n"))
    direction = "higher" if c.higher_is_better else "lower"
    return f"{verdict}\n\n{_indent(table)}\n  ({direction} is better; {c.method})\n\n{fix}"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _same_length(*arrays: NDArray[Any]) -> None:
    lengths = [a.shape[0] if a.ndim else 0 for a in arrays]
    if len(set(lengths)) != 1:
        raise ConfigError(f"`y_true`, `candidate` and `baseline` must have the same length; got {lengths}")
    if lengths[0] == 0:
        raise DataError("`y_true` is empty: there is nothing to measure")


def _encode(
    metric: str, y_true: ArrayLike, predictions: Sequence[ArrayLike], pos_label: Any
) -> tuple[NDArray[Any], list[NDArray[Any]], int]:
    spec = METRICS.get(metric)
    if spec is None:
        raise ConfigError(f"`metric`={metric!r} must be one of {', '.join(METRICS)} or a callable")
    y = np.asarray(y_true)
    preds = [np.asarray(p) for p in predictions]
    _same_length(y, *preds)
    if spec.needs == "values":
        out = [np.asarray(p, dtype=np.float64) for p in preds]
        for name, arr in (("y_true", np.asarray(y, dtype=np.float64)), *(("prediction", p) for p in out)):
            if not np.isfinite(arr).all():
                raise DataError(
                    f"`{name}` has NaN or inf at rows {np.flatnonzero(~np.isfinite(arr))[:5].tolist()}"
                )
        return np.asarray(y, dtype=np.float64), out, 0
    if spec.needs == "scores" and preds[0].ndim == 2:
        classes = np.arange(preds[0].shape[1])
        labels = np.unique(y)
        index = {v: i for i, v in enumerate(labels)}
        if len(labels) != preds[0].shape[1]:
            raise DataError(
                f"`y_true` has {len(labels)} classes but the scores have {preds[0].shape[1]} columns"
            )
        return (
            np.array([index[v] for v in y], dtype=np.intp),
            [np.asarray(p, dtype=np.float64) for p in preds],
            classes.size,
        )
    if spec.needs == "scores":
        if set(np.unique(y).tolist()) - {pos_label} == set() or pos_label not in set(np.unique(y).tolist()):
            raise DataError(f"`y_true` must contain both the positive label {pos_label!r} and another label")
        for p in preds:
            p = np.asarray(p, dtype=np.float64)
            if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
                raise DataError("scores must be finite probabilities in [0, 1]")
        return (y == pos_label).astype(np.intp), [np.asarray(p, dtype=np.float64) for p in preds], 2
    labels = np.unique(np.concatenate([y, *preds]))
    if spec.average == "binary":
        if pos_label not in set(labels.tolist()) or len(labels) > 2:
            raise DataError(
                f"`{metric}` is binary: labels must be {pos_label!r} and one other; got {labels.tolist()}"
            )
        return (y == pos_label).astype(np.intp), [(p == pos_label).astype(np.intp) for p in preds], 2
    index = {v: i for i, v in enumerate(labels.tolist())}

    def encode(a: NDArray[Any]) -> NDArray[np.intp]:
        return np.array([index[v] for v in a.tolist()], dtype=np.intp)

    return encode(y), [encode(p) for p in preds], max(len(labels), 2)
