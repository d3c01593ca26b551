"""The live config (``mlgate-live.yaml``): prediction logs and how to judge them.

It is a file of its own, apart from the gate's ``mlgate.yaml``: the gate judges
a holdout set before release, these analyses judge the traffic after it. The
same ``Key`` description drives the validator (errors name the key and line)
and the JSON Schema (``mlgate schema live``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import Key, json_schema, read_mapping, validate_mapping, where_is
from ..errors import ConfigError

LOG_COLUMNS = (
    "timestamp",
    "arm",
    "request_id",
    "unit",
    "prediction",
    "score",
    "latency_ms",
    "error",
    "label",
)
"""Our names for the log's columns; ``logs.columns`` maps them to yours."""

CANARY_METRICS = (
    "error_rate",
    "latency_p50",
    "latency_p90",
    "latency_p95",
    "latency_p99",
    "prediction_drift",
    "accuracy",
    "mae",
)
ABTEST_TYPES = ("proportion", "mean", "quantile")
QUALITY_METRICS = ("accuracy", "mae")

_ALLOWANCE = {
    "max_increase": Key(
        "number", "Allowed rise of the canary over the control, in the metric's units.", minimum=0
    ),
    "max_relative_increase": Key(
        "number", "Allowed rise as a fraction of the control's value (0.2 = 20%).", minimum=0
    ),
    "max_decrease": Key("number", "Allowed fall (accuracy), in the metric's units.", minimum=0),
    "max": Key(
        "number", "prediction_drift only: the PSI at which the canary fails (default 0.25).", minimum=0
    ),
    "critical": Key(
        "boolean", "A critical metric that fails rolls back at once, whatever the score.", default=False
    ),
    "weight": Key("number", "Weight in the score (default 1).", minimum=0, default=1.0),
}

SEQUENTIAL_METHODS = ("mixture", "fixed")


def _sequential_key(what: str, mixture: str, default: str) -> Key:
    return Key(
        "object",
        f"Repeated looks: how the {what} rate stays within 1 − `confidence` however often the analysis runs.",
        children={
            "method": Key(
                "string",
                f"mixture: {mixture}; fixed: one look's intervals. Default: {default}.",
                enum=SEQUENTIAL_METHODS,
            ),
        },
    )


_SEQUENTIAL_CANARY = _sequential_key(
    "false-rollback",
    "always-valid normal-mixture intervals (Robbins 1970; Johari et al. 2017) and exact per-arm "
    "confidence sequences, valid at every look when each look reads the window from the canary's start "
    "(`--since` = the start), each step spending its share of 1 − `confidence`",
    "mixture with `steps`, else fixed",
)
_SEQUENTIAL_ABTEST = _sequential_key(
    "false-decision",
    "always-valid normal-mixture intervals (Robbins 1970; Johari et al. 2017): any look may decide, "
    "each reading the whole log since the test began",
    "fixed, which keeps the peeking rule",
)

_LIMITS = {
    "min": Key("number", "Lower limit, judged on the interval's upper bound (fail) and lower bound (pass)."),
    "max": Key("number", "Upper limit, judged on the interval's lower bound (fail) and upper bound (pass)."),
}

