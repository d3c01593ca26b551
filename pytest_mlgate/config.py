"""Configuration: ``mlgate.yaml`` or ``[tool.mlgate]`` into frozen dataclasses.

One declarative description of the keys (``_SCHEMA``) drives both the
validator, whose errors name the key and the line, and the published JSON
Schema, so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from .errors import ConfigError
from .inputs import MAX_CONFIG_BYTES, MAX_DEPTH, load_yaml, read_text, too_deep

if TYPE_CHECKING:
    from .checks.deepchecks import DeepchecksConfig
    from .llm.config import LlmConfig

CONFIG_NAMES = ("mlgate.yaml", "mlgate.yml")
Task = Literal["binary", "multiclass", "regression", "llm"]
FailOn = Literal["reject", "keep", "never"]


# --- the schema -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One configuration key: its JSON type, constraints and documentation."""

    type: str  # "string" | "number" | "integer" | "boolean" | "object" | "array" | "scalar"
    doc: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False
    children: Mapping[str, Key] | None = None
    values: Key | None = None  # for objects with free-form names (metrics, class->column)
    items: str | None = None  # item type of arrays
    default: Any = None


_SOURCE = {
    "column": Key("string", "Column holding the predictions (in the data, or in `file`)."),
    "columns": Key(
        "object",
        "Multiclass probabilities: class label -> column name.",
        values=Key("string", "Column with P(class)."),
    ),
    "file": Key("string", "Predictions file (CSV or Parquet) with the same rows as the data."),
    "model": Key(
        "string",
        "Model file (.skops, .onnx, or .joblib/.pkl with `trust: true`), or an MLflow model URI: "
        "`models:/name@alias`, `models:/name/3` or `runs:/<run id>/model` (needs `trust: true`).",
    ),
    "trust": Key(
        "boolean",
        "Allow loading a pickle or joblib file, skops types not on skops' trusted list, or an MLflow "
        "model (its loader runs code). Unpickling runs arbitrary code: only trust models you produced.",
        default=False,
    ),
    "type": Key(
        "string",
        "What `column` holds.",
        enum=("probability", "label", "value"),
    ),
    "name": Key("string", "Identity shown in the report (default: derived from the source)."),
    "features": Key(
        "array",
        "Columns this `model` is given, in order (default: the model's own `feature_names_in_`, "
        "else `data.features`), for a candidate and a baseline trained on different columns.",
        items="string",
    ),
}

_METRIC = {
    "margin": Key("number", "Tolerated regression m >= 0, in the metric's units.", minimum=0, default=0.0),
    "gain": Key(
        "number", "Required improvement g >= 0 to promote (superiority mode).", minimum=0, default=0.0
    ),
    "min": Key("number", "Absolute floor: pass when the interval's lower bound is >= min."),
    "max": Key("number", "Absolute ceiling: pass when the interval's upper bound is <= max."),
    "callable": Key("string", "A user metric `module:function(y_true, y_pred) -> float`."),
    "higher_is_better": Key("boolean", "Direction of a user metric.", default=True),
    "needs": Key("string", "What a user metric receives as y_pred.", enum=("labels", "scores")),
}

