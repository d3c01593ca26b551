"""Intervals from sufficient statistics: moments of per-row terms and DeLong placement sums.

A distributed engine (Spark) reduces a table of any size to a few numbers per
metric: means, variances and covariances of per-row losses, or the variances of
DeLong's placement values. The functions here turn those numbers into the same
``Comparison``/``Estimate`` objects the single-machine path builds, through the
same t- and z-interval code (``paired._t_comparison`` / ``_normal_comparison``).

Only R² differs in method: on one machine it is bootstrapped over rows, which
needs the rows; from moments it gets a delta-method interval (named so in the
report), which agrees with the bootstrap to within its Monte Carlo and
second-order error at the sample sizes where moments are used (n ≥ 1,000).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from .delong import DELTA_LIMITS, MIN_PER_CLASS, auc_interval
from .metrics import METRICS
from .paired import SMALL_SAMPLE_ROWS, _normal_comparison, _t_comparison
from .result import Comparison, Estimate, Interval, Unmeasurable

FloatArray = NDArray[np.float64]


def _enough_rows(n: int, what: str) -> None:
    if n < SMALL_SAMPLE_ROWS:
        raise ValueError(
            f"{what} from moments needs n >= {SMALL_SAMPLE_ROWS} rows (got {n}); below that the gate "
            "bootstraps the rows themselves"
        )


def compare_loss_moments(
    metric: str, n: int, cand_mean: float, base_mean: float, diff_var: float, *, confidence: float = 0.95
) -> Comparison:
    """Paired t-interval on a mean loss from the two mean losses and the variance of their row differences."""
    _enough_rows(n, metric)
    se = math.sqrt(max(diff_var, 0.0) / n)
    return _t_comparison(METRICS[metric], cand_mean, base_mean, se, n, confidence)


def estimate_loss_moments(
    metric: str, n: int, mean: float, var: float, *, confidence: float = 0.95
) -> Estimate:
    """One model's mean loss (or RMSE, the root of mean squared error) with its t-interval."""
    _enough_rows(n, metric)
    se = math.sqrt(max(var, 0.0) / n)
    t = float(sps.t.ppf(0.5 + confidence / 2.0, n - 1))
    low, high = mean - t * se, mean + t * se
    if METRICS[metric].family == "rmse":
        return Estimate(
            metric, math.sqrt(mean), Interval(math.sqrt(max(low, 0.0)), math.sqrt(high)), n, "t", confidence
        )
    return Estimate(metric, mean, Interval(low, high), n, "t", confidence)


def compare_rmse_moments(
    n: int,
    cand_mse: float,
    base_mse: float,
    cand_var: float,
    base_var: float,
    cov: float,
    *,
    confidence: float = 0.95,
) -> Comparison:
    """ΔRMSE by the delta method from the moments of both models' squared errors."""
    _enough_rows(n, "rmse")
    rc, rb = math.sqrt(cand_mse), math.sqrt(base_mse)
    gc = 0.5 / rc if rc > 0 else 0.0
    gb = 0.5 / rb if rb > 0 else 0.0
    var = gc * gc * cand_var + gb * gb * base_var - 2.0 * gc * gb * cov
    se = math.sqrt(max(var, 0.0) / n)
    return _t_comparison(METRICS["rmse"], rc, rb, se, n, confidence, method="paired t (delta method)")


def _r2_parts(means: FloatArray) -> tuple[float, float, float]:
    sse_c, sse_b, y1, y2 = (float(v) for v in means)
    return sse_c, sse_b, y2 - y1 * y1


def compare_r2_moments(n: int, means: FloatArray, cov: FloatArray, *, confidence: float = 0.95) -> Comparison:
    """ΔR² with a delta-method z-interval.

    ``means`` and ``cov`` (ddof=1) are those of the per-row terms
    ``[(y − cand)², (y − base)², y, y²]``.
    """
    _enough_rows(n, "r2")
    mean = np.asarray(means, dtype=np.float64)
    sse_c, sse_b, sst = _r2_parts(mean)
    if not sst > 0:
        raise Unmeasurable("r2 is undefined: the target is constant")
    gap = sse_b - sse_c
    grad = np.array([-1.0 / sst, 1.0 / sst, 2.0 * mean[2] * gap / sst**2, -gap / sst**2])
    se = math.sqrt(max(float(grad @ np.asarray(cov) @ grad), 0.0) / n)
    comparison = _normal_comparison(
        METRICS["r2"], 1.0 - sse_c / sst, 1.0 - sse_b / sst, se, n, "paired delta method", confidence
    )
    return comparison


def estimate_r2_moments(n: int, means: FloatArray, cov: FloatArray, *, confidence: float = 0.95) -> Estimate:
    """One model's R² with a delta-method z-interval; ``means``/``cov`` as in ``compare_r2_moments``."""
    _enough_rows(n, "r2")
    mean = np.asarray(means, dtype=np.float64)
    sse, _, sst = _r2_parts(mean)
    if not sst > 0:
        raise Unmeasurable("r2 is undefined: the target is constant")
    grad = np.array([-1.0 / sst, 0.0, -2.0 * mean[2] * sse / sst**2, sse / sst**2])
    se = math.sqrt(max(float(grad @ np.asarray(cov) @ grad), 0.0) / n)
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    value = 1.0 - sse / sst
    return Estimate("r2", value, Interval(value - z * se, value + z * se), n, "delta method", confidence)


def _check_classes(positives: int, negatives: int) -> None:
    if min(positives, negatives) < MIN_PER_CLASS:
        raise Unmeasurable(
            f"ROC AUC needs at least {MIN_PER_CLASS} positive and {MIN_PER_CLASS} negative rows; "
            f"got {positives} and {negatives}"
        )


def delong_from_placements(positives: int, negatives: int, var10: float, var01: float) -> float:
    """DeLong's standard error from the variances (ddof=1) of the placement values.

    For a paired difference pass the variances of the *differences* of the two
    models' placement values, row by row.
    """
    _check_classes(positives, negatives)
    v10 = var10 if positives > 1 else 0.0
    v01 = var01 if negatives > 1 else 0.0
    return math.sqrt(max(v10 / positives + v01 / negatives, 0.0))


def compare_auc_placements(
    n: int,
    positives: int,
    negatives: int,
    cand_auc: float,
    base_auc: float,
    var10_diff: float,
    var01_diff: float,
    *,
    confidence: float = 0.95,
) -> Comparison:
    """Paired binary DeLong from both AUCs and the variances of the placement-value differences."""
    se = delong_from_placements(positives, negatives, var10_diff, var01_diff)
    return _normal_comparison(
        METRICS["roc_auc"], cand_auc, base_auc, se, n, "DeLong", confidence, limits=DELTA_LIMITS
    )


def compare_macro_auc_influence(
    n: int, cand_auc: float, base_auc: float, influence_sq_sum: float, *, confidence: float = 0.95
) -> Comparison:
    """Paired macro one-vs-rest DeLong from the sum over rows of the squared influence difference."""
    se = math.sqrt(max(influence_sq_sum, 0.0) * n / max(n - 1, 1))
    return _normal_comparison(
        METRICS["roc_auc_ovr"], cand_auc, base_auc, se, n, "DeLong", confidence, limits=DELTA_LIMITS
    )


def estimate_auc(metric: str, n: int, auc: float, se: float, *, confidence: float = 0.95) -> Estimate:
    """An AUC and its DeLong standard error as an Estimate with a z-interval."""
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    return Estimate(metric, auc, auc_interval(auc, se, z), n, "DeLong", confidence)
