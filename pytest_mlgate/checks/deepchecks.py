"""deepchecks tabular suites and checks as gate checks (the `deepchecks:` section, `[deepchecks]` extra).

deepchecks 0.19.1, its last release, cannot import next to numpy 2 or scikit-learn 1.8, so the
adapter works in two ways. Where deepchecks imports, it runs the named suites and checks on the
gate's own data and candidate model. Anywhere else it reads a result that deepchecks saved in its
own environment (``SuiteResult.to_json()``), so the main environment can still gate on it. Both
ways go through the same reading of deepchecks' JSON form, one row per condition result.

Nothing here imports deepchecks, pandas or scikit-learn at module load.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import json
import logging
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Key
from ..errors import ConfigError, DataError
from ..results import CheckResult, Status

if TYPE_CHECKING:
    import pandas as pd

    from ..config import GateConfig
    from ..data import EvalData

SUITES = ("data_integrity", "train_test_validation", "model_evaluation")
TESTED_VERSION = "0.19.1"
DOCS = "docs/deepchecks.md"

# Upper bounds measured with deepchecks 0.19.1: numpy 2 removed `np.Inf`, which deepchecks uses at
# import; scikit-learn 1.8 dropped the `max_error` scorer name that deepchecks resolves at import.
# pandas 3.0 and pyarrow 20 were seen to import and run, so they are pinned in the test environment
# (tools/constraints/deepchecks.txt) but not refused here.
_IMPORT_LIMITS = (("numpy", (2, 0), "numpy < 2"), ("scikit-learn", (1, 8), "scikit-learn <= 1.7"))

# deepchecks raises these when a check does not apply to the data or the task (no datetime column,
# a regression check on a classifier, a boosting check on a linear model): a suite always holds some.
_NOT_APPLICABLE = frozenset(
    {"DatasetValidationError", "ModelValidationError", "DeepchecksNotSupportedError", "NotEnoughSamplesError"}
)
_STATUS: dict[str, Status] = {"PASS": "pass", "WARN": "warn", "FAIL": "fail", "ERROR": "error"}
_MAX_FIGURES = 40
_SAVE_HINT = (
    "or save the result in an environment where deepchecks runs (`SuiteResult.to_json()`) and gate on it "
    f"here with `deepchecks.result` (see {DOCS})"
)

DEEPCHECKS_KEY = Key(
    "object",
    "deepchecks tabular suites and checks, run on the gate's data and candidate model, or read from a "
    f"saved deepchecks result; each condition result is a check (the `deepchecks` extra, see {DOCS}).",
    children={
        "suites": Key("array", "Named suites: " + ", ".join(SUITES) + ".", items="string"),
        "checks": Key(
            "object",
            "deepchecks check classes by name (e.g. FeatureDrift), each with `params` and `conditions`.",
            values=Key(
                "object",
                "One check.",
                children={
                    "params": Key("object", "Keyword arguments of the check's constructor."),
                    "conditions": Key(
                        "object",
                        "Condition methods (`add_condition_...`) with their keyword arguments.",
                        values=Key("object", "Keyword arguments of the condition."),
                    ),
                },
            ),
        ),
        "reference": Key(
            "string",
            "Train (reference) data, CSV or Parquet, with the target column: the train side of the "
            "train-test and model checks; `data.path` is the test side.",
        ),
        "cat_features": Key(
            "array", "Categorical feature columns (default: deepchecks infers them).", items="string"
        ),
        "skip": Key(
            "array",
            "Checks to leave out of the suites or of a saved result (FeatureDrift or Feature Drift alike).",
            items="string",
        ),
        "result": Key(
            "string",
            "A saved deepchecks result (SuiteResult or CheckResult JSON from `to_json()`) to gate on "
            "instead of running deepchecks here.",
        ),
    },
)


@dataclass(frozen=True)
class CheckSpec:
    """One check named in `deepchecks.checks`: its class, constructor arguments and conditions."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[tuple[str, Mapping[str, Any]], ...] = ()