_SCHEMA: dict[str, Key] = {
    "task": Key(
        "string",
        "The prediction task (`llm`: an LLM application judged on its `llm:` golden set alone).",
        required=True,
        enum=("binary", "multiclass", "regression", "llm"),
    ),
    "data": Key(
        "object",
        "The evaluation (holdout) data (required unless `task: llm`).",
        children={
            "path": Key(
                "string",
                "CSV or Parquet file, relative to the config file (with `engine: spark`, a Parquet or Delta folder; "
                "required unless `table` or `query` is set).",
            ),
            "target": Key("string", "Column with the true labels or values.", required=True),
            "engine": Key(
                "string",
                "Where the data is read and reduced: `pandas` on this machine, or `spark` (the `spark` extra).",
                enum=("pandas", "spark"),
                default="pandas",
            ),
            "table": Key("string", "With `engine: spark`: a table in the Spark catalog."),
            "query": Key("string", "With `engine: spark`: a Spark SQL query whose result is the data."),
            "format": Key(
                "string",
                "File format (default: from the suffix; with `engine: spark`, `delta` for a folder that "
                "holds `_delta_log/`, else `parquet`).",
                enum=("csv", "parquet", "delta"),
            ),
            "features": Key(
                "array", "Model input columns (default: all but target and predictions).", items="string"
            ),
            "id": Key(
                "string",
                "Column that names a row, shown beside the rows where the models disagree most in the "
                "HTML report (never given to a model).",
            ),
            "version": Key(
                "integer",
                "With `engine: spark` and a Delta table in `path`: the table version to read "
                "(default: the latest).",
                minimum=0,
            ),
        },
    ),
    "candidate": Key("object", "Where the candidate's predictions come from.", children=_SOURCE),
    "baseline": Key("object", "Where the production model's predictions come from.", children=_SOURCE),
    "positive_label": Key("scalar", "The positive class of a binary task (default 1 or True)."),
    "labels": Key(
        "array", "Class labels in order (multiclass; default: sorted labels seen).", items="scalar"
    ),
    "threshold": Key(
        "number",
        "Probability at or above which a binary prediction is positive.",
        minimum=0,
        maximum=1,
        exclusive=True,
        default=0.5,
    ),
    "mode": Key(
        "string",
        "superiority: promote when L > gain; non-inferiority: promote when L > -margin.",
        enum=("superiority", "non-inferiority"),
        default="superiority",
    ),
    "confidence": Key(
        "number", "Two-sided confidence level.", minimum=0.5, maximum=1, exclusive=True, default=0.95
    ),
    "n_boot": Key(
        "integer", "Bootstrap replicates (topped up to 10,000 near a boundary).", minimum=200, default=2000
    ),
    "seed": Key("integer", "Seed of every random stream.", minimum=0, default=0),
    "fail_on": Key(
        "string", "Which decision fails the run.", enum=("reject", "keep", "never"), default="reject"
    ),
    "report": Key(
        "object",
        "Report output.",
        children={
            "path": Key("string", "JSON report path.", default="mlgate-report.json"),
            "plots": Key(
                "boolean",
                "Summarise the predictions into the report's `plots` section (the HTML figures); false "
                "leaves it out (pytest: --mlgate-no-plots, CLI: --no-plots).",
                default=True,
            ),
        },
    ),
    "mlflow": Key(
        "object",
        "The MLflow tracking server and registry, for `models:/` and `runs:/` sources and for promotion.",
        children={
            "tracking_uri": Key(
                "string",
                "Tracking URI (default: $MLFLOW_TRACKING_URI, else the embedded store "
                "sqlite:///mlflow.db next to the config, with artifacts in ./mlartifacts).",
            ),
            "alias": Key("string", "The production alias that `mlgate promote` moves.", default="champion"),
            "log": Key(
                "boolean",
                "Log the report, the figures and the provenance tags to the candidate's run and version.",
                default=True,
            ),
        },
    ),
    "metrics": Key(
        "object",
        "Metrics to compare, by name (see `mlgate metrics`), each with margin, gain, min and max.",
        values=Key("object", "One metric's limits.", children=_METRIC),
    ),
    "drift": Key(
        "object",
        "Drift of the current data against a reference (data file or `mlgate profile` JSON).",
        children={
            "reference": Key("string", "Reference data (CSV/Parquet) or profile (.json).", required=True),
            "current": Key("string", "Current data (default: `data.path`)."),
            "columns": Key("array", "Columns to compare (default: every reference column).", items="string"),
            "prediction": Key("string", "A score column present in both, for prediction drift."),
            "psi_warn": Key("number", "PSI at which a significant drift warns.", minimum=0, default=0.1),
            "psi_fail": Key("number", "PSI at which a significant drift fails.", minimum=0, default=0.25),
            "js": Key(
                "number", "Jensen–Shannon (bits) at which a significant drift warns.", minimum=0, default=0.1
            ),
            "w1": Key(
                "number", "W1/σ_ref at which a significant numeric drift warns.", minimum=0, default=0.1
            ),
            "share_change": Key(
                "number",
                "Change of any bin's share at which a significant drift warns.",
                minimum=0,
                default=0.05,
            ),
            "q": Key(
                "number", "Benjamini–Hochberg FDR level.", minimum=0, maximum=1, exclusive=True, default=0.05
            ),
            "max_share": Key(
                "number", "Largest share of drifted columns that passes.", minimum=0, maximum=1, default=0.3
            ),
        },
    ),
    "validation": Key(
        "object",
        "A data contract for the current data.",
        children={
            "contract": Key("string", "YAML file with this section's keys (inline keys override it)."),
            "data": Key("string", "Table to validate (default: `data.path`)."),
            "row_count": Key(
                "object",
                "Bounds on the number of rows.",
                children={
                    "min": Key("integer", "Fewest rows.", minimum=0),
                    "max": Key("integer", "Most rows.", minimum=0),
                },
            ),
            "duplicates": Key(
                "object",
                "Duplicate rows.",
                children={
                    "max_fraction": Key("number", "Largest share of duplicate rows.", minimum=0, maximum=1)
                },
            ),
            "strict": Key("boolean", "Fail on columns the contract does not list.", default=False),
            "now": Key("string", "Reference time for freshness (ISO 8601; default: the clock, UTC)."),
            "columns": Key(
                "object",
                "Rules per column.",
                values=Key(
                    "object",
                    "One column's rules.",
                    children={
                        "dtype": Key(
                            "string",
                            "Expected type.",
                            enum=("numeric", "integer", "categorical", "string", "boolean", "datetime"),
                        ),
                        "required": Key("boolean", "The column must exist.", default=True),
                        "allowed": Key("array", "Allowed values.", items="scalar"),
                        "min": Key("number", "Smallest allowed value."),
                        "max": Key("number", "Largest allowed value."),
                        "max_null_fraction": Key(
                            "number", "Largest share of nulls.", minimum=0, maximum=1, default=0.0
                        ),
                        "max_out_of_range_fraction": Key(
                            "number",
                            "Largest share outside `allowed`/`min`/`max`.",
                            minimum=0,
                            maximum=1,
                            default=0.0,
                        ),
                        "max_age": Key(
                            "string", "Freshness: newest timestamp within this age, e.g. 36h, 7d."
                        ),
                    },
                ),
            ),
        },
    ),
    "regression": Key(
        "object",
        "Golden cases by name: known inputs whose expected outputs the candidate model must reproduce.",
        values=Key(
            "object",
            "One golden file.",
            children={
                "golden": Key(
                    "string", "Golden file (JSON, CSV or Parquet), written by --mlgate-update.", required=True
                ),
                "atol": Key(
                    "number", "Absolute tolerance on scores (always required).", required=True, minimum=0
                ),
                "rtol": Key("number", "Relative tolerance on scores.", minimum=0, default=0.0),
                "flip_budget": Key(
                    "integer",
                    "Labels allowed to change where the score is clear of the threshold.",
                    minimum=0,
                    default=0,
                ),
            },
        ),
    ),
    "properties": Key(
        "object",
        "Property-based tests of the candidate model (hypothesis), on rows of the evaluation data.",
        children={
            "monotonic": Key(
                "object",
                "Feature -> direction the score must follow.",
                values=Key("string", "Direction.", enum=("increasing", "decreasing")),
            ),
            "invariant": Key("array", "Features that must not move the score.", items="string"),
            "atol": Key(
                "number", "Score tolerance for invariance and monotonicity.", minimum=0, default=1e-6
            ),
            "robust": Key(
                "object",
                "Noise on numeric features must flip at most this share of labels.",
                children={
                    "noise": Key("number", "Noise as a share of each column's σ.", minimum=0, default=0.01),
                    "max_flip_rate": Key(
                        "number", "Largest share of flipped labels.", minimum=0, maximum=1, default=0.01
                    ),
                },
            ),
            "max_examples": Key("integer", "Examples hypothesis tries per property.", minimum=1, default=100),
        },
    ),
    "operational": Key(
        "object",
        "Latency, throughput, memory and size of the candidate model against the baseline model.",
        children={
            "batch_size": Key(
                "integer",
                "Rows per call for the batch measurement (batch 1 is always timed).",
                minimum=1,
                default=256,
            ),
            "rounds": Key("integer", "Interleaved rounds (the order alternates).", minimum=2, default=7),
            "calls": Key("integer", "Timed calls per model and round.", minimum=1, default=30),
            "max_slowdown": Key(
                "number", "Largest allowed candidate/baseline median latency ratio.", minimum=1, default=1.5
            ),
            "max_p95_ms": Key("number", "Absolute p95 limit at batch size 1, in milliseconds.", minimum=0),
            "max_cv": Key(
                "number",
                "Round-to-round variation above which the result is inconclusive.",
                minimum=0,
                default=0.25,
            ),
        },
    ),
    "slices": Key(
        "array",
        "Columns to break the report's metrics down by (many-valued numbers in quantile bins); "
        "the fairness columns are added. Shown in the HTML report, not judged.",
        items="string",
    ),
    "fairness": Key(
        "object",
        "Per-group metrics and their disparity (binary tasks).",
        children={
            "sensitive": Key(
                "array",
                "Sensitive columns; several give intersectional groups.",
                required=True,
                items="string",
            ),
            "metrics": Key(
                "array",
                "Per-group metrics: fairlearn names, or `module:function(y_true, y_pred)`.",
                items="string",
            ),
            "max_difference": Key(
                "number", "Largest allowed max−min disparity (on the upper bound).", minimum=0, default=0.1
            ),
            "min_ratio": Key(
                "number", "Smallest allowed min/max ratio (on the lower bound).", minimum=0, maximum=1
            ),
            "four_fifths": Key(
                "boolean", "Apply the four-fifths rule to selection_rate's ratio bound.", default=False
            ),
            "max_regression": Key(
                "number",
                "Largest allowed growth of disparity over the baseline's (upper bound).",
                minimum=0,
                default=0.02,
            ),
            "min_group_size": Key("integer", "Smaller groups are insufficient_data.", minimum=1, default=30),
            "max_half_width": Key(
                "number", "Wider per-group intervals are insufficient_data.", minimum=0, default=0.1
            ),
            "missing": Key(
                "string",
                "NaN in a sensitive column: its own group, or an error.",
                enum=("group", "error"),
                default="group",
            ),
        },
    ),
}


