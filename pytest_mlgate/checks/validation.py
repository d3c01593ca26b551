"""The data contract: columns, types, allowed values, ranges, nulls, freshness, rows, duplicates.

Every violation names the column, the rule, the observed value, the limit and
example rows, so the person reading a failed PR check can go straight to it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import ColumnRule, ValidationConfig
from ..errors import ConfigError
from ..profile import category_text
from ..results import CheckResult

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES = 5


def run_validation(cfg: ValidationConfig, frame: pd.DataFrame) -> list[CheckResult]:
    checks = [_columns(cfg, frame), _rows(cfg, frame)]
    if cfg.max_duplicate_fraction is not None:
        checks.append(_duplicates(cfg.max_duplicate_fraction, frame))
    now = _now(cfg.now)
    for rule in cfg.columns:
        if rule.name in frame.columns:
            checks.append(_column(rule, frame[rule.name], now))
    return [c for c in checks if c is not None]


def _check(check_id: str, violations: list[dict[str, Any]], ok_message: str, n: int) -> CheckResult:
    if violations:
        message = "; ".join(v["text"] for v in violations)
        return CheckResult(
            id=check_id,
            kind="validation",
            status="fail",
            metric="contract",
            message=message,
            n=n,
            details={"violations": violations},
        )
    return CheckResult(
        id=check_id,
        kind="validation",
        status="pass",
        metric="contract",
        message=ok_message,
        n=n,
        details={"violations": []},
    )


def _violation(
    rule: str,
    observed: Any,
    limit: Any,
    text: str,
    rows: list[int] | None = None,
    examples: list[Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": rule, "observed": observed, "limit": limit, "text": text}
    if rows is not None:
        out["rows"] = rows[:EXAMPLES]
        if rows:
            out["text"] += f" (rows {rows[:EXAMPLES]})"
    if examples:
        out["examples"] = [str(e) for e in examples[:EXAMPLES]]
        out["text"] += f", e.g. {', '.join(repr(e) for e in out['examples'][:3])}"
    return out


def _columns(cfg: ValidationConfig, frame: pd.DataFrame) -> CheckResult:
    present = {str(c) for c in frame.columns}
    violations = []
    missing = [r.name for r in cfg.columns if r.required and r.name not in present]
    if missing:
        violations.append(_violation("required", missing, [], f"required column(s) missing: {missing}"))
    if cfg.strict:
        unexpected = sorted(present - {r.name for r in cfg.columns})
        if unexpected:
            violations.append(
                _violation("strict", unexpected, [], f"columns not in the contract (strict): {unexpected}")
            )
    return _check(
        "validation:columns", violations, f"all {len(cfg.columns)} contract columns present", len(frame)
    )


def _rows(cfg: ValidationConfig, frame: pd.DataFrame) -> CheckResult | None:
    if cfg.row_min is None and cfg.row_max is None:
        return None
    n = len(frame)
    violations = []
    if cfg.row_min is not None and n < cfg.row_min:
        violations.append(_violation("row_count.min", n, cfg.row_min, f"{n:,} rows < min {cfg.row_min:,}"))
    if cfg.row_max is not None and n > cfg.row_max:
        violations.append(_violation("row_count.max", n, cfg.row_max, f"{n:,} rows > max {cfg.row_max:,}"))
    return _check("validation:rows", violations, f"{n:,} rows within bounds", n)


def _duplicates(limit: float, frame: pd.DataFrame) -> CheckResult:
    duplicated = frame.duplicated().to_numpy()
    share = float(duplicated.mean()) if len(frame) else 0.0
    violations = []
    if share > limit:
        rows = np.flatnonzero(duplicated).tolist()
        violations.append(
            _violation(
                "duplicates.max_fraction",
                share,
                limit,
                f"{int(duplicated.sum()):,} duplicate rows ({share:.2%}) > {limit:.2%}",
                rows,
            )
        )
    return _check(
        "validation:duplicates", violations, f"duplicate rows {share:.2%} ≤ {limit:.2%}", len(frame)
    )


def _column(rule: ColumnRule, series: pd.Series, now: datetime) -> CheckResult:
    import pandas as pd

    name = rule.name
    n = len(series)
    violations: list[dict[str, Any]] = []
    null = series.isna().to_numpy()
    null_share = float(null.mean()) if n else 0.0
    if null_share > rule.max_null_fraction:
        violations.append(
            _violation(
                "max_null_fraction",
                null_share,
                rule.max_null_fraction,
                f"`{name}` null fraction {null_share:.2%} > {rule.max_null_fraction:.2%}",
                np.flatnonzero(null).tolist(),
            )
        )
    present = series[~null]
    out_of_range = np.zeros(len(present), dtype=bool)
    values: Any = present
    if rule.dtype in ("numeric", "integer") or rule.min is not None or rule.max is not None:
        numeric = pd.to_numeric(present, errors="coerce")
        bad_type = numeric.isna().to_numpy()
        if rule.dtype == "integer":
            filled = numeric.fillna(0).to_numpy(dtype=np.float64)
            # Not `|=`: under copy-on-write (pandas 3) to_numpy() may hand back pandas' own read-only buffer.
            bad_type = bad_type | ~np.isclose(filled, np.round(filled))
        if bad_type.any():
            violations.append(_type_violation(name, rule.dtype or "numeric", present, bad_type))
        values = numeric.to_numpy(dtype=np.float64)
        if rule.min is not None:
            out_of_range |= values < rule.min
        if rule.max is not None:
            out_of_range |= values > rule.max
    if rule.dtype == "boolean":
        allowed_bool = {"true", "false", "0", "1", "1.0", "0.0"}
        bad = ~present.astype(str).str.lower().isin(allowed_bool).to_numpy()
        if bad.any():
            violations.append(_type_violation(name, "boolean", present, bad))
    if rule.allowed is not None:
        # The same text form on both sides: 1, 1.0 (a NaN made the column float) and "1" all match.
        allowed = set(category_text(pd.Series(list(rule.allowed), dtype=object)))
        outside = ~category_text(present).isin(allowed).to_numpy()
        out_of_range |= outside
    if out_of_range.any():
        share = float(out_of_range.sum() / max(n, 1))
        if share > rule.max_out_of_range_fraction:
            limits = []
            if rule.allowed is not None:
                limits.append(f"allowed {list(rule.allowed)[:10]}")
            if rule.min is not None or rule.max is not None:
                limits.append(f"range [{rule.min}, {rule.max}]")
            violations.append(
                _violation(
                    "max_out_of_range_fraction",
                    share,
                    rule.max_out_of_range_fraction,
                    f"`{name}` has {share:.2%} of values outside {' and '.join(limits)} > "
                    f"{rule.max_out_of_range_fraction:.2%}",
                    present.index[out_of_range].tolist(),
                    present[out_of_range].tolist(),
                )
            )
    if (rule.dtype == "datetime" or rule.max_age_seconds is not None) and pd.api.types.is_numeric_dtype(
        present.dtype
    ):
        violations.append(
            _violation(
                "dtype",
                "number",
                "datetime",
                f"`{name}` holds numbers, not timestamps: store ISO 8601 text or datetimes (the unit of a number is unknown)",
            )
        )
    elif rule.dtype == "datetime" or rule.max_age_seconds is not None:
        stamps = pd.to_datetime(present, errors="coerce", utc=True, format="mixed")
        unparsed = stamps.isna().to_numpy()
        if unparsed.any():
            violations.append(_type_violation(name, "datetime", present, unparsed))
        if rule.max_age_seconds is not None:
            newest = stamps.max()
            if pd.isna(newest):
                violations.append(
                    _violation("max_age", None, rule.max_age, f"`{name}` has no timestamp to judge freshness")
                )
            else:
                age = (now - newest.to_pydatetime()).total_seconds()
                if age > rule.max_age_seconds:
                    violations.append(
                        _violation(
                            "max_age",
                            f"{age / 3600:.1f}h",
                            rule.max_age,
                            f"`{name}` is stale: newest {newest.isoformat()} is {age / 86400:.2f} days "
                            f"old > max_age {rule.max_age}",
                        )
                    )
    return _check(f"validation:{name}", violations, f"`{name}` meets its {len(_rules_of(rule))} rule(s)", n)


def _type_violation(name: str, dtype: str, present: pd.Series, bad: np.ndarray) -> dict[str, Any]:
    """Values of ``name`` that are not of ``dtype``, with their rows and examples."""
    what = "unparseable timestamp(s)" if dtype == "datetime" else f"value(s) that are not {dtype}"
    return _violation(
        "dtype",
        dtype,
        dtype,
        f"`{name}` has {int(bad.sum()):,} {what}",
        present.index[bad].tolist(),
        present[bad].tolist(),
    )


def _rules_of(rule: ColumnRule) -> list[str]:
    return [k for k in ("dtype", "allowed", "min", "max", "max_age") if getattr(rule, k) is not None] + [
        "max_null_fraction"
    ]


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"`validation.now`={text!r} must be an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
