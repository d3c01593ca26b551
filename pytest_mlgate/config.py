"""Configuration: ``mlgate.yaml`` or ``[tool.mlgate]`` into frozen dataclasses.

One declarative description of the keys (``_SCHEMA``) drives both the
validator, whose errors name the key and the line, and the published JSON
Schema, so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError

CONFIG_NAMES = ("mlgate.yaml", "mlgate.yml")
Task = Literal["binary", "multiclass", "regression"]
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
    "model": Key("string", "Model file: .skops, or .joblib/.pkl with `trust: true`."),
    "trust": Key(
        "boolean",
        "Allow loading a pickle or joblib file, or skops types not on skops' trusted list. "
        "Unpickling runs arbitrary code: only trust files you produced.",
        default=False,
    ),
    "type": Key(
        "string",
        "What `column` holds.",
        enum=("probability", "label", "value"),
    ),
    "name": Key("string", "Identity shown in the report (default: derived from the source)."),
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
    "task": Key("string", "The prediction task.", required=True, enum=("binary", "multiclass", "regression")),
    "data": Key(
        "object",
        "The evaluation (holdout) data.",
        required=True,
        children={
            "path": Key("string", "CSV or Parquet file, relative to the config file.", required=True),
            "target": Key("string", "Column with the true labels or values.", required=True),
            "format": Key("string", "File format (default: from the suffix).", enum=("csv", "parquet")),
            "features": Key(
                "array", "Model input columns (default: all but target and predictions).", items="string"
            ),
        },
    ),
    "candidate": Key(
        "object", "Where the candidate's predictions come from.", required=True, children=_SOURCE
    ),
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
        children={"path": Key("string", "JSON report path.", default="mlgate-report.json")},
    ),
    "metrics": Key(
        "object",
        "Metrics to compare, by name (see `mlgate metrics`), each with margin, gain, min and max.",
        required=True,
        values=Key("object", "One metric's limits.", children=_METRIC),
    ),
}


def json_schema() -> dict[str, Any]:
    """The config's JSON Schema, generated from the same description as the validator."""

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

    root = convert(Key("object", "pytest-mlgate configuration (mlgate.yaml).", children=_SCHEMA))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "mlgate.yaml", **root}


# --- the parsed config ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one model's predictions come from."""

    role: str
    column: str | None = None
    columns: Mapping[str, str] | None = None
    file: Path | None = None
    model: Path | None = None
    trust: bool = False
    type: str | None = None
    name: str | None = None

    def describe(self) -> str:
        if self.name:
            return self.name
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
class DataConfig:
    path: Path
    target: str
    format: str | None = None
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class GateConfig:
    task: Task
    data: DataConfig
    candidate: Source
    baseline: Source | None
    metrics: tuple[MetricConfig, ...]
    positive_label: Any = None
    labels: tuple[Any, ...] | None = None
    threshold: float = 0.5
    mode: Literal["superiority", "non-inferiority"] = "superiority"
    confidence: float = 0.95
    n_boot: int = 2000
    seed: int = 0
    fail_on: FailOn = "reject"
    report_path: Path = Path("mlgate-report.json")
    source: Path | None = None
    """The file the config was read from."""
    sha256: str = ""
    """sha256 of the config's canonical JSON form."""


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
    if not path.is_file():
        raise ConfigError(f"config file `{path}` does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 text: {exc}") from None
    lines: dict[tuple[str, ...], int] = {}
    if path.suffix == ".toml":
        import tomllib

        try:
            raw = tomllib.loads(text).get("tool", {}).get("mlgate")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        where = f"{path} [tool.mlgate]"
    else:
        try:
            raw = yaml.safe_load(text)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        _collect_lines(node, (), lines)
        where = str(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the config must be a mapping of keys, got {type(raw).__name__}")
    raw = {**raw, **(overrides or {})}
    _validate(raw, _SCHEMA, (), lines, where)
    return _build(raw, path, lines, where)


def _collect_lines(node: yaml.Node | None, prefix: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            out[key] = key_node.start_mark.line + 1
            _collect_lines(value_node, key, out)


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
        return Source(
            role=role,
            column=spec.get("column"),
            columns={str(k): v for k, v in spec["columns"].items()} if "columns" in spec else None,
            file=resolve(spec["file"]) if "file" in spec else None,
            model=resolve(spec["model"]) if "model" in spec else None,
            trust=bool(spec.get("trust", False)),
            type=kind,
            name=spec.get("name"),
        )

    metrics = []
    for name, spec in raw["metrics"].items():
        spec = spec or {}
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
    if not metrics:
        raise ConfigError(f"{_where(('metrics',), lines, where)}: `metrics` must name at least one metric")
    _check_metric_names(metrics, task, lines, where)
    data = raw["data"]
    candidate = source("candidate")
    assert candidate is not None  # required by the schema
    canonical = json.dumps(raw, sort_keys=True, default=str).encode()
    return GateConfig(
        task=task,
        data=DataConfig(
            path=resolve(data["path"]),
            target=data["target"],
            format=data.get("format"),
            features=tuple(data["features"]) if "features" in data else None,
        ),
        candidate=candidate,
        baseline=source("baseline"),
        metrics=tuple(metrics),
        positive_label=raw.get("positive_label"),
        labels=tuple(raw["labels"]) if "labels" in raw else None,
        threshold=float(raw.get("threshold", 0.5)),
        mode=raw.get("mode", "superiority"),
        confidence=float(raw.get("confidence", 0.95)),
        n_boot=int(raw.get("n_boot", 2000)),
        seed=int(raw.get("seed", 0)),
        fail_on=raw.get("fail_on", "reject"),
        report_path=resolve(raw.get("report", {}).get("path", "mlgate-report.json")),
        source=path,
        sha256=hashlib.sha256(canonical).hexdigest(),
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