SCHEMA: dict[str, Key] = {
    "logs": Key(
        "object",
        "The prediction log that serving writes.",
        required=True,
        children={
            "path": Key(
                "string",
                "CSV, Parquet or JSON lines (.jsonl, .ndjson), relative to this file.",
                required=True,
            ),
            "format": Key(
                "string", "File format (default: from the suffix).", enum=("csv", "parquet", "jsonl")
            ),
            "columns": Key(
                "object",
                "Our column name -> yours. Ours: " + ", ".join(LOG_COLUMNS) + ".",
                values=Key("string", "Your column's name."),
            ),
            "timestamp_unit": Key(
                "string", "Unit of numeric (epoch) timestamps.", enum=("s", "ms", "us", "ns"), default="s"
            ),
            "order": Key(
                "string",
                "strict: timestamps must not go backwards (a sign of a corrupt or mixed log); any: accept.",
                enum=("strict", "any"),
                default="strict",
            ),
            "chunk_rows": Key("integer", "Rows read at a time (memory bound).", minimum=1, default=100_000),
        },
    ),
    "seed": Key("integer", "Seed of the bootstrap streams.", minimum=0, default=0),
    "confidence": Key(
        "number",
        "Two-sided confidence of every interval.",
        minimum=0,
        maximum=1,
        exclusive=True,
        default=0.95,
    ),
    "n_boot": Key("integer", "Bootstrap replicates (10,000 near a boundary).", minimum=100, default=2000),
    "canary": Key(
        "object",
        "Canary arm against the control arm over the same window.",
        children={
            "control": Key(
                "scalar", "The control (production) arm's value in the arm column.", required=True
            ),
            "canary": Key("scalar", "The canary arm's value in the arm column.", required=True),
            "min_requests": Key(
                "integer", "Per arm: with fewer, the verdict is `continue`.", minimum=1, default=500
            ),
            "min_labels": Key(
                "integer", "Per arm: quality metrics need this many labelled rows.", minimum=1, default=200
            ),
            "pass_score": Key(
                "number",
                "Score (0–100) at or above which the canary is promoted.",
                minimum=0,
                maximum=100,
                default=100,
            ),
            "marginal_score": Key(
                "number",
                "With a failed metric and a score below this, roll back.",
                minimum=0,
                maximum=100,
                default=75,
            ),
            "metrics": Key(
                "object",
                "Metric -> allowed degradation. Names: " + ", ".join(CANARY_METRICS) + ".",
                values=Key("object", "Allowed degradation.", children=_ALLOWANCE),
            ),
            "sequential": _SEQUENTIAL_CANARY,
            "steps": Key(
                "object",
                "Successive traffic steps, name -> {until: timestamp}; each is analysed on its own window.",
                values=Key(
                    "object",
                    "One step.",
                    children={"until": Key("string", "End of the step's window (ISO 8601).", required=True)},
                ),
            ),
        },
    ),
    "shadow": Key(
        "object",
        "Shadow model against production on the same requests.",
        children={
            "production": Key("scalar", "The production arm's value.", required=True),
            "shadow": Key("scalar", "The shadow arm's value.", required=True),
            "task": Key(
                "string",
                "The prediction task.",
                enum=("binary", "multiclass", "regression"),
                default="binary",
            ),
            "threshold": Key(
                "number",
                "Binary: score at or above which the label is positive.",
                minimum=0,
                maximum=1,
                default=0.5,
            ),
            "min_agreement": Key(
                "number",
                "Smallest allowed agreement rate (on the interval).",
                minimum=0,
                maximum=1,
                default=0.95,
            ),
            "max_unmatched": Key(
                "number",
                "Largest share of requests scored by only one model.",
                minimum=0,
                maximum=1,
                default=0.01,
            ),
            "max_mean_abs_difference": Key(
                "number",
                "Regression: largest allowed mean |shadow − production| (on the interval).",
                minimum=0,
            ),
            "top": Key("integer", "How many most-disagreeing requests to list.", minimum=1, default=10),
            "mode": Key(
                "string",
                "Quality decision mode, as in the gate.",
                enum=("superiority", "non-inferiority"),
                default="non-inferiority",
            ),
            "metrics": Key(
                "object",
                "Gate metrics for the labelled rows (`mlgate metrics`), name -> {margin, gain}.",
                values=Key(
                    "object",
                    "One metric.",
                    children={
                        "margin": Key("number", "Tolerated regression.", minimum=0, default=0.0),
                        "gain": Key("number", "Required gain (superiority).", minimum=0, default=0.0),
                    },
                ),
            ),
        },
    ),
    "abtest": Key(
        "object",
        "An A/B test: units split between arms, business outcomes.",
        children={
            "control": Key("scalar", "The control arm's value.", required=True),
            "treatment": Key("scalar", "The treatment arm's value.", required=True),
            "planned_units": Key(
                "integer",
                "Pre-registered units per arm; before it, results are a peek.",
                required=True,
                minimum=2,
            ),
            "split": Key(
                "object", "Planned share per arm (default equal).", values=Key("number", "Share.", minimum=0)
            ),
            "sequential": _SEQUENTIAL_ABTEST,
            "srm_alpha": Key(
                "number",
                "Sample-ratio-mismatch p-value below which the test is invalid.",
                minimum=0,
                maximum=1,
                exclusive=True,
                default=0.001,
            ),
            "metrics": Key(
                "object",
                "Outcome -> how to measure and judge it.",
                required=True,
                values=Key(
                    "object",
                    "One outcome.",
                    children={
                        "column": Key("string", "The log column holding the outcome.", required=True),
                        "type": Key("string", "What to compare.", enum=ABTEST_TYPES, required=True),
                        "q": Key(
                            "number",
                            "Quantile (type quantile).",
                            minimum=0,
                            maximum=1,
                            exclusive=True,
                            default=0.5,
                        ),
                        "higher_is_better": Key("boolean", "Direction.", default=True),
                        "min_effect": Key(
                            "number",
                            "Pre-registered minimum effect to ship (oriented, >= 0).",
                            minimum=0,
                            required=True,
                        ),
                        "margin": Key(
                            "number", "Tolerated harm before rolling back.", minimum=0, default=0.0
                        ),
                        "role": Key(
                            "string",
                            "primary: decides shipping; guardrail: can only roll back.",
                            enum=("primary", "guardrail"),
                            default="primary",
                        ),
                        "aggregate": Key(
                            "string",
                            "Per unit before comparing (default: max for proportion, sum for mean, none for quantile). "
                            "none with units that repeat compares per-request means by the delta method, "
                            "clustered by unit.",
                            enum=("sum", "mean", "max", "none"),
                        ),
                        "denominator": Key(
                            "string",
                            "Ratio metric (type mean): sum(column) / sum(denominator) per arm, e.g. revenue "
                            "per session, judged by the delta method clustered by unit.",
                        ),
                        "covariate": Key(
                            "string",
                            "CUPED: a pre-period column per unit (its mean per unit is used), fixed before "
                            "assignment; narrows the interval by its correlation with the outcome.",
                        ),
                    },
                ),
            ),
        },
    ),
    "monitor": Key(
        "object",
        "Live monitoring of the last days of logs.",
        children={
            "arm": Key("scalar", "Only rows of this arm (default: all)."),
            "days": Key(
                "number", "Window length, ending now (or --now).", minimum=0, exclusive=True, default=7
            ),
            "reference": Key(
                "string", "Reference profile (`mlgate profile`) for drift, relative to this file."
            ),
            "columns": Key(
                "array",
                "Columns to check for drift (default: the profile's that the log has).",
                items="string",
            ),
            "psi_warn": Key("number", "PSI that warns.", minimum=0, default=0.1),
            "psi_fail": Key("number", "PSI that fails.", minimum=0, default=0.25),
            "max_share": Key(
                "number",
                "Largest share of drifted input columns that passes `drift:share` (the gate's `drift.max_share`).",
                minimum=0,
                maximum=1,
                default=0.3,
            ),
            "share_counts": Key(
                "string",
                "Which columns count in that share: fail (PSI >= psi_fail) or warn (warnings too).",
                enum=("fail", "warn"),
                default="fail",
            ),
            "quality": Key(
                "object",
                "Quality on rows whose label has arrived.",
                children={
                    "metric": Key(
                        "string", "accuracy (labels) or mae (values).", enum=QUALITY_METRICS, required=True
                    ),
                    **_LIMITS,
                    "min_labels": Key(
                        "integer", "Fewer labelled rows is inconclusive.", minimum=1, default=100
                    ),
                },
            ),
            "error_rate": Key("object", "Share of requests with the error flag.", children=_LIMITS),
            "latency_p50": Key("object", "Median latency, ms.", children=_LIMITS),
            "latency_p95": Key("object", "95th percentile latency, ms.", children=_LIMITS),
            "latency_p99": Key("object", "99th percentile latency, ms.", children=_LIMITS),
            "throughput": Key(
                "object",
                "Requests per hour over the window, judged on its exact Poisson (Garwood) interval.",
                children=_LIMITS,
            ),
            "kpis": Key(
                "object",
                "Business KPIs: name -> {column, type, min, max}.",
                values=Key(
                    "object",
                    "One KPI.",
                    children={
                        "column": Key("string", "The log column.", required=True),
                        "type": Key(
                            "string", "proportion or mean.", enum=("proportion", "mean"), default="mean"
                        ),
                        **_LIMITS,
                    },
                ),
            ),
            "retrain_on": Key(
                "array",
                "Failures that ask for retraining rather than an alert: drift, quality, kpis.",
                items="string",
            ),
            "inconclusive": Key(
                "string",
                "What a check that could not tell (too few labels) makes the verdict.",
                enum=("alert", "ok"),
                default="alert",
            ),
        },
    ),
    "report": Key("string", "JSON report path (default: mlgate-<analysis>-report.json beside this file)."),
}

