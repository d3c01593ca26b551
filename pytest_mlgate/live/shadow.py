"""Shadow analysis: the shadow model scored the same requests as production, unserved.

Rows are paired by request id, so the comparison is paired like the gate's:
agreement of the two models' labels (Wilson interval against
``min_agreement``), the distribution of score differences, the requests on
which they disagree most (named in the report), and, on the rows whose label
has arrived, the gate core's paired comparison of each configured metric.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import DataError
from ..gate import comparison_result
from ..results import CheckResult, GateReport, Status
from ..stats.decision import MIN_ROWS, decide, judge_interval
from ..stats.paired import compare
from ..stats.result import Unmeasurable
from ..stats.rng import stream
from ..stats.twosample import wilson
from .common import build_report, window_text
from .config import LiveConfig, ShadowConfig
from .logs import LogReader, labels_equal


def analyse(config: LiveConfig) -> GateReport:
    cfg: ShadowConfig = config.section("shadow")
    reader = LogReader(
        config.logs,
        needed=("timestamp", "arm", "request_id"),
        optional=("prediction", "score", "label"),
        arms=(cfg.production, cfg.shadow),
        unique_per="arm",
    )
    log = reader.read()
    if "prediction" not in reader.present and "score" not in reader.present:
        raise DataError(
            f"log `{config.logs.path}` has neither `{config.logs.column('prediction')}` nor "
            f"`{config.logs.column('score')}`: a shadow comparison needs the models' outputs"
        )
    production = log[log["arm"] == cfg.production].set_index(
        log["request_id"].astype(str)[log["arm"] == cfg.production]
    )
    shadow = log[log["arm"] == cfg.shadow].set_index(log["request_id"].astype(str)[log["arm"] == cfg.shadow])
    if production.empty or shadow.empty:
        empty = cfg.production if production.empty else cfg.shadow
        raise DataError(f"log `{config.logs.path}` has no rows for arm {empty!r}: nothing to pair")
    # merge, not join: join's lsuffix/rsuffix are deprecated in pandas 3.1 and its `suffixes` is new there.
    joined = production.merge(
        shadow, how="inner", left_index=True, right_index=True, suffixes=("_production", "_shadow")
    )
    only_production = int(len(production) - len(joined))
    only_shadow = int(len(shadow) - len(joined))
    if joined.empty:
        raise DataError(
            f"log `{config.logs.path}`: no request id was scored by both arms {cfg.production!r} and {cfg.shadow!r}"
        )
    checks = [_pairing_check(cfg, len(joined), only_production, only_shadow)]
    checks.append(_agreement_check(config, cfg, joined))
    checks += _quality_checks(config, cfg, joined)
    verdict, why = _verdict(checks)
    window = window_text(log["timestamp"].min(), log["timestamp"].max())
    return build_report(
        analysis="shadow",
        verdict=verdict,
        summary=f"{verdict.upper()}: {why}",
        mode=cfg.mode,
        config=config,
        checks=checks,
        candidate=cfg.shadow,
        baseline=cfg.production,
        rows=reader.rows_read,
        window=window,
        details={
            "paired_requests": len(joined),
            "only_production": only_production,
            "only_shadow": only_shadow,
        },
    )


def _pairing_check(cfg: ShadowConfig, paired: int, only_production: int, only_shadow: int) -> CheckResult:
    total = paired + only_production + only_shadow
    share = (only_production + only_shadow) / total
    status: Status = "pass" if share <= cfg.max_unmatched else "fail"
    message = (
        f"{paired:,} requests scored by both; {only_production:,} only by production, {only_shadow:,} only by the shadow "
        f"({share:.2%} unmatched, limit {cfg.max_unmatched:.2%})"
    )
    if status == "fail":
        message += ": the shadow is not seeing the same traffic, so the comparison would be biased"
    return CheckResult(
        id="shadow:pairing",
        kind="validation",
        status=status,
        metric="unmatched_share",
        message=message,
        value=share,
        n=total,
        threshold={"max": cfg.max_unmatched},
    )


def _labels(cfg: ShadowConfig, joined: Any, side: str) -> Any:
    """A model's labels: its logged prediction, else its score against the threshold."""
    from_score = None
    if f"score_{side}" in joined:
        score = joined[f"score_{side}"]
        from_score = (score >= cfg.threshold).astype(float).where(score.notna())
    if f"prediction_{side}" not in joined:
        return from_score
    prediction = joined[f"prediction_{side}"]
    return prediction if from_score is None else prediction.where(prediction.notna(), from_score)