@dataclass(frozen=True)
class DeepchecksConfig:
    suites: tuple[str, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    reference: Path | None = None
    cat_features: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()
    result: Path | None = None


def build_deepchecks(
    raw: Mapping[str, Any] | None, resolve: Any, *, candidate_model: bool, task: str
) -> DeepchecksConfig | None:
    """The parsed section; the validator has checked the keys' types already."""
    if not raw:
        return None
    suites = tuple(str(s) for s in raw.get("suites") or ())
    for suite in suites:
        if suite not in SUITES:
            close = difflib.get_close_matches(suite, SUITES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"`deepchecks.suites`: {suite!r} must be one of {', '.join(SUITES)}{hint}")
    if len(set(suites)) != len(suites):
        raise ConfigError(f"`deepchecks.suites`={list(suites)!r} must not repeat a suite")
    checks = []
    for name, spec in (raw.get("checks") or {}).items():
        spec = spec or {}
        conditions = tuple((str(k), dict(v or {})) for k, v in (spec.get("conditions") or {}).items())
        for method, _ in conditions:
            if not method.startswith("add_condition_"):
                raise ConfigError(
                    f"`deepchecks.checks.{name}.conditions.{method}` must name a condition method, "
                    "which starts with `add_condition_`"
                )
        if not conditions:
            raise ConfigError(
                f"`deepchecks.checks.{name}` has no `conditions`: without one it judges nothing. "
                "Add e.g. `conditions: {add_condition_...: {}}`"
            )
        checks.append(CheckSpec(str(name), dict(spec.get("params") or {}), conditions))
    result = resolve(raw["result"]) if "result" in raw else None
    if result is not None and (suites or checks):
        raise ConfigError(
            "`deepchecks.result` cannot be combined with `deepchecks.suites` or `deepchecks.checks`: "
            "a saved result is read as it is, nothing is run"
        )
    if result is None and not (suites or checks):
        raise ConfigError("`deepchecks` must have `suites`, `checks` or a saved `result`")
    reference = resolve(raw["reference"]) if "reference" in raw else None
    for suite in ("train_test_validation", "model_evaluation"):
        if suite in suites and reference is None:
            raise ConfigError(
                f"`deepchecks.suites` {suite} needs `deepchecks.reference`: the train data it compares "
                "with `data.path`"
            )
    if "model_evaluation" in suites and not candidate_model:
        raise ConfigError(
            "`deepchecks.suites` model_evaluation needs `candidate.model`: deepchecks calls the model on "
            "the train and the test data"
        )
    return DeepchecksConfig(
        suites=suites,
        checks=tuple(checks),
        reference=reference,
        cat_features=tuple(raw["cat_features"]) if "cat_features" in raw else None,
        skip=tuple(str(s) for s in raw.get("skip") or ()),
        result=result,
    )


# --- the environment ------------------------------------------------------------------------


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:2])


def conflicts() -> list[str]:
    """What in this environment keeps deepchecks from importing, as `needs X, found Y` phrases."""
    found = []
    for dist, limit, need in _IMPORT_LIMITS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        if _release(version) >= limit:
            found.append(f"{need}, found {dist} {version}")
    return found


def import_deepchecks() -> Any:
    """``deepchecks.tabular``, or a ConfigError (exit 2) that names what stands in the way."""
    clash = conflicts()
    if clash:
        raise ConfigError(
            f"`deepchecks`: deepchecks {TESTED_VERSION} needs {'; '.join(clash)}, so it cannot import "
            "in this environment. Run the deepchecks checks in their own environment (`make "
            ".venv-deepchecks/.installed` builds one from tools/constraints/deepchecks.txt), " + _SAVE_HINT
        )
    try:
        import deepchecks.tabular as tabular
        import deepchecks.tabular.checks
        import deepchecks.tabular.suites  # noqa: F401  (submodules: reached as tabular.checks/.suites)
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] == "deepchecks":
            raise ConfigError(
                "`deepchecks` needs the deepchecks package: pip install 'pytest-mlgate[deepchecks]' in an "
                f"environment with numpy < 2 and scikit-learn <= 1.7, {_SAVE_HINT}"
            ) from None
        raise ConfigError(
            f"`deepchecks`: deepchecks could not import: {_first_line(exc)}; " + _SAVE_HINT
        ) from None
    except Exception as exc:  # deepchecks runs a lot at import; any failure there is the environment's
        raise ConfigError(
            f"`deepchecks`: deepchecks could not import: {type(exc).__name__}: {_first_line(exc)}; "
            + _SAVE_HINT
        ) from None
    return tabular


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- running --------------------------------------------------------------------------------