def _add_llm_key() -> None:
    # The section's keys live beside its parser; importing them here at the top would be circular.
    from .llm.config import LLM_KEY

    _SCHEMA["llm"] = LLM_KEY


_add_llm_key()


def _add_deepchecks_key() -> None:
    # Like `llm`: the section's keys live beside its adapter, which imports this module.
    from .checks.deepchecks import DEEPCHECKS_KEY

    _SCHEMA["deepchecks"] = DEEPCHECKS_KEY


_add_deepchecks_key()

FAIRNESS_METRICS = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "accuracy",
    "precision",
)


def json_schema(
    schema: Mapping[str, Key] | None = None,
    title: str = "mlgate.yaml",
    doc: str = "pytest-mlgate configuration (mlgate.yaml).",
) -> dict[str, Any]:
    """A config's JSON Schema, generated from the same description as the validator."""

    def convert(key: Key) -> dict[str, Any]:
        out: dict[str, Any] = {"description": key.doc}
        if key.type == "scalar":
            out["type"] = ["string", "number", "boolean"]
        else:
            out["type"] = key.type
        if key.enum:
            out["enum"] = list(key.enum)
        if key.minimum is not None:
            out["exclusiveMinimum" if key.exclusive else "minimum"] = key.minimum
        if key.maximum is not None:
            out["exclusiveMaximum" if key.exclusive else "maximum"] = key.maximum
        if key.default is not None:
            out["default"] = key.default
        if key.items:
            item_type: Any = ["string", "number", "boolean"] if key.items == "scalar" else key.items
            out["items"] = {"type": item_type}
        if key.children is not None:
            out["properties"] = {k: convert(v) for k, v in key.children.items()}
            out["additionalProperties"] = False
            required = [k for k, v in key.children.items() if v.required]
            if required:
                out["required"] = required
        if key.values is not None:
            out["additionalProperties"] = convert(key.values)
        return out

    root = convert(Key("object", doc, children=_SCHEMA if schema is None else schema))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **root}


# --- the parsed config ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one model's predictions come from."""

    role: str
    column: str | None = None
    columns: Mapping[str, str] | None = None
    file: Path | None = None
    model: Path | None = None
    uri: str | None = None
    """An MLflow model URI (`models:/…` or `runs:/…`), given as `model:` in the config."""
    trust: bool = False
    type: str | None = None
    name: str | None = None
    features: tuple[str, ...] | None = None
    """The model's input columns, when they differ from `data.features`."""

    def describe(self) -> str:
        if self.name:
            return self.name
        if self.uri is not None:
            return self.uri
        if self.model is not None:
            return f"model {self.model.name}"
        where = f"{self.file.name}:" if self.file is not None else "column "
        if self.columns:
            return where + ",".join(self.columns.values())
        return f"{where}{self.column}"


@dataclass(frozen=True)
class MetricConfig:
    name: str
    margin: float = 0.0
    gain: float = 0.0
    min: float | None = None
    max: float | None = None
    callable: str | None = None
    higher_is_better: bool = True
    needs: str | None = None