Analysis = Literal["canary", "shadow", "abtest", "monitor"]


@dataclass(frozen=True)
class LogSpec:
    path: Path
    format: str | None
    columns: Mapping[str, str]
    """Our name -> the column in the file (every name of ``LOG_COLUMNS``)."""
    timestamp_unit: str = "s"
    order: str = "strict"
    chunk_rows: int = 100_000

    def column(self, ours: str) -> str:
        return self.columns[ours]


@dataclass(frozen=True)
class Allowance:
    metric: str
    max_increase: float | None = None
    max_relative_increase: float | None = None
    max_decrease: float | None = None
    max: float | None = None
    critical: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class CanaryConfig:
    control: str
    canary: str
    metrics: tuple[Allowance, ...]
    min_requests: int = 500
    min_labels: int = 200
    pass_score: float = 100.0
    marginal_score: float = 75.0
    steps: tuple[tuple[str, str], ...] = ()
    sequential: str = "fixed"
    """mixture (always-valid across looks and steps) or fixed (one look)."""


@dataclass(frozen=True)
class ShadowConfig:
    production: str
    shadow: str
    task: str = "binary"
    threshold: float = 0.5
    min_agreement: float = 0.95
    max_unmatched: float = 0.01
    top: int = 10
    max_mean_abs_difference: float | None = None
    mode: str = "non-inferiority"
    metrics: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Metric -> (margin, gain)."""


@dataclass(frozen=True)
class OutcomeMetric:
    name: str
    column: str
    type: str
    min_effect: float
    q: float = 0.5
    higher_is_better: bool = True
    margin: float = 0.0
    role: str = "primary"
    aggregate: str = "none"
    denominator: str | None = None
    covariate: str | None = None


@dataclass(frozen=True)
class AbtestConfig:
    control: str
    treatment: str
    planned_units: int
    metrics: tuple[OutcomeMetric, ...]
    split: Mapping[str, float] = field(default_factory=dict)
    srm_alpha: float = 0.001
    sequential: str = "fixed"


@dataclass(frozen=True)
class Limit:
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Kpi:
    name: str
    column: str
    type: str
    limit: Limit


@dataclass(frozen=True)
class MonitorConfig:
    arm: str | None = None
    days: float = 7.0
    reference: Path | None = None
    columns: tuple[str, ...] | None = None
    psi_warn: float = 0.1
    psi_fail: float = 0.25
    max_share: float = 0.3
    share_counts: str = "fail"
    quality_metric: str | None = None
    quality: Limit = Limit()
    min_labels: int = 100
    operational: Mapping[str, Limit] = field(default_factory=dict)
    """error_rate, latency_pNN and throughput -> limits."""
    kpis: tuple[Kpi, ...] = ()
    retrain_on: tuple[str, ...] = ("drift", "quality")
    inconclusive: str = "alert"


@dataclass(frozen=True)
class LiveConfig:
    source: Path
    sha256: str
    logs: LogSpec
    seed: int = 0
    confidence: float = 0.95
    n_boot: int = 2000
    report: Path | None = None
    canary: CanaryConfig | None = None
    shadow: ShadowConfig | None = None
    abtest: AbtestConfig | None = None
    monitor: MonitorConfig | None = None

    def report_path(self, analysis: str) -> Path:
        return self.report or self.source.parent / f"mlgate-{analysis}-report.json"

    def with_canary_arms(self, *, control: str | None = None, canary: str | None = None) -> LiveConfig:
        """The config with the canary's arms replaced (``--control``/``--canary``: one config per release)."""
        from dataclasses import replace

        section: CanaryConfig = self.section("canary")
        chosen = replace(
            section,
            control=section.control if control is None else _arm(control),
            canary=section.canary if canary is None else _arm(canary),
        )
        if chosen.control == chosen.canary:
            raise ConfigError(
                f"`--canary`={chosen.canary!r} must differ from the control arm {chosen.control!r}"
            )
        return replace(self, canary=chosen)

    def section(self, analysis: Analysis) -> Any:
        found = getattr(self, analysis)
        if found is None:
            raise ConfigError(
                f"{self.source}: `{analysis}` section is missing; `mlgate {analysis}` needs one"
            )
        return found