def run_deepchecks(cfg: DeepchecksConfig, config: GateConfig, data: EvalData) -> list[CheckResult]:
    """One check per deepchecks condition result, and one per check that did not run."""
    if cfg.result is not None:
        from ..inputs import load_json

        saved = load_json(cfg.result, what="deepchecks result", error=DataError)
        return _judge(_saved_records(saved, cfg.result), "result", cfg, explicit=frozenset())
    tabular = import_deepchecks()
    # deepchecks draws progress bars and logs hints below WARNING; in a CI log they would bury the table.
    logger = logging.getLogger("deepchecks")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return _run_here(tabular, cfg, config, data)
    finally:
        logger.setLevel(level)


def _run_here(tabular: Any, cfg: DeepchecksConfig, config: GateConfig, data: EvalData) -> list[CheckResult]:
    from ..io.tables import read_table

    model = _model(config)
    test = _dataset(tabular, data.frame, cfg, config, model, f"data file `{config.data.path.name}`")
    train = None
    if cfg.reference is not None:
        reference = read_table(cfg.reference, what="deepchecks reference")
        where = f"deepchecks reference `{cfg.reference.name}`"
        train = _dataset(tabular, reference, cfg, config, model, where)
    rows: list[CheckResult] = []
    for name in cfg.suites:
        suite = getattr(tabular.suites, name)()
        _drop_skipped(suite, cfg.skip)
        if name == "data_integrity":
            # Integrity is a property of the data the gate judges, not of the train data.
            rows += _run(suite, name, cfg, explicit=frozenset(), train_dataset=test)
        else:
            rows += _run(
                suite,
                name,
                cfg,
                explicit=frozenset(),
                train_dataset=train,
                test_dataset=test,
                model=model if name == "model_evaluation" else None,
            )
    if cfg.checks:
        suite = tabular.Suite("mlgate checks", *(_check(tabular, spec) for spec in cfg.checks))
        explicit = frozenset(_key(spec.name) for spec in cfg.checks)
        if train is None:
            rows += _run(suite, "checks", cfg, explicit=explicit, train_dataset=test, model=model)
        else:
            rows += _run(
                suite, "checks", cfg, explicit=explicit, train_dataset=train, test_dataset=test, model=model
            )
    return rows


def _dataset(
    tabular: Any, frame: pd.DataFrame, cfg: DeepchecksConfig, config: GateConfig, model: Any, where: str
) -> Any:
    from ..data import _require_columns, model_features, source_features

    if model is not None and config.candidate is not None:
        # deepchecks hands the model every feature of the dataset, so the dataset holds the model's own
        # columns (`candidate.features`, or what it was fitted on), as the gate gives them.
        features = source_features(frame, config, config.candidate, model)
    else:
        features = model_features(frame, config)
    target = config.data.target
    _require_columns(frame, [target, *features], where, "deepchecks")
    if cfg.cat_features is not None:
        _require_columns(frame, list(cfg.cat_features), where, "deepchecks.cat_features")
    label_type = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}.get(config.task)
    try:
        return tabular.Dataset(
            frame[[*features, target]],
            label=target,
            cat_features=[c for c in cfg.cat_features if c in features]
            if cfg.cat_features is not None
            else None,
            label_type=label_type,
        )
    except Exception as exc:
        raise DataError(f"deepchecks cannot use the {where}: {_first_line(exc)}") from None


def _model(config: GateConfig) -> Any:
    source = config.candidate
    if source is None or (source.model is None and source.uri is None):
        return None
    from ..io.models import load_source_model

    return load_source_model(source, config)