def _agreement_check(config: LiveConfig, cfg: ShadowConfig, joined: Any) -> CheckResult:
    import pandas as pd

    details: dict[str, Any] = {}
    has_scores = "score_production" in joined and "score_shadow" in joined
    if has_scores:
        difference = (joined["score_shadow"] - joined["score_production"]).to_numpy(dtype=np.float64)
        finite = difference[np.isfinite(difference)]
        if finite.size:
            qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            details["score_difference"] = {
                "mean": float(finite.mean()),
                "mean_abs": float(np.abs(finite).mean()),
                "max_abs": float(np.abs(finite).max()),
                "quantiles": {f"q{q:g}": float(v) for q, v in zip(qs, np.quantile(finite, qs), strict=True)},
            }
    else:
        difference = np.zeros(len(joined))
    if cfg.task == "regression":
        production = pd.to_numeric(
            joined.get("prediction_production", joined.get("score_production")), errors="coerce"
        )
        shadow = pd.to_numeric(joined.get("prediction_shadow", joined.get("score_shadow")), errors="coerce")
        gap = (shadow - production).abs().to_numpy(dtype=np.float64)
        order = np.argsort(-np.nan_to_num(gap, nan=np.inf), kind="stable")
        disagree = np.zeros(len(joined), dtype=bool)
        details["prediction_difference"] = {
            "mean_abs": float(np.nanmean(gap)),
            "max_abs": float(np.nanmax(gap)),
        }
    else:
        disagree = ~labels_equal(_labels(cfg, joined, "production"), _labels(cfg, joined, "shadow"))
        # Disagreements first, then by how far the scores moved: the rows a reviewer should read.
        order = np.lexsort((-np.abs(np.nan_to_num(difference)), ~disagree))
    top = []
    for i in order[: cfg.top]:
        row = joined.iloc[int(i)]
        entry = {
            "request_id": str(joined.index[int(i)]),
            "timestamp": row["timestamp_production"].isoformat(),
        }
        for column in ("prediction", "score"):
            for side in ("production", "shadow"):
                if f"{column}_{side}" in joined:
                    value = row[f"{column}_{side}"]
                    entry[f"{column}_{side}"] = value.item() if hasattr(value, "item") else value
        if "label_production" in joined:
            label = row["label_production"]
            entry["label"] = None if pd.isna(label) else (label.item() if hasattr(label, "item") else label)
        if cfg.task == "regression" or disagree[int(i)] or has_scores:
            top.append(entry)
    details["top_disagreements"] = top
    n = len(joined)
    if cfg.task == "regression":
        return _difference_check(config, cfg, gap, details)
    agreed = int(n - disagree.sum())
    ci = wilson(agreed, n, config.confidence)
    status: Status = judge_interval(ci, cfg.min_agreement, None) if n >= MIN_ROWS else "inconclusive"
    named = ", ".join(e["request_id"] for e in top[:5])
    message = (
        f"{int(disagree.sum()):,} of {n:,} requests ({disagree.mean():.2%}) get a different label; "
        f"agreement {agreed / n:.4f} {ci} vs min {cfg.min_agreement:g}"
    )
    if disagree.any():
        message += f"; most different: {named}"
    return CheckResult(
        id="shadow:agreement",
        kind="threshold",
        status=status,
        metric="agreement",
        message=message,
        value=agreed / n,
        ci=ci,
        n=n,
        threshold={"min": cfg.min_agreement},
        method="Wilson",
        higher_is_better=True,
        details={**details, "disagreements": int(disagree.sum())},
    )


def _difference_check(
    config: LiveConfig, cfg: ShadowConfig, gap: Any, details: dict[str, Any]
) -> CheckResult:
    """Regression: the mean |shadow − production| with a t-interval, against ``max_mean_abs_difference``."""
    import math

    from scipy import stats as sps

    from ..stats.result import Interval

    finite = gap[np.isfinite(gap)]
    n = int(finite.size)
    mean = float(finite.mean()) if n else float("nan")
    limit = cfg.max_mean_abs_difference
    base = CheckResult(
        id="shadow:agreement",
        kind="threshold",
        status="inconclusive",
        metric="mean_abs_difference",
        message="",
        value=mean,
        n=n,
        threshold={"max": limit},
        details=details,
    )
    if limit is None:
        message = (
            f"mean |shadow − production| {mean:.4g} over {n:,} requests, not judged: "
            "set `shadow.max_mean_abs_difference` to say how far apart the two may be"
        )
        return replace(base, message=message)
    if n < MIN_ROWS:
        return replace(base, message=f"only {n} paired predictions; at least {MIN_ROWS} are needed")
    half = float(sps.t.ppf(0.5 + config.confidence / 2.0, n - 1)) * float(finite.std(ddof=1)) / math.sqrt(n)
    ci = Interval(mean - half, mean + half)
    status = judge_interval(ci, None, limit)
    verb = {"pass": "within", "fail": "beyond", "inconclusive": "not shown within"}[status]
    message = f"mean |shadow − production| {mean:.4g} {ci} over {n:,} requests: {verb} the limit {limit:g}"
    return replace(base, status=status, message=message, ci=ci, method="t")


