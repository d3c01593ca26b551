"""The fairness check: per-group rates, disparity bounds, non-regression against the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import FairnessConfig
from ..errors import DataError
from ..io.callables import load_callable
from ..results import CheckResult, Status
from ..stats.decision import FloorStatus, judge_interval
from ..stats.groups import Disparity, callable_disparity, disparities, group_cells
from ..stats.rng import stream

if TYPE_CHECKING:
    import pandas as pd

MISSING_GROUP = "<missing>"
MAX_GROUPS_PER_COLUMN = 50
SHOWN_GROUPS = 10
FOUR_FIFTHS = 0.8


def group_labels(cfg: FairnessConfig, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Integer group codes and names; several sensitive columns give intersectional groups."""
    import pandas as pd

    codes = np.zeros(len(frame), dtype=np.int64)
    names_per_column: list[list[str]] = []
    for column in cfg.sensitive:
        if column not in frame.columns:
            raise DataError(
                f"`fairness.sensitive`: column `{column}` is not in the data (columns: {', '.join(map(str, frame.columns))})"
            )
        values = frame[column]
        missing = values.isna().to_numpy()
        if missing.any() and cfg.missing == "error":
            rows = np.flatnonzero(missing)[:5].tolist()
            raise DataError(
                f"sensitive column `{column}` has {int(missing.sum())} missing value(s) (rows {rows}); "
                "set `fairness.missing: group` to treat them as a group of their own"
            )
        # factorize hashes in C; NaN gets code -1, which becomes the "<missing>" group.
        column_codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if len(uniques) > MAX_GROUPS_PER_COLUMN:
            raise DataError(
                f"sensitive column `{column}` has {len(uniques)} distinct values; fairness compares groups, "
                f"so bin it into at most {MAX_GROUPS_PER_COLUMN} groups first (an age column into age bands, say)"
            )
        names = [str(u) for u in uniques] + [MISSING_GROUP]
        column_codes = np.where(column_codes < 0, len(uniques), column_codes)
        codes = codes * len(names) + column_codes
        prefix = f"{column}=" if len(cfg.sensitive) > 1 else ""
        names_per_column.append([prefix + n for n in names])
    used, compact = np.unique(codes, return_inverse=True)
    if used.size < 2:
        raise DataError(
            f"`fairness.sensitive` {list(cfg.sensitive)} gives a single group in the data: there is nothing to compare"
        )
    labels = [_decode(int(code), names_per_column) for code in used]
    order = sorted(range(used.size), key=lambda i: labels[i])
    rank = np.empty(used.size, dtype=np.intp)
    rank[order] = np.arange(used.size)
    return rank[compact].astype(np.intp), [labels[i] for i in order]


def _decode(code: int, names_per_column: list[list[str]]) -> str:
    """Mixed-radix code of an intersectional group back to "a=x, b=y" (only for groups present)."""
    parts = []
    for names in reversed(names_per_column):
        code, digit = divmod(code, len(names))
        parts.append(names[digit])
    return ", ".join(reversed(parts))


def run_fairness(
    cfg: FairnessConfig,
    frame: pd.DataFrame,
    y: np.ndarray,
    candidate: np.ndarray,
    baseline: np.ndarray | None,
    *,
    seed: int,
    n_boot: int,
    confidence: float,
    base_dir: Path | None = None,
) -> list[CheckResult]:
    codes, names = group_labels(cfg, frame)
    with_baseline = baseline is not None
    builtin = [m for m in cfg.metrics if ":" not in m]
    cells = group_cells(codes, len(names), y, candidate, baseline if baseline is not None else candidate)
    results = disparities(
        cells,
        names,
        builtin,
        rng=stream(seed, "fairness"),
        n_boot=n_boot,
        confidence=confidence,
        min_group_size=cfg.min_group_size,
        max_half_width=cfg.max_half_width,
        with_baseline=with_baseline,
    )
    for spec in (m for m in cfg.metrics if ":" in m):
        fn = load_callable(spec, "fairness.metrics", base_dir)
        results.append(
            callable_disparity(
                spec,
                fn,
                codes,
                names,
                y,
                candidate,
                baseline,
                rng=stream(seed, f"fairness:{spec}"),
                n_boot=n_boot,
                confidence=confidence,
                min_group_size=cfg.min_group_size,
                max_half_width=cfg.max_half_width,
            )
        )
    return [_judge(cfg, d, with_baseline) for d in results]