def _check(tabular: Any, spec: CheckSpec) -> Any:
    known = {n: getattr(tabular.checks, n) for n in dir(tabular.checks) if not n.startswith("_")}
    cls = known.get(spec.name)
    if not isinstance(cls, type):
        close = difflib.get_close_matches(
            spec.name, [n for n, v in known.items() if isinstance(v, type)], n=1
        )
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise ConfigError(f"`deepchecks.checks.{spec.name}` is not a deepchecks tabular check{hint}")
    accepted = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
    ]
    unknown = [k for k in spec.params if k not in accepted]
    if unknown:
        # deepchecks' checks take **kwargs and ignore what they do not know: a typo would pass unseen.
        raise ConfigError(
            f"`deepchecks.checks.{spec.name}.params`: {', '.join(map(repr, unknown))} is not a parameter of "
            f"{spec.name} (it takes {', '.join(accepted) or 'none'})"
        )
    try:
        check = cls(**spec.params)
    except Exception as exc:
        raise ConfigError(
            f"`deepchecks.checks.{spec.name}.params`={dict(spec.params)!r} do not fit {spec.name}: "
            f"{_first_line(exc)}"
        ) from None
    for method, kwargs in spec.conditions:
        add = getattr(check, method, None)
        if add is None:
            offered = sorted(n for n in dir(check) if n.startswith("add_condition_"))
            raise ConfigError(
                f"`deepchecks.checks.{spec.name}.conditions.{method}` is not a condition of {spec.name} "
                f"(it has {', '.join(offered) or 'none'})"
            )
        try:
            check = add(**kwargs)
        except Exception as exc:
            raise ConfigError(
                f"`deepchecks.checks.{spec.name}.conditions.{method}`={dict(kwargs)!r}: {_first_line(exc)}"
            ) from None
    return check


def _drop_skipped(suite: Any, skip: Sequence[str]) -> None:
    wanted = {_key(s) for s in skip}
    for index, check in list(suite.checks.items()):
        if _key(type(check).__name__) in wanted or _key(check.name()) in wanted:
            suite.remove(index)


def _run(
    suite: Any, label: str, cfg: DeepchecksConfig, *, explicit: frozenset[str], **inputs: Any
) -> list[CheckResult]:
    try:
        outcome = suite.run(with_display=False, **inputs)
        records = json.loads(outcome.to_json(with_display=False))["results"]
    except Exception as exc:  # deepchecks validates its inputs inside run; say which suite refused them
        return [
            _row(
                f"deepchecks:{label}",
                "error",
                label,
                f"deepchecks could not run {label}: {type(exc).__name__}: {_first_line(exc)}",
                {},
            )
        ]
    # The JSON form keeps only the text of a not-run check's exception; its type tells whether the check
    # does not apply here or broke, and the reduced figures are tidier than the raw value.
    for record, result in zip(records, outcome.results, strict=True):
        header = str(record.get("header") or "")
        if "test_dataset" not in inputs and header.endswith(" - Train Dataset"):
            # A one-dataset run is handed the gate's data as deepchecks' "train" side: not a name to show.
            record["header"] = header.removesuffix(" - Train Dataset")
        exception = getattr(result, "exception", None)
        if exception is not None:
            record["exception_type"] = type(exception).__name__
        elif hasattr(result, "reduce_output"):
            # Not every check reduces; the raw value's numbers stand in for those.
            with contextlib.suppress(Exception):
                record["figures"] = result.reduce_output()
    return _judge(records, label, cfg, explicit=explicit)


# --- reading results ------------------------------------------------------------------------


def _saved_records(saved: Any, path: Path) -> list[dict[str, Any]]:
    what = f"deepchecks result `{path}`"
    if isinstance(saved, dict) and saved.get("type") == "SuiteResult":
        results = saved.get("results")
        if not isinstance(results, list):
            raise DataError(f"{what}: `$.results` must be a list of check results")
        records = results
    elif isinstance(saved, dict) and saved.get("type") in ("CheckResult", "CheckFailure"):
        records = [saved]
    else:
        raise DataError(
            f"{what} is not a deepchecks result: expected the JSON of `SuiteResult.to_json()` or "
            "`CheckResult.to_json()` (an object whose `type` is SuiteResult, CheckResult or CheckFailure)"
        )
    for i, record in enumerate(records):
        at = f"{what}: `$.results[{i}]`" if records is not saved else what
        if not isinstance(record, dict) or record.get("type") not in ("CheckResult", "CheckFailure"):
            raise DataError(f"{at} must be an object whose `type` is CheckResult or CheckFailure")
        if not isinstance(record.get("check"), dict) or not isinstance(record["check"].get("name"), str):
            raise DataError(f"{at}.check.name must be the check's name (a string)")
        conditions = record.get("conditions_results", [])
        if record["type"] == "CheckResult" and not isinstance(conditions, list):
            raise DataError(f"{at}.conditions_results must be a list")
        for j, cond in enumerate(conditions if record["type"] == "CheckResult" else []):
            if not isinstance(cond, dict) or str(cond.get("Status")) not in _STATUS:
                raise DataError(
                    f"{at}.conditions_results[{j}].Status must be one of {', '.join(_STATUS)}"
                    + (f", not {cond.get('Status')!r}" if isinstance(cond, dict) else "")
                )
    return records