def json_schema_live() -> dict[str, Any]:
    return json_schema(
        SCHEMA, "mlgate-live.yaml", "pytest-mlgate live analyses: canary, shadow, A/B, monitoring."
    )


def load_live_config(path: Path, overrides: Mapping[str, Any] | None = None) -> LiveConfig:
    """Read and validate a live config; errors name the key and its line."""
    raw, lines, where, sha256 = read_mapping(path)
    raw = {**raw, **(overrides or {})}
    _quote_instants(raw)
    validate_mapping(raw, SCHEMA, lines, where)
    base = path.parent

    def resolve(p: str) -> Path:
        return Path(p) if Path(p).is_absolute() else (base / p).resolve()

    logs_raw = raw["logs"]
    mapping = {name: name for name in LOG_COLUMNS}
    for ours, theirs in (logs_raw.get("columns") or {}).items():
        if ours not in LOG_COLUMNS:
            at = where_is(("logs", "columns", ours), lines, where)
            raise ConfigError(
                f"{at}: `logs.columns.{ours}` is not a log column; ours are {', '.join(LOG_COLUMNS)}"
            )
        mapping[ours] = theirs
    logs = LogSpec(
        path=resolve(logs_raw["path"]),
        format=logs_raw.get("format"),
        columns=mapping,
        timestamp_unit=logs_raw.get("timestamp_unit", "s"),
        order=logs_raw.get("order", "strict"),
        chunk_rows=int(logs_raw.get("chunk_rows", 100_000)),
    )
    return LiveConfig(
        source=path,
        sha256=sha256,
        logs=logs,
        seed=int(raw.get("seed", 0)),
        confidence=float(raw.get("confidence", 0.95)),
        n_boot=int(raw.get("n_boot", 2000)),
        report=resolve(raw["report"]) if "report" in raw else None,
        canary=_canary(raw.get("canary"), lines, where),
        shadow=_shadow(raw.get("shadow"), lines, where),
        abtest=_abtest(raw.get("abtest"), lines, where),
        monitor=_monitor(raw.get("monitor"), lines, where, resolve),
    )