def _quality_checks(config: LiveConfig, cfg: ShadowConfig, joined: Any) -> list[CheckResult]:
    import pandas as pd

    from ..stats.metrics import METRICS

    if not cfg.metrics:
        return []
    if "label_production" not in joined:
        raise DataError(
            f"log `{config.logs.path}` has no column `{config.logs.column('label')}` (`logs.columns.label`), "
            f"which the shadow metrics {', '.join(cfg.metrics)} need"
        )
    labelled = joined[joined["label_production"].notna()]
    if len(labelled) < MIN_ROWS:
        return [
            CheckResult(
                id=f"shadow:{name}",
                kind="comparison",
                status="inconclusive",
                metric=name,
                message=f"waiting for labels: {len(labelled)} paired rows have one, at least {MIN_ROWS} are needed",
                n=len(labelled),
                threshold={"margin": margin, "gain": gain},
            )
            for name, (margin, gain) in cfg.metrics.items()
        ]
    y_raw = pd.to_numeric(labelled["label_production"], errors="coerce")
    if y_raw.isna().any():
        bad = labelled["label_production"][y_raw.isna()].iloc[0]
        raise DataError(
            f"log `{config.logs.path}`: label {bad!r} in `{config.logs.column('label')}` is not a number"
        )
    comparisons, margins, gains = [], [], []
    for name, (margin, gain) in cfg.metrics.items():
        spec = METRICS[name]
        try:
            if cfg.task == "regression":
                y = y_raw.to_numpy(dtype=np.float64)
                cand = pd.to_numeric(
                    labelled.get("prediction_shadow", labelled.get("score_shadow"))
                ).to_numpy(np.float64)
                base = pd.to_numeric(
                    labelled.get("prediction_production", labelled.get("score_production"))
                ).to_numpy(np.float64)
            else:
                if not set(np.unique(y_raw)) <= {0, 1}:
                    seen = sorted(v.item() if hasattr(v, "item") else v for v in set(np.unique(y_raw)))[:5]
                    raise DataError(
                        f"log `{config.logs.path}`: labels in `{config.logs.column('label')}` must be 0/1 for a binary shadow, "
                        f"got {seen}"
                    )
                y = y_raw.to_numpy().astype(np.intp)
                if spec.needs == "scores":
                    if "score_shadow" not in labelled:
                        raise DataError(
                            f"shadow metric `{name}` needs scores: the log has no `{config.logs.column('score')}`"
                        )
                    cand = labelled["score_shadow"].to_numpy(np.float64)
                    base = labelled["score_production"].to_numpy(np.float64)
                else:
                    cand = _label_codes(config, _labels(cfg, labelled, "shadow"), "shadow")
                    base = _label_codes(config, _labels(cfg, labelled, "production"), "production")
            comparisons.append(
                compare(
                    name,
                    y,
                    cand,
                    base,
                    rng=stream(config.seed, f"shadow:{name}"),
                    confidence=config.confidence,
                    n_boot=config.n_boot,
                    boundaries=[gain, -margin],
                )
            )
        except Unmeasurable as exc:
            raise DataError(f"shadow metric `{name}` cannot be measured on these labels: {exc}") from None
        margins.append(margin)
        gains.append(gain)
    decisions = decide(comparisons, margins, gains, cfg.mode)  # type: ignore[arg-type]
    out = []
    for c, d, margin, gain in zip(comparisons, decisions, margins, gains, strict=True):
        check = comparison_result(f"shadow:{c.metric}", c, d, margin, gain)
        out.append(replace(check, message=f"{check.message} (on {c.n:,} labelled paired requests)"))
    return out


def _label_codes(config: LiveConfig, labels: Any, side: str) -> Any:
    """A model's 0/1 labels on the labelled rows; an empty or non-0/1 one is named, never counted as wrong."""
    import pandas as pd

    codes = pd.to_numeric(labels, errors="coerce")
    bad = codes.isna() | ~codes.isin((0, 1))
    if bad.any():
        where = labels.index[bad.to_numpy()][0]
        raise DataError(
            f"log `{config.logs.path}`: the {side} model's label for request {where} is {labels[bad].iloc[0]!r}; "
            "a binary shadow needs 0/1 predictions (or scores) on every labelled request"
        )
    return codes.to_numpy().astype(np.intp)


def _verdict(checks: list[CheckResult]) -> tuple[str, str]:
    failed = [c for c in checks if c.status in ("fail", "error")]
    if failed:
        return "reject", "; ".join(f"{c.id}: {c.message}" for c in failed)[:600]
    open_ = [c for c in checks if c.status != "pass"]
    if open_:
        return "keep", "not shown: " + ", ".join(c.id for c in open_)
    return "promote", f"all {len(checks)} checks pass"