def _judge(
    records: Sequence[Mapping[str, Any]], label: str, cfg: DeepchecksConfig, *, explicit: frozenset[str]
) -> list[CheckResult]:
    skipped = {_key(s) for s in cfg.skip}
    rows: list[CheckResult] = []
    for record in records:
        name = str(record["check"]["name"])
        header = str(record.get("header") or name)
        base_id = f"deepchecks:{label}/{header}"
        info = {"check": name, "suite": label, "header": header}
        if _key(name) in skipped:
            continue  # left out of the suites here; in a saved result, judged as if it had been
        if record["type"] == "CheckFailure":
            reason = str(record.get("exception") or "no reason given")
            kind = record.get("exception_type")
            if kind in _NOT_APPLICABLE and _key(name) not in explicit:
                rows.append(
                    _row(
                        base_id,
                        "warn",
                        header,
                        f"not run, it does not apply here: {reason}",
                        {**info, "not_run": reason, "exception": kind},
                    )
                )
            else:
                hint = (
                    f"; if it does not apply to this data, list `{name}` in `deepchecks.skip`"
                    if kind is None
                    else ""
                )
                rows.append(
                    _row(
                        base_id,
                        "error",
                        header,
                        f"did not run: {reason}{hint}",
                        {**info, "not_run": reason, "exception": kind},
                    )
                )
            continue
        figures = _figures(record.get("figures"), record.get("value"))
        conditions = record.get("conditions_results") or []
        for i, cond in enumerate(conditions):
            status = _STATUS[str(cond["Status"])]
            condition = str(cond.get("Condition", ""))
            more = str(cond.get("More Info", ""))
            check_id = base_id if len(conditions) == 1 else f"{base_id} #{i + 1}"
            rows.append(
                _row(
                    check_id,
                    status,
                    header,
                    f"{cond['Status']}: {condition}: {more}",
                    {
                        **info,
                        "condition": condition,
                        "category": str(cond["Status"]),
                        "more_info": more,
                        "figures": figures,
                    },
                    value=next(iter(figures.values())) if len(figures) == 1 else None,
                )
            )
    if not rows:
        rows.append(
            _row(
                f"deepchecks:{label}",
                "error",
                label,
                "deepchecks judged nothing: no check in it has a condition result",
                {"suite": label},
            )
        )
    return _unique(rows)


def _row(
    check_id: str,
    status: Status,
    metric: str,
    message: str,
    details: dict[str, Any],
    value: float | None = None,
) -> CheckResult:
    return CheckResult(
        id=check_id,
        kind="deepchecks",
        status=status,
        metric=metric,
        message=message,
        value=value,
        method="deepchecks",
        threshold={},
        details=details,
    )


def _unique(rows: list[CheckResult]) -> list[CheckResult]:
    from dataclasses import replace

    seen: dict[str, int] = {}
    out = []
    for row in rows:
        seen[row.id] = seen.get(row.id, 0) + 1
        out.append(row if seen[row.id] == 1 else replace(row, id=f"{row.id} ({seen[row.id]})"))
    return out


def _figures(reduced: Any, value: Any) -> dict[str, float]:
    """The check's numbers: its reduced output where deepchecks gives one, then the number leaves of its value.

    Both: a reduced output can be one aggregate (Feature Drift's weighted score over all columns)
    while the value holds the per-column scores a reader needs to find the drifted column.
    """
    out: dict[str, float] = {}
    todo: list[tuple[str, Any]] = [("", reduced if isinstance(reduced, dict) else None), ("", value)]
    while todo and len(out) < _MAX_FIGURES:
        prefix, item = todo.pop(0)
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, numbers.Real):
            out.setdefault(prefix or "value", float(item))
        elif isinstance(item, dict) and set(item) == {"dtype", "value"}:
            todo.insert(0, (prefix, item["value"]))  # how deepchecks' JSON writes a numpy scalar
        elif isinstance(item, dict):
            todo += [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in item.items()]
    return out


def _key(name: str) -> str:
    """Check names as the config may give them: FeatureDrift, Feature Drift and feature_drift alike."""
    return re.sub(r"[\s_\-]", "", name).lower()