def _quote_instants(raw: dict[str, Any]) -> None:
    """YAML reads an unquoted ``until: 2026-11-30T06:00:00Z`` as a datetime: take it as the text it was."""
    import datetime

    steps = (raw.get("canary") or {}).get("steps") if isinstance(raw.get("canary"), dict) else None
    if not isinstance(steps, dict):
        return
    for spec in steps.values():
        if isinstance(spec, dict) and isinstance(spec.get("until"), (datetime.date, datetime.datetime)):
            spec["until"] = spec["until"].isoformat()


def _arm(value: Any) -> str:
    """Arms are compared as text: a version logged as 2, 2.0 or "2" is one arm."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _canary(
    raw: Mapping[str, Any] | None, lines: Mapping[tuple[str, ...], int], where: str
) -> CanaryConfig | None:
    if raw is None:
        return None
    if "metrics" in raw and not raw["metrics"]:
        at = where_is(("canary", "metrics"), lines, where)
        raise ConfigError(
            f"{at}: `canary.metrics` is empty; name at least one metric, or leave the key out for the defaults"
        )
    metrics_raw = raw.get("metrics") or {
        "error_rate": {"max_increase": 0.01, "critical": True},
        "latency_p95": {"max_relative_increase": 0.2},
    }
    metrics = []
    for name, spec in metrics_raw.items():
        spec = spec or {}
        at = where_is(("canary", "metrics", name), lines, where)
        if name not in CANARY_METRICS:
            raise ConfigError(
                f"{at}: `canary.metrics.{name}` is not a canary metric; use one of {', '.join(CANARY_METRICS)}"
            )
        given = [k for k in ("max_increase", "max_relative_increase", "max_decrease", "max") if k in spec]
        allowed = {
            "error_rate": ("max_increase", "max_relative_increase"),
            "accuracy": ("max_decrease",),
            "mae": ("max_increase", "max_relative_increase"),
            "prediction_drift": ("max",),
        }.get(name, ("max_increase", "max_relative_increase"))
        wrong = [k for k in given if k not in allowed]
        if wrong or len(given) > 1:
            raise ConfigError(
                f"{at}: `canary.metrics.{name}` takes one of {', '.join(allowed)}"
                + (f"; `{wrong[0]}` does not apply to it" if wrong else f"; got {', '.join(given)}")
            )
        if not given and name != "prediction_drift":
            raise ConfigError(
                f"{at}: `canary.metrics.{name}` needs its allowed degradation: one of {', '.join(allowed)}"
            )
        metrics.append(
            Allowance(
                metric=name,
                max_increase=spec.get("max_increase"),
                max_relative_increase=spec.get("max_relative_increase"),
                max_decrease=spec.get("max_decrease"),
                max=spec.get("max", 0.25 if name == "prediction_drift" else None),
                critical=bool(spec.get("critical", False)),
                weight=float(spec.get("weight", 1.0)),
            )
        )
    if _arm(raw["control"]) == _arm(raw["canary"]):
        at = where_is(("canary", "canary"), lines, where)
        raise ConfigError(f"{at}: `canary.canary`={raw['canary']!r} must differ from `canary.control`")
    steps = tuple((str(name), str(spec["until"])) for name, spec in (raw.get("steps") or {}).items())
    marginal, passing = float(raw.get("marginal_score", 75.0)), float(raw.get("pass_score", 100.0))
    if marginal > passing:
        at = where_is(("canary", "marginal_score"), lines, where)
        raise ConfigError(
            f"{at}: `canary.marginal_score`={marginal:g} must be <= `canary.pass_score`={passing:g}"
        )
    return CanaryConfig(
        control=_arm(raw["control"]),
        canary=_arm(raw["canary"]),
        metrics=tuple(metrics),
        min_requests=int(raw.get("min_requests", 500)),
        min_labels=int(raw.get("min_labels", 200)),
        pass_score=passing,
        marginal_score=marginal,
        steps=steps,
        sequential=(raw.get("sequential") or {}).get("method", "mixture" if steps else "fixed"),
    )


def _shadow(
    raw: Mapping[str, Any] | None, lines: Mapping[tuple[str, ...], int], where: str
) -> ShadowConfig | None:
    if raw is None:
        return None
    from ..stats.metrics import METRICS

    task = raw.get("task", "binary")
    metrics: dict[str, tuple[float, float]] = {}
    for name, spec in (raw.get("metrics") or {}).items():
        spec = spec or {}
        at = where_is(("shadow", "metrics", name), lines, where)
        if name not in METRICS or task not in METRICS[name].tasks:
            known = sorted(k for k, v in METRICS.items() if task in v.tasks)
            raise ConfigError(
                f"{at}: `shadow.metrics.{name}` is not a {task} metric; use one of {', '.join(known)}"
            )
        metrics[name] = (float(spec.get("margin", 0.0)), float(spec.get("gain", 0.0)))
    if _arm(raw["production"]) == _arm(raw["shadow"]):
        at = where_is(("shadow", "shadow"), lines, where)
        raise ConfigError(f"{at}: `shadow.shadow`={raw['shadow']!r} must differ from `shadow.production`")
    return ShadowConfig(
        production=_arm(raw["production"]),
        shadow=_arm(raw["shadow"]),
        task=task,
        threshold=float(raw.get("threshold", 0.5)),
        min_agreement=float(raw.get("min_agreement", 0.95)),
        max_unmatched=float(raw.get("max_unmatched", 0.01)),
        top=int(raw.get("top", 10)),
        max_mean_abs_difference=raw.get("max_mean_abs_difference"),
        mode=raw.get("mode", "non-inferiority"),
        metrics=metrics,
    )


def _abtest(
    raw: Mapping[str, Any] | None, lines: Mapping[tuple[str, ...], int], where: str
) -> AbtestConfig | None:
    if raw is None:
        return None
    arms = (_arm(raw["control"]), _arm(raw["treatment"]))
    if arms[0] == arms[1]:
        at = where_is(("abtest", "treatment"), lines, where)
        raise ConfigError(f"{at}: `abtest.treatment`={raw['treatment']!r} must differ from `abtest.control`")
    split = {_arm(k): float(v) for k, v in (raw.get("split") or {}).items()}
    if split:
        at = where_is(("abtest", "split"), lines, where)
        if set(split) != set(arms):
            raise ConfigError(
                f"{at}: `abtest.split` must give a share for exactly the arms {arms[0]!r} and {arms[1]!r}"
            )
        if any(v <= 0 for v in split.values()):
            raise ConfigError(f"{at}: `abtest.split` shares must be > 0")
    metrics = []
    default_aggregate = {"proportion": "max", "mean": "sum", "quantile": "none"}
    for name, spec in raw["metrics"].items():
        at = where_is(("abtest", "metrics", name), lines, where)
        if spec.get("type") == "proportion" and spec.get("aggregate") in ("sum", "mean"):
            raise ConfigError(
                f"{at}: `abtest.metrics.{name}.aggregate`={spec['aggregate']!r} must be max or none for a proportion "
                "(a sum or mean per unit is no longer 0/1; use type mean for it)"
            )
        if spec.get("type") == "proportion" and spec.get("min_effect", 0) >= 1:
            raise ConfigError(
                f"{at}: `abtest.metrics.{name}.min_effect`={spec['min_effect']!r} must be < 1 for a proportion"
            )
        if spec.get("denominator") is not None and (spec.get("type") != "mean" or "aggregate" in spec):
            raise ConfigError(
                f"{at}: `abtest.metrics.{name}.denominator` makes a ratio of per-unit sums: it needs type mean "
                "and no `aggregate`"
            )
        if spec.get("covariate") is not None and spec.get("type") == "quantile":
            raise ConfigError(
                f"{at}: `abtest.metrics.{name}.covariate` (CUPED) applies to a mean or proportion"
            )
        metrics.append(
            OutcomeMetric(
                name=str(name),
                column=spec["column"],
                type=spec["type"],
                min_effect=float(spec["min_effect"]),
                q=float(spec.get("q", 0.5)),
                higher_is_better=bool(spec.get("higher_is_better", True)),
                margin=float(spec.get("margin", 0.0)),
                role=spec.get("role", "primary"),
                aggregate=spec.get("aggregate", default_aggregate[spec["type"]]),
                denominator=spec.get("denominator"),
                covariate=spec.get("covariate"),
            )
        )
    if not any(m.role == "primary" for m in metrics):
        at = where_is(("abtest", "metrics"), lines, where)
        raise ConfigError(
            f"{at}: `abtest.metrics` must hold at least one primary metric (the one that decides)"
        )
    return AbtestConfig(
        control=arms[0],
        treatment=arms[1],
        planned_units=int(raw["planned_units"]),
        metrics=tuple(metrics),
        split=split or {arms[0]: 0.5, arms[1]: 0.5},
        srm_alpha=float(raw.get("srm_alpha", 0.001)),
        sequential=(raw.get("sequential") or {}).get("method", "fixed"),
    )


def _limit(
    spec: Mapping[str, Any] | None, name: str, lines: Mapping[tuple[str, ...], int], where: str
) -> Limit:
    spec = spec or {}
    low, high = spec.get("min"), spec.get("max")
    if low is None and high is None:
        at = where_is(tuple(name.split(".")), lines, where)
        raise ConfigError(f"{at}: `{name}` needs `min` or `max`")
    if low is not None and high is not None and low > high:
        at = where_is(tuple(name.split(".")), lines, where)
        raise ConfigError(f"{at}: `{name}.min`={low!r} must be <= `{name}.max`={high!r}")
    return Limit(None if low is None else float(low), None if high is None else float(high))


def _monitor(
    raw: Mapping[str, Any] | None, lines: Mapping[tuple[str, ...], int], where: str, resolve: Any
) -> MonitorConfig | None:
    if raw is None:
        return None
    operational = {
        name: _limit(raw[name], f"monitor.{name}", lines, where)
        for name in ("error_rate", "latency_p50", "latency_p95", "latency_p99", "throughput")
        if name in raw
    }
    kpis = tuple(
        Kpi(
            str(name),
            spec["column"],
            spec.get("type", "mean"),
            _limit(spec, f"monitor.kpis.{name}", lines, where),
        )
        for name, spec in (raw.get("kpis") or {}).items()
    )
    retrain_on = tuple(raw.get("retrain_on", ("drift", "quality")))
    for item in retrain_on:
        if item not in ("drift", "quality", "kpis"):
            at = where_is(("monitor", "retrain_on"), lines, where)
            raise ConfigError(f"{at}: `monitor.retrain_on` item {item!r} must be one of drift, quality, kpis")
    quality = raw.get("quality")
    if raw.get("psi_warn", 0.1) > raw.get("psi_fail", 0.25):
        at = where_is(("monitor", "psi_warn"), lines, where)
        raise ConfigError(f"{at}: `monitor.psi_warn` must be <= `monitor.psi_fail`")
    return MonitorConfig(
        arm=None if raw.get("arm") is None else _arm(raw["arm"]),
        days=float(raw.get("days", 7)),
        reference=resolve(raw["reference"]) if "reference" in raw else None,
        columns=tuple(raw["columns"]) if "columns" in raw else None,
        psi_warn=float(raw.get("psi_warn", 0.1)),
        psi_fail=float(raw.get("psi_fail", 0.25)),
        max_share=float(raw.get("max_share", 0.3)),
        share_counts=raw.get("share_counts", "fail"),
        quality_metric=None if quality is None else quality["metric"],
        quality=Limit() if quality is None else _limit(quality, "monitor.quality", lines, where),
        min_labels=100 if quality is None else int(quality.get("min_labels", 100)),
        operational=operational,
        kpis=kpis,
        retrain_on=retrain_on,
        inconclusive=raw.get("inconclusive", "alert"),
    )