def _judge(cfg: FairnessConfig, d: Disparity, with_baseline: bool) -> CheckResult:
    verdicts: list[tuple[Status, str]] = []
    sufficient = [g for g in d.groups if g.sufficient]
    insufficient = [g for g in d.groups if not g.sufficient]
    if len(sufficient) < 2:
        verdicts.append(("inconclusive", f"only {len(sufficient)} group(s) have enough data to compare"))
    else:
        low, high = d.difference_ci
        if cfg.max_difference is not None:
            limit = cfg.max_difference
            verdicts.append(
                _judged(
                    judge_interval(d.difference_ci, None, limit),
                    fail=f"difference {d.difference:.3f} CI [{low:.3f}, {high:.3f}] is above {limit}",
                    ok=f"difference ≤ {limit} (upper bound {high:.3f})",
                    unsure=f"difference CI [{low:.3f}, {high:.3f}] straddles {limit}",
                )
            )
        min_ratio = cfg.min_ratio
        if cfg.four_fifths and d.metric == "selection_rate":
            min_ratio = max(min_ratio or 0.0, FOUR_FIFTHS)
        if min_ratio is not None:
            r_low, r_high = d.ratio_ci
            verdicts.append(
                _judged(
                    judge_interval(d.ratio_ci, min_ratio, None),
                    fail=f"ratio {d.ratio:.3f} CI [{r_low:.3f}, {r_high:.3f}] is below {min_ratio}",
                    ok=f"ratio ≥ {min_ratio} (lower bound {r_low:.3f})",
                    unsure=f"ratio CI [{r_low:.3f}, {r_high:.3f}] straddles {min_ratio}",
                )
            )
        if with_baseline and cfg.max_regression is not None and d.growth_ci is not None:
            g_low, g_high = d.growth_ci
            limit = cfg.max_regression
            verdicts.append(
                _judged(
                    judge_interval(d.growth_ci, None, limit),
                    fail=f"disparity grew over the baseline's: growth CI [{g_low:.3f}, {g_high:.3f}] > {limit}",
                    ok=f"no disparity regression (growth upper bound {g_high:.3f} ≤ {limit})",
                    unsure=f"disparity growth CI [{g_low:.3f}, {g_high:.3f}] straddles {limit}",
                )
            )
    order: dict[Status, int] = {"pass": 0, "warn": 1, "inconclusive": 2, "fail": 3, "error": 4}
    status: Status = max((v[0] for v in verdicts), key=lambda s: order[s], default="inconclusive")
    if not verdicts:
        verdicts.append(("inconclusive", "no fairness limit is configured"))
    message = "; ".join(text for _, text in verdicts)
    if not with_baseline and cfg.max_regression is not None:
        message += "; non-regression not checked: no baseline"
    if insufficient:
        shown = ", ".join(f"{g.group} ({g.reason})" for g in insufficient[:SHOWN_GROUPS])
        more = f" and {len(insufficient) - SHOWN_GROUPS} more" if len(insufficient) > SHOWN_GROUPS else ""
        message += f"; insufficient_data: {shown}{more}"
    return CheckResult(
        id=f"fairness:{d.metric}",
        kind="fairness",
        status=status,
        metric=d.metric,
        message=message,
        value=d.difference,
        baseline=d.baseline_difference,
        delta=None if d.baseline_difference is None else d.difference - d.baseline_difference,
        ci=d.difference_ci,
        n=sum(g.n for g in d.groups),
        threshold={
            "max_difference": cfg.max_difference,
            "min_ratio": cfg.min_ratio,
            "max_regression": cfg.max_regression,
        },
        n_boot=d.n_boot,
        method=d.method,
        details=_details(d),
    )


def _judged(status: FloorStatus, *, fail: str, ok: str, unsure: str) -> tuple[Status, str]:
    """The one interval judge's status with this limit's own wording."""
    return status, {"fail": fail, "pass": ok, "inconclusive": unsure}[status]


def _details(d: Disparity) -> dict[str, Any]:
    return {
        "ratio": d.ratio,
        "ratio_ci": list(d.ratio_ci),
        "baseline_difference_ci": None
        if d.baseline_difference_ci is None
        else list(d.baseline_difference_ci),
        "growth_ci": None if d.growth_ci is None else list(d.growth_ci),
        "groups": [
            {
                "group": g.group,
                "n": g.n,
                "candidate": g.candidate,
                "candidate_ci": list(g.candidate_ci),
                "baseline": g.baseline,
                "baseline_ci": None if g.baseline_ci is None else list(g.baseline_ci),
                "status": "ok" if g.sufficient else "insufficient_data",
                "reason": g.reason,
            }
            for g in d.groups
        ],
    }