@dataclass(frozen=True)
class MlflowConfig:
    tracking_uri: str | None = None
    alias: str = "champion"
    log: bool = True


MODEL_URI_SCHEMES = ("models:/", "runs:/")


@dataclass(frozen=True)
class DataConfig:
    path: Path
    target: str
    format: str | None = None
    features: tuple[str, ...] | None = None
    engine: str = "pandas"
    table: str | None = None
    """Spark catalog table (engine spark); ``path`` then only names it in messages."""
    query: str | None = None
    id: str | None = None
    """A column naming each row, for the report's disagreement table."""
    version: int | None = None
    """The version of a Delta table to read (engine spark); None reads the latest."""


@dataclass(frozen=True)
class DriftConfig:
    reference: Path
    current: Path | None = None
    columns: tuple[str, ...] | None = None
    prediction: str | None = None
    psi_warn: float | None = 0.1
    psi_fail: float | None = 0.25
    js: float | None = 0.1
    w1: float | None = 0.1
    share_change: float | None = 0.05
    q: float = 0.05
    max_share: float = 0.3


@dataclass(frozen=True)
class ColumnRule:
    name: str
    dtype: str | None = None
    required: bool = True
    allowed: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    max_null_fraction: float = 0.0
    max_out_of_range_fraction: float = 0.0
    max_age_seconds: float | None = None
    max_age: str | None = None


@dataclass(frozen=True)
class ValidationConfig:
    data: Path | None = None
    row_min: int | None = None
    row_max: int | None = None
    max_duplicate_fraction: float | None = None
    strict: bool = False
    now: str | None = None
    columns: tuple[ColumnRule, ...] = ()


@dataclass(frozen=True)
class FairnessConfig:
    sensitive: tuple[str, ...]
    metrics: tuple[str, ...] = ("selection_rate", "true_positive_rate", "false_positive_rate")
    max_difference: float | None = 0.1
    min_ratio: float | None = None
    four_fifths: bool = False
    max_regression: float | None = 0.02
    min_group_size: int = 30
    max_half_width: float = 0.1
    missing: str = "group"


@dataclass(frozen=True)
class GoldenConfig:
    name: str
    golden: Path
    atol: float
    rtol: float = 0.0
    flip_budget: int = 0


@dataclass(frozen=True)
class PropertiesConfig:
    monotonic: Mapping[str, str] = field(default_factory=dict)
    invariant: tuple[str, ...] = ()
    atol: float = 1e-6
    robust: Mapping[str, float] | None = None
    max_examples: int = 100


@dataclass(frozen=True)
class OperationalConfig:
    batch_size: int = 256
    rounds: int = 7
    calls: int = 30
    max_slowdown: float = 1.5
    max_p95_ms: float | None = None
    max_cv: float = 0.25


@dataclass(frozen=True)
class GateConfig:
    task: Task
    data: DataConfig
    candidate: Source | None
    baseline: Source | None
    metrics: tuple[MetricConfig, ...]
    drift: DriftConfig | None = None
    validation: ValidationConfig | None = None
    fairness: FairnessConfig | None = None
    slices: tuple[str, ...] = ()
    regression: tuple[GoldenConfig, ...] = ()
    operational: OperationalConfig | None = None
    properties: PropertiesConfig | None = None
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    llm: LlmConfig | None = None
    deepchecks: DeepchecksConfig | None = None
    """The LLM golden-set gate; with `task: llm`, `data` is the golden set and nothing tabular runs."""
    positive_label: Any = None
    labels: tuple[Any, ...] | None = None
    threshold: float = 0.5
    mode: Literal["superiority", "non-inferiority"] = "superiority"
    confidence: float = 0.95
    n_boot: int = 2000
    seed: int = 0
    fail_on: FailOn = "reject"
    report_path: Path = Path("mlgate-report.json")
    report_plots: bool = True
    source: Path | None = None
    """The file the config was read from."""
    sha256: str = ""
    """sha256 of the config file's bytes."""
    overrides: Mapping[str, Any] | None = None
    """Values given on the command line that replaced the file's."""

    def tracking_uri(self) -> str:
        from .registry.connect import tracking_uri

        return tracking_uri(self.mlflow.tracking_uri, self.source.parent if self.source else None)


# --- loading --------------------------------------------------------------------------------


