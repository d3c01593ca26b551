"""Operational health: inference latency, throughput, peak memory and size on disk.

Candidate and baseline are timed in the same process, interleaved round by
round (the order alternates) after a warm-up, so drift in machine load hits
both alike. Quantile intervals come from the bootstrap over calls. When the
per-round medians vary too much (coefficient of variation above ``max_cv``)
the machine is too noisy to decide and the result is ``inconclusive``, never a
flaky failure. The clock is a parameter, so the logic is tested with a fake one.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .stats.result import Interval

if TYPE_CHECKING:
    import pandas as pd

Clock = Callable[[], float]
Predict = Callable[["pd.DataFrame"], Any]
Status = Literal["pass", "fail", "inconclusive"]
QUANTILES = (0.50, 0.95, 0.99)


@dataclass(frozen=True)
class Timings:
    """Seconds per call of one model at one batch size, one row per round."""

    per_round: NDArray[np.float64]

    @property
    def calls(self) -> NDArray[np.float64]:
        return self.per_round.ravel()

    @property
    def round_medians(self) -> NDArray[np.float64]:
        return np.asarray(np.median(self.per_round, axis=1), dtype=np.float64)


@dataclass(frozen=True)
class LatencyComparison:
    batch_size: int
    status: Status
    message: str
    candidate_ms: dict[str, tuple[float, Interval]]
    """p50/p95/p99 in milliseconds, each with its bootstrap interval."""
    baseline_ms: dict[str, tuple[float, Interval]]
    slowdown: float
    """Candidate median / baseline median."""
    slowdown_ci: Interval
    cv: float
    rows_per_second: tuple[float, float]
    """Throughput of candidate and baseline at this batch size."""


def measure(
    candidate: Predict,
    baseline: Predict,
    inputs: pd.DataFrame,
    *,
    batch_size: int = 1,
    rounds: int = 7,
    calls: int = 30,
    warmup: int = 3,
    clock: Clock = time.perf_counter,
) -> tuple[Timings, Timings]:
    """Time both models on ``batch_size`` rows at a time, interleaved by round."""
    if batch_size < 1 or rounds < 2 or calls < 1 or warmup < 0:
        raise ConfigError(
            f"`batch_size`={batch_size}, `rounds`={rounds}, `calls`={calls} and `warmup`={warmup} must be >= 1, >= 2, >= 1, >= 0"
        )
    if len(inputs) == 0:
        raise ConfigError("latency needs at least one input row")
    batches = [
        inputs.iloc[[(i * batch_size + j) % len(inputs) for j in range(batch_size)]] for i in range(calls)
    ]
    for model in (candidate, baseline):
        for batch in batches[:warmup]:
            model(batch)
    times: dict[int, list[list[float]]] = {0: [], 1: []}
    models = (candidate, baseline)
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for which in order:
            spent = []
            for batch in batches:
                start = clock()
                models[which](batch)
                spent.append(clock() - start)
            times[which].append(spent)
    out = []
    for which in (0, 1):
        out.append(Timings(np.asarray(times[which], dtype=np.float64)))
    return out[0], out[1]


def compare_latency(
    candidate: Timings,
    baseline: Timings,
    *,
    batch_size: int,
    max_slowdown: float = 1.5,
    max_p95_ms: float | None = None,
    max_cv: float = 0.25,
    rng: np.random.Generator,
    n_boot: int = 1000,
    confidence: float = 0.95,
) -> LatencyComparison:
    """Judge the candidate's latency against an allowed slowdown and an optional absolute p95 limit."""
    from scipy import stats as sps

    alpha = 1.0 - confidence
    qs = [alpha / 2.0, 1.0 - alpha / 2.0]
    rounds = candidate.per_round.shape[0]

    def quantile_reps(timings: Timings) -> NDArray[np.float64]:
        # Resample whole rounds: calls within a round share the machine's state, so they are not independent.
        picks = rng.integers(0, rounds, size=(n_boot, rounds))
        pooled = timings.per_round[picks].reshape(n_boot, -1)
        return np.asarray(np.quantile(pooled, QUANTILES, axis=1), dtype=np.float64)  # (3, n_boot)

    reps_c, reps_b = quantile_reps(candidate), quantile_reps(baseline)

    def summary(calls: NDArray[np.float64], reps: NDArray[np.float64]) -> dict[str, tuple[float, Interval]]:
        out = {}
        for i, q in enumerate(QUANTILES):
            low, high = np.quantile(reps[i], qs)
            out[f"p{round(q * 100)}"] = (
                float(np.quantile(calls, q)) * 1e3,
                Interval(float(low) * 1e3, float(high) * 1e3),
            )
        return out

    # Paired by round: the interleaving makes load hit both models of a round alike, so the
    # per-round ratio cancels it. A t-interval on log ratios across rounds.
    base_medians = baseline.round_medians
    if np.any(base_medians <= 0) or np.any(candidate.round_medians <= 0):
        raise ConfigError("latency needs positive timings; is the clock moving?")
    log_ratio = np.log(candidate.round_medians / base_medians)
    centre, spread = float(log_ratio.mean()), float(log_ratio.std(ddof=1))
    t = float(sps.t.ppf(1.0 - alpha / 2.0, rounds - 1))
    slowdown = float(np.exp(centre))
    ratio_ci = Interval(
        float(np.exp(centre - t * spread / np.sqrt(rounds))),
        float(np.exp(centre + t * spread / np.sqrt(rounds))),
    )
    ratios = np.exp(log_ratio)
    cv = float(ratios.std(ddof=1) / ratios.mean())
    cand_ms, base_ms = summary(candidate.calls, reps_c), summary(baseline.calls, reps_b)
    verdicts: list[tuple[Status, str]] = []
    if cv > max_cv:
        verdicts.append(
            ("inconclusive", f"the machine is too noisy to judge: round-to-round CV {cv:.2f} > {max_cv}")
        )
    else:
        if ratio_ci.low > max_slowdown:
            verdicts.append(
                (
                    "fail",
                    f"{slowdown:.2f}× slower than the baseline, CI [{ratio_ci.low:.2f}, {ratio_ci.high:.2f}] > {max_slowdown}×",
                )
            )
        elif ratio_ci.high <= max_slowdown:
            verdicts.append(
                (
                    "pass",
                    f"{slowdown:.2f}× the baseline's median, CI [{ratio_ci.low:.2f}, {ratio_ci.high:.2f}] ≤ {max_slowdown}×",
                )
            )
        else:
            verdicts.append(
                (
                    "inconclusive",
                    f"slowdown CI [{ratio_ci.low:.2f}, {ratio_ci.high:.2f}] straddles {max_slowdown}×",
                )
            )
        if max_p95_ms is not None:
            p95, p95_ci = cand_ms["p95"]
            if p95_ci.low > max_p95_ms:
                verdicts.append(("fail", f"p95 {p95:.3g} ms, CI above the {max_p95_ms} ms limit"))
            elif p95_ci.high <= max_p95_ms:
                verdicts.append(("pass", f"p95 {p95:.3g} ms ≤ {max_p95_ms} ms"))
            else:
                verdicts.append(
                    (
                        "inconclusive",
                        f"p95 CI [{p95_ci.low:.3g}, {p95_ci.high:.3g}] ms straddles {max_p95_ms} ms",
                    )
                )
    order = {"pass": 0, "inconclusive": 1, "fail": 2}
    status: Status = max((v[0] for v in verdicts), key=lambda s: order[s])
    throughput = tuple(
        batch_size / float(np.median(t.calls)) if np.median(t.calls) > 0 else float("inf")
        for t in (candidate, baseline)
    )
    return LatencyComparison(
        batch_size=batch_size,
        status=status,
        message="; ".join(text for _, text in verdicts),
        candidate_ms=cand_ms,
        baseline_ms=base_ms,
        slowdown=slowdown,
        slowdown_ci=ratio_ci,
        cv=cv,
        rows_per_second=(throughput[0], throughput[1]),
    )


def peak_memory_mib(predict: Predict, inputs: pd.DataFrame) -> float:
    """Peak Python-visible memory (numpy buffers included) of one prediction call, in MiB."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    else:
        tracemalloc.reset_peak()  # someone else is tracing: measure from here, leave it running
    try:
        before = tracemalloc.get_traced_memory()[0]
        predict(inputs)
        return max(tracemalloc.get_traced_memory()[1] - before, 0) / 2**20
    finally:
        if started:
            tracemalloc.stop()