def find_config(rootdir: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (rootdir / name).is_file():
            return rootdir / name
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file() and "[tool.mlgate]" in pyproject.read_text(encoding="utf-8", errors="replace"):
        return pyproject
    return None


def load_config(path: Path, overrides: Mapping[str, Any] | None = None) -> GateConfig:
    """Read, validate and resolve a config file. Raises ``ConfigError`` naming key and line."""
    raw, lines, where, file_sha256 = read_mapping(path)
    raw = {**raw, **(overrides or {})}
    _validate(raw, _SCHEMA, (), lines, where)
    config = _build(raw, path, lines, where)
    return replace(config, sha256=file_sha256, overrides=dict(overrides or {}))


def read_mapping(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], int], str, str]:
    """A YAML file (or ``[tool.mlgate]``) as (mapping, line of each key, where, sha256 of the text)."""
    if not path.is_file():
        raise ConfigError(f"config file `{path}` does not exist")
    text = read_text(path, limit=MAX_CONFIG_BYTES, what="config file")
    lines: dict[tuple[str, ...], int] = {}
    if path.suffix == ".toml":
        import tomllib

        try:
            raw = tomllib.loads(text).get("tool", {}).get("mlgate")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except RecursionError:
            raise ConfigError(f"{path}: arrays or tables are nested too deep") from None
        where = f"{path} [tool.mlgate]"
        deep = too_deep(raw)
        if deep is not None:
            raise ConfigError(f"{where}: `{deep}` is nested more than {MAX_DEPTH} deep")
    else:
        raw, node = load_yaml(text, str(path))
        _collect_lines(node, (), lines, str(path))
        where = str(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the config must be a mapping of keys, got {type(raw).__name__}")
    return raw, lines, where, hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_mapping(
    raw: Mapping[str, Any], schema: Mapping[str, Key], lines: Mapping[tuple[str, ...], int], where: str
) -> None:
    """Check ``raw`` against a ``Key`` tree; errors name the key and its line."""
    _validate(raw, schema, (), lines, where)


def where_is(path: tuple[str, ...], lines: Mapping[tuple[str, ...], int], where: str) -> str:
    """``file, line N`` of the nearest given key on ``path``."""
    return _where(path, lines, where)


def _collect_lines(
    node: yaml.Node | None, prefix: tuple[str, ...], out: dict[tuple[str, ...], int], where: str
) -> None:
    """Record each key's line; a key given twice is an error (YAML would keep the last silently)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            line = key_node.start_mark.line + 1
            if key in out:
                raise ConfigError(
                    f"{where}, line {line}: key `{'.'.join(key)}` is given twice (first on line {out[key]})"
                )
            out[key] = line
            _collect_lines(value_node, key, out, where)


def _where(path: tuple[str, ...], lines: Mapping[tuple[str, ...], int], where: str) -> str:
    for cut in range(len(path), 0, -1):
        if path[:cut] in lines:
            return f"{where}, line {lines[path[:cut]]}"
    return where


def _validate(
    raw: Mapping[str, Any],
    schema: Mapping[str, Key],
    prefix: tuple[str, ...],
    lines: Mapping[tuple[str, ...], int],
    where: str,
) -> None:
    for name, value in raw.items():
        path = (*prefix, str(name))
        dotted = ".".join(path)
        if name not in schema:
            close = difflib.get_close_matches(str(name), list(schema), n=1)
            hint = f"; did you mean `{'.'.join((*prefix, close[0]))}`?" if close else ""
            known = ", ".join(schema)
            raise ConfigError(f"{_where(path, lines, where)}: unknown key `{dotted}`{hint} (known: {known})")
        _check_value(schema[name], value, path, lines, where)
    for name, key in schema.items():
        if key.required and name not in raw:
            dotted = ".".join((*prefix, name))
            raise ConfigError(f"{_where(prefix, lines, where)}: missing required key `{dotted}` ({key.doc})")


def _check_value(
    key: Key, value: Any, path: tuple[str, ...], lines: Mapping[tuple[str, ...], int], where: str
) -> None:
    dotted = ".".join(path)
    at = _where(path, lines, where)
    expected = {
        "string": str,
        "boolean": bool,
        "object": dict,
        "array": list,
    }
    if key.type in ("number", "integer"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key.type == "integer":
            ok = ok and float(value).is_integer()
        if ok and not math.isfinite(float(value)):
            ok = False
        if not ok:
            raise ConfigError(f"{at}: `{dotted}`={value!r} must be a finite {key.type}")
        if key.minimum is not None and (value <= key.minimum if key.exclusive else value < key.minimum):
            op = ">" if key.exclusive else ">="
            raise ConfigError(f"{at}: `{dotted}`={value!r} must be {op} {key.minimum}")
        if key.maximum is not None and (value >= key.maximum if key.exclusive else value > key.maximum):
            op = "<" if key.exclusive else "<="
            raise ConfigError(f"{at}: `{dotted}`={value!r} must be {op} {key.maximum}")
        return
    if key.type == "scalar":
        if not isinstance(value, (str, int, float, bool)):
            raise ConfigError(
                f"{at}: `{dotted}`={value!r} must be a single label (string, number or boolean)"
            )
        return
    if not isinstance(value, expected[key.type]):
        article = "an" if key.type[0] in "aeiou" else "a"
        raise ConfigError(f"{at}: `{dotted}`={value!r} must be {article} {key.type}")
    if key.enum and value not in key.enum:
        close = difflib.get_close_matches(str(value), list(key.enum), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{at}: `{dotted}`={value!r} must be one of {', '.join(key.enum)}{hint}")
    if isinstance(value, list) and key.items:
        for i, item in enumerate(value):
            _check_value(Key(key.items, key.doc), item, (*path, str(i)), lines, where)
    if isinstance(value, dict):
        if key.children is not None:
            _validate(value, key.children, path, lines, where)
        elif key.values is not None:
            for name, item in value.items():
                _check_value(key.values, item if item is not None else {}, (*path, str(name)), lines, where)


def _build(
    raw: Mapping[str, Any], path: Path, lines: Mapping[tuple[str, ...], int], where: str
) -> GateConfig:
    base_dir = path.parent
    task: Task = raw["task"]
    raw = _llm_only(raw, lines, where) if task == "llm" else raw
    if "data" not in raw:
        raise ConfigError(f"{where}: missing required key `data` ({_SCHEMA['data'].doc})")

    def resolve(p: str) -> Path:
        return (base_dir / p).resolve() if not Path(p).is_absolute() else Path(p)

    def source(role: str) -> Source | None:
        spec = raw.get(role)
        if spec is None:
            return None
        given = [k for k in ("column", "columns", "model") if k in spec]
        at = _where((role,), lines, where)
        if len(given) != 1:
            raise ConfigError(
                f"{at}: `{role}` must name exactly one of `column`, `columns` or `model`"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if "file" in spec and "model" in spec:
            raise ConfigError(f"{at}: `{role}.file` cannot be combined with `{role}.model`")
        if "features" in spec and "model" not in spec:
            raise ConfigError(
                f"{at}: `{role}.features` must be left out: it names the columns a `{role}.model` is given"
            )
        if "features" in spec and not spec["features"]:
            raise ConfigError(f"{at}: `{role}.features`=[] must name at least one column")
        kind = spec.get("type")
        if kind is None:
            kind = "value" if task == "regression" else "probability"
        if task == "regression" and kind != "value":
            raise ConfigError(f"{at}: `{role}.type`={kind!r} must be 'value' for a regression task")
        if task != "regression" and kind == "value":
            raise ConfigError(
                f"{at}: `{role}.type`='value' must be 'probability' or 'label' for a {task} task"
            )
        if "columns" in spec and task != "multiclass":
            raise ConfigError(f"{at}: `{role}.columns` is for multiclass probabilities; use `{role}.column`")
        if task == "multiclass" and "column" in spec and kind == "probability":
            raise ConfigError(
                f"{at}: `{role}.column` with type 'probability' is ambiguous for a multiclass task; "
                f"use `{role}.columns` (class -> probability column) or set `{role}.type: label`"
            )
        uri = spec["model"] if str(spec.get("model", "")).startswith(MODEL_URI_SCHEMES) else None
        return Source(
            role=role,
            column=spec.get("column"),
            columns={str(k): v for k, v in spec["columns"].items()} if "columns" in spec else None,
            file=resolve(spec["file"]) if "file" in spec else None,
            model=resolve(spec["model"]) if "model" in spec and uri is None else None,
            uri=uri,
            trust=bool(spec.get("trust", False)),
            type=kind,
            name=spec.get("name"),
            features=tuple(spec["features"]) if "features" in spec else None,
        )

    metrics = []
    for name, spec in (raw.get("metrics") or {}).items():
        spec = spec or {}
        for key in ("higher_is_better", "needs"):
            if key in spec and "callable" not in spec:
                at = _where(("metrics", str(name), key), lines, where)
                raise ConfigError(
                    f"{at}: `metrics.{name}.{key}` must be left out: it only applies to a `callable` metric"
                )
        if spec.get("gain") and raw.get("mode") == "non-inferiority":
            at = _where(("metrics", str(name), "gain"), lines, where)
            raise ConfigError(
                f"{at}: `metrics.{name}.gain`={spec['gain']} must be left out in non-inferiority mode, "
                "which promotes on the margin alone"
            )
        metrics.append(
            MetricConfig(
                name=str(name),
                margin=float(spec.get("margin", 0.0)),
                gain=float(spec.get("gain", 0.0)),
                min=None if spec.get("min") is None else float(spec["min"]),
                max=None if spec.get("max") is None else float(spec["max"]),
                callable=spec.get("callable"),
                higher_is_better=bool(spec.get("higher_is_better", True)),
                needs=spec.get("needs"),
            )
        )
    sections = [
        k
        for k in (
            *("metrics", "drift", "validation", "fairness", "regression", "operational", "properties"),
            "llm",
            "deepchecks",
        )
        if raw.get(k)
    ]
    if not sections:
        raise ConfigError(
            f"{where}: the config must have at least one of `metrics`, `drift`, `validation`, `fairness`, "
            "`regression`, `llm`, `deepchecks`"
        )
    _check_metric_names(metrics, task, lines, where)
    for metric in metrics:
        at = _where(("metrics", metric.name), lines, where)
        if "baseline" not in raw and metric.min is None and metric.max is None:
            raise ConfigError(
                f"{at}: `metrics.{metric.name}` has nothing to judge: without a `baseline` it needs `min` or `max`"
            )
        if metric.min is not None and metric.max is not None and metric.min > metric.max:
            raise ConfigError(f"{at}: `metrics.{metric.name}.min`={metric.min} must be <= `max`={metric.max}")
    if "labels" in raw and len({str(v) for v in raw["labels"]}) != len(raw["labels"]):
        raise ConfigError(
            f"{_where(('labels',), lines, where)}: `labels`={raw['labels']!r} must not repeat a label"
        )
    data = raw["data"]
    candidate = source("candidate")
    if candidate is None and "baseline" in raw:
        raise ConfigError(f"{where}: `baseline` needs a `candidate` to compare with")
    needs_candidate = [k for k in ("metrics", "fairness", "regression") if raw.get(k)]
    if raw.get("operational") and not all("model" in (raw.get(r) or {}) for r in ("candidate", "baseline")):
        at = _where(("operational",), lines, where)
        raise ConfigError(
            f"{at}: `operational` needs `candidate.model` and `baseline.model`: it times both models"
        )
    if raw.get("properties") and "model" not in (raw.get("candidate") or {}):
        at = _where(("properties",), lines, where)
        raise ConfigError(
            f"{at}: `properties` needs `candidate.model`: hypothesis calls the model on new rows"
        )
    if raw.get("regression") and "model" not in (raw.get("candidate") or {}):
        at = _where(("regression",), lines, where)
        raise ConfigError(
            f"{at}: `regression` needs `candidate.model`: golden inputs are scored by the model itself"
        )
    if candidate is None and needs_candidate:
        raise ConfigError(
            f"{where}: missing required key `candidate`: `{needs_candidate[0]}` compares its predictions"
        )
    return GateConfig(
        task=task,
        data=_data(data, resolve, lines, where),
        candidate=candidate,
        baseline=source("baseline"),
        metrics=tuple(metrics),
        drift=_drift(raw.get("drift"), resolve),
        validation=_validation(raw.get("validation"), resolve, lines, where),
        fairness=_fairness(raw.get("fairness"), task, lines, where),
        slices=tuple(raw.get("slices") or ()),
        operational=OperationalConfig(**raw["operational"]) if raw.get("operational") else None,
        mlflow=MlflowConfig(
            tracking_uri=(raw.get("mlflow") or {}).get("tracking_uri"),
            alias=str((raw.get("mlflow") or {}).get("alias", "champion")),
            log=bool((raw.get("mlflow") or {}).get("log", True)),
        ),
        llm=_llm(raw.get("llm"), base_dir, lines, where),
        deepchecks=_deepchecks(raw, resolve, task),
        properties=PropertiesConfig(
            monotonic=dict(raw["properties"].get("monotonic") or {}),
            invariant=tuple(raw["properties"].get("invariant") or ()),
            atol=float(raw["properties"].get("atol", 1e-6)),
            robust=raw["properties"].get("robust"),
            max_examples=int(raw["properties"].get("max_examples", 100)),
        )
        if raw.get("properties")
        else None,
        regression=tuple(
            GoldenConfig(
                name=str(name),
                golden=resolve(spec["golden"]),
                atol=float(spec["atol"]),
                rtol=float(spec.get("rtol", 0.0)),
                flip_budget=int(spec.get("flip_budget", 0)),
            )
            for name, spec in (raw.get("regression") or {}).items()
        ),
        positive_label=raw.get("positive_label"),
        labels=tuple(raw["labels"]) if "labels" in raw else None,
        threshold=float(raw.get("threshold", 0.5)),
        mode=raw.get("mode", "superiority"),
        confidence=float(raw.get("confidence", 0.95)),
        n_boot=int(raw.get("n_boot", 2000)),
        seed=int(raw.get("seed", 0)),
        fail_on=raw.get("fail_on", "reject"),
        report_path=resolve(raw.get("report", {}).get("path", "mlgate-report.json")),
        report_plots=bool(raw.get("report", {}).get("plots", True)),
        source=path,
    )


def _data(
    data: Mapping[str, Any], resolve: Any, lines: Mapping[tuple[str, ...], int], where: str
) -> DataConfig:
    engine = str(data.get("engine", "pandas"))
    given = [k for k in ("path", "table", "query") if k in data]
    at = _where(("data",), lines, where)
    if engine == "pandas" and given != ["path"]:
        raise ConfigError(
            f"{at}: `data.{given[-1]}` needs `data.engine: spark`"
            if given and given[-1] != "path"
            else f"{at}: missing required key `data.path` (CSV or Parquet file, relative to the config file)"
        )
    if engine == "spark" and len(given) != 1:
        raise ConfigError(
            f"{at}: `data` with `engine: spark` must name exactly one of `path`, `table` or `query`"
            + (f"; got {', '.join(given)}" if given else "")
        )
    fmt = data.get("format")
    if engine == "spark" and fmt not in (None, "parquet", "delta"):
        raise ConfigError(f"{at}: `data.format`={fmt!r} must be 'parquet' or 'delta' with `engine: spark`")
    if fmt == "delta" and (engine != "spark" or given != ["path"]):
        raise ConfigError(f"{at}: `data.format`='delta' needs `data.engine: spark` and `data.path`")
    if "version" in data and (engine != "spark" or given != ["path"]):
        raise ConfigError(f"{at}: `data.version` needs `data.engine: spark` and a Delta table in `data.path`")
    return DataConfig(
        path=resolve(data["path"]) if "path" in data else Path(f"spark-{given[0]}"),
        target=data["target"],
        format=data.get("format"),
        features=tuple(data["features"]) if "features" in data else None,
        engine=engine,
        table=data.get("table"),
        query=data.get("query"),
        id=data.get("id"),
        version=int(data["version"]) if "version" in data else None,
    )


def _check_metric_names(
    metrics: list[MetricConfig], task: str, lines: Mapping[tuple[str, ...], int], where: str
) -> None:
    from .stats.metrics import METRICS

    for metric in metrics:
        at = _where(("metrics", metric.name), lines, where)
        if metric.callable is not None:
            for limit in ("min", "max"):
                if getattr(metric, limit) is not None:
                    raise ConfigError(
                        f"{at}: `metrics.{metric.name}.{limit}` must be left out: absolute limits need a "
                        "built-in metric, whose interval the gate knows how to compute for one model"
                    )
            if ":" not in metric.callable:
                raise ConfigError(
                    f"{at}: `metrics.{metric.name}.callable`={metric.callable!r} must look like 'module:function'"
                )
            continue
        spec = METRICS.get(metric.name)
        if spec is None:
            known = [n for n, s in METRICS.items() if task in s.tasks]
            close = difflib.get_close_matches(metric.name, known, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"{at}: unknown metric `{metric.name}`{hint} (for {task}: {', '.join(known)}; "
                "or give `callable: module:function`)"
            )
        if task not in spec.tasks:
            raise ConfigError(
                f"{at}: metric `{metric.name}` does not apply to a {task} task "
                f"(it is for {', '.join(sorted(spec.tasks))})"
            )


# --- the LLM section -------------------------------------------------------------------------


_TABULAR_KEYS = (
    *("data", "candidate", "baseline", "metrics", "drift", "validation", "fairness", "regression"),
    *("operational", "properties", "positive_label", "labels", "threshold", "slices", "deepchecks"),
)


def _llm_only(raw: Mapping[str, Any], lines: Mapping[tuple[str, ...], int], where: str) -> dict[str, Any]:
    """`task: llm` judges the golden set alone: tabular keys are refused, the golden set is the data."""
    tabular = [k for k in _TABULAR_KEYS if k in raw]
    if tabular:
        raise ConfigError(
            f"{_where((tabular[0],), lines, where)}: `{tabular[0]}` must be left out with `task: llm`, which "
            "judges only the `llm:` section; for a tabular gate beside it, set the tabular task and add `llm:`"
        )
    if not raw.get("llm"):
        raise ConfigError(f"{_where(('task',), lines, where)}: `task: llm` needs an `llm:` section")
    return {**raw, "data": {"path": raw["llm"]["golden"], "target": "reference"}}


def _deepchecks(raw: Mapping[str, Any], resolve: Any, task: str) -> DeepchecksConfig | None:
    from .checks.deepchecks import build_deepchecks

    if raw.get("deepchecks") and (raw.get("data") or {}).get("engine") == "spark":
        raise ConfigError(
            "`deepchecks` must be left out with `data.engine: spark`: deepchecks reads the whole table "
            "with pandas; run it on a sample, or gate on a saved result in a pandas gate"
        )
    model = "model" in (raw.get("candidate") or {})
    return build_deepchecks(raw.get("deepchecks"), resolve, candidate_model=model, task=task)


def _llm(
    raw: Mapping[str, Any] | None, base_dir: Path, lines: Mapping[tuple[str, ...], int], where: str
) -> LlmConfig | None:
    if not raw:
        return None
    from .llm.config import build_llm

    return build_llm(raw, base_dir=base_dir, lines=lines, where=where)


# --- data-check sections --------------------------------------------------------------------


def _drift(raw: Mapping[str, Any] | None, resolve: Any) -> DriftConfig | None:
    if not raw:
        return None
    warn, fail = raw.get("psi_warn", 0.1), raw.get("psi_fail", 0.25)
    if warn is not None and fail is not None and warn > fail:
        raise ConfigError(f"`drift.psi_warn`={warn} must be <= `drift.psi_fail`={fail}")
    return DriftConfig(
        reference=resolve(raw["reference"]),
        current=resolve(raw["current"]) if "current" in raw else None,
        columns=tuple(raw["columns"]) if "columns" in raw else None,
        prediction=raw.get("prediction"),
        psi_warn=raw.get("psi_warn", 0.1),
        psi_fail=raw.get("psi_fail", 0.25),
        js=raw.get("js", 0.1),
        w1=raw.get("w1", 0.1),
        share_change=raw.get("share_change", 0.05),
        q=float(raw.get("q", 0.05)),
        max_share=float(raw.get("max_share", 0.3)),
    )


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float | None:
    """``"36h"`` -> seconds; None when the text is not ``<number><s|m|h|d|w>``."""
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in _AGE_UNITS:
        return None
    try:
        value = float(text[:-1])
    except ValueError:
        return None
    return value * _AGE_UNITS[text[-1]] if value >= 0 and math.isfinite(value) else None


def _validation(
    raw: Mapping[str, Any] | None, resolve: Any, lines: Mapping[tuple[str, ...], int], where: str
) -> ValidationConfig | None:
    if not raw:
        return None
    merged: dict[str, Any] = {}
    if "contract" in raw:
        contract_path = resolve(raw["contract"])
        text = read_text(contract_path, limit=MAX_CONFIG_BYTES, what="`validation.contract` file")
        contract, _ = load_yaml(text, str(contract_path))
        if isinstance(contract, dict) and "validation" in contract:
            contract = contract["validation"]
        if not isinstance(contract, dict):
            raise ConfigError(
                f"`validation.contract`: `{contract_path}` must hold a mapping of contract keys"
            )
        _validate(contract, _SCHEMA["validation"].children or {}, ("validation",), {}, str(contract_path))
        merged.update(contract)
    inline = {k: v for k, v in raw.items() if k != "contract"}
    columns = {**(merged.get("columns") or {}), **(inline.get("columns") or {})}
    merged.update(inline)
    merged["columns"] = columns
    rules = []
    for name, spec in (merged.get("columns") or {}).items():
        spec = spec or {}
        age = spec.get("max_age")
        seconds = None
        if age is not None:
            seconds = parse_age(str(age))
            if seconds is None:
                at = _where(("validation", "columns", str(name), "max_age"), lines, where)
                raise ConfigError(
                    f"{at}: `validation.columns.{name}.max_age`={age!r} must look like 30m, 36h or 7d"
                )
        rules.append(
            ColumnRule(
                name=str(name),
                dtype=spec.get("dtype"),
                required=bool(spec.get("required", True)),
                allowed=tuple(spec["allowed"]) if "allowed" in spec else None,
                min=spec.get("min"),
                max=spec.get("max"),
                max_null_fraction=float(spec.get("max_null_fraction", 0.0)),
                max_out_of_range_fraction=float(spec.get("max_out_of_range_fraction", 0.0)),
                max_age_seconds=seconds,
                max_age=None if age is None else str(age),
            )
        )
    for rule in rules:
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            raise ConfigError(f"`validation.columns.{rule.name}.min`={rule.min} must be <= `max`={rule.max}")
    rows = merged.get("row_count") or {}
    if rows.get("min") is not None and rows.get("max") is not None and rows["min"] > rows["max"]:
        raise ConfigError(f"`validation.row_count.min`={rows['min']} must be <= `max`={rows['max']}")
    return ValidationConfig(
        data=resolve(merged["data"]) if "data" in merged else None,
        row_min=rows.get("min"),
        row_max=rows.get("max"),
        max_duplicate_fraction=(merged.get("duplicates") or {}).get("max_fraction"),
        strict=bool(merged.get("strict", False)),
        now=merged.get("now"),
        columns=tuple(rules),
    )


def _fairness(
    raw: Mapping[str, Any] | None, task: str, lines: Mapping[tuple[str, ...], int], where: str
) -> FairnessConfig | None:
    if not raw:
        return None
    at = _where(("fairness",), lines, where)
    if task != "binary":
        raise ConfigError(f"{at}: `fairness` needs `task: binary` (per-group rates of a yes/no decision)")
    if not raw["sensitive"]:
        raise ConfigError(f"{at}: `fairness.sensitive` must name at least one column")
    metrics = tuple(raw.get("metrics", FairnessConfig.metrics))
    for metric in metrics:
        if ":" in metric:
            continue  # a user's callable, `module:function`
        if metric not in FAIRNESS_METRICS:
            close = difflib.get_close_matches(metric, FAIRNESS_METRICS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"{at}: `fairness.metrics` has unknown metric `{metric}`{hint} (known: {', '.join(FAIRNESS_METRICS)})"
            )
    return FairnessConfig(
        sensitive=tuple(raw["sensitive"]),
        metrics=metrics,
        max_difference=raw.get("max_difference", 0.1),
        min_ratio=raw.get("min_ratio"),
        four_fifths=bool(raw.get("four_fifths", False)),
        max_regression=raw.get("max_regression", 0.02),
        min_group_size=int(raw.get("min_group_size", 30)),
        max_half_width=float(raw.get("max_half_width", 0.1)),
        missing=raw.get("missing", "group"),
    )
