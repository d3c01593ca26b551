"""From a config to validated arrays: the labels and both models' predictions.

Every problem with the inputs becomes a ``DataError`` (exit 3) or a
``ConfigError`` (exit 2) that names the file, the column and example rows.
Class labels are matched by their text form, so ``1`` in a CSV and ``"1"`` in
YAML are the same label.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .config import GateConfig, Source
from .errors import ConfigError, DataError
from .io.tables import file_sha256, read_table

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_PROB_SUM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Predictions:
    """One model's predictions, aligned with the data rows."""

    identity: dict[str, Any]
    labels: IntArray | None = None
    scores: FloatArray | None = None
    values: FloatArray | None = None

    def for_needs(self, needs: str, metric: str) -> NDArray[Any]:
        array = {"labels": self.labels, "scores": self.scores, "values": self.values}[needs]
        if array is None:
            role = self.identity["role"]
            raise ConfigError(
                f"metric `{metric}` needs {needs} but `{role}` gives "
                f"{'labels only' if self.labels is not None else 'no such predictions'}; "
                f"point `{role}` at probabilities (type: probability) or drop `{metric}`"
            )
        return array


@dataclass(frozen=True)
class EvalData:
    task: str
    y: NDArray[Any]
    """Class codes 0..K-1 (1 = positive for binary), or float targets."""
    classes: tuple[str, ...]
    candidate: Predictions | None
    baseline: Predictions | None
    data_path: Path
    data_sha256: str
    frame: pd.DataFrame = field(repr=False)
    """The evaluation table itself, for the data checks."""
    missing_baseline: dict[str, Any] | None = None
    """The baseline's identity when its registry alias is not set yet (a first run)."""

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def load(config: GateConfig) -> EvalData:
    frame = read_table(config.data.path, config.data.format)
    target = config.data.target
    _require_columns(frame, [target], f"data file `{config.data.path.name}`", "data.target")
    raw_y = frame[target]
    sources = [s for s in (config.candidate, config.baseline) if s is not None]
    models, missing_baseline = _models(sources, config)
    if missing_baseline is not None:
        sources = [s for s in sources if s.role != "baseline"]
    classes: tuple[str, ...] = ()
    if not sources:
        # Data checks only: the target is a column like any other.
        y: NDArray[Any] = raw_y.to_numpy()
        preds: list[Predictions] = []
    elif config.task == "regression":
        _reject_missing(raw_y, f"target column `{target}`")
        y = _finite_floats(raw_y, f"target column `{target}`")
        preds = [_regression_predictions(config, frame, s, models.get(s.role)) for s in sources]
    else:
        _reject_missing(raw_y, f"target column `{target}`")
        y_text = raw_y.astype(str).to_numpy()
        classes, y = _encode_target(config, y_text, sources, models)
        preds = [_classification_predictions(config, frame, s, classes, models.get(s.role)) for s in sources]
    return EvalData(
        task=config.task,
        y=y,
        classes=classes,
        candidate=preds[0] if preds else None,
        baseline=preds[1] if len(preds) > 1 else None,
        data_path=config.data.path,
        data_sha256=file_sha256(config.data.path),
        frame=frame,
        missing_baseline=missing_baseline,
    )


# --- the target -----------------------------------------------------------------------------


def _label_order(labels: Sequence[str]) -> list[str]:
    def key(label: str) -> tuple[int, float, str]:
        try:
            return (0, float(label), label)
        except ValueError:
            return (1, 0.0, label)

    return sorted(set(labels), key=key)


def _encode_target(
    config: GateConfig, y_text: NDArray[Any], sources: Sequence[Source], models: dict[str, Any]
) -> tuple[tuple[str, ...], IntArray]:
    target = config.data.target
    present = _label_order(list(np.unique(y_text)))
    if len(present) < 2:
        raise DataError(
            f"target column `{target}` has fewer than 2 classes: only {present!r} is present; "
            "a classifier cannot be evaluated on one class"
        )
    if config.task == "binary":
        if len(present) > 2:
            raise DataError(
                f"target column `{target}` has {len(present)} labels {present[:10]!r} but `task`=binary; "
                "use `task: multiclass`"
            )
        positive = _positive_label(config, present)
        negative = present[0] if present[1] == positive else present[1]
        classes: tuple[str, ...] = (negative, positive)
    else:
        if config.labels is not None:
            classes = tuple(str(label) for label in config.labels)
        else:
            known = set(present)
            for source in sources:
                if source.columns:
                    known |= set(source.columns)
                if source.role in models:
                    known |= {str(c) for c in _model_classes(models[source.role], source)}
            classes = tuple(_label_order(list(known)))
    index = {label: i for i, label in enumerate(classes)}
    unknown = [label for label in present if label not in index]
    if unknown:
        rows = np.flatnonzero(np.isin(y_text, unknown))[:5].tolist()
        raise DataError(
            f"target column `{target}` has labels outside `labels` {list(classes)!r}: {unknown!r} (rows {rows})"
        )
    codes = np.fromiter((index[v] for v in y_text), dtype=np.intp, count=y_text.shape[0])
    return classes, codes


def _positive_label(config: GateConfig, present: list[str]) -> str:
    if config.positive_label is not None:
        positive = str(config.positive_label)
        if positive not in present:
            raise ConfigError(
                f"`positive_label`={config.positive_label!r} must be one of the labels in target column "
                f"`{config.data.target}`: {present!r}"
            )
        return positive
    for candidates in (("0", "1"), ("False", "True"), ("0.0", "1.0")):
        if set(present) == set(candidates):
            return candidates[1]
    raise ConfigError(
        f"`positive_label` must be set: target column `{config.data.target}` has labels {present!r}, "
        "and only 0/1 or False/True imply which one is positive"
    )


# --- predictions ----------------------------------------------------------------------------


def _source_frame(frame: pd.DataFrame, source: Source) -> tuple[pd.DataFrame, str]:
    if source.file is None:
        return frame, "data file"
    preds = read_table(source.file, what=f"{source.role} predictions")
    if len(preds) != len(frame):
        raise DataError(
            f"{source.role} predictions file `{source.file}` has {len(preds)} rows but the data has "
            f"{len(frame)}; predictions must align one to one with the data rows"
        )
    return preds, f"{source.role} predictions file `{source.file.name}`"


def _identity(source: Source, model: Any = None) -> dict[str, Any]:
    ref = getattr(model, "ref", None)
    if ref is not None:
        return _mlflow_identity(source, ref)
    path = source.model or source.file
    return {
        "role": source.role,
        "name": source.describe(),
        "kind": "model" if source.model else ("file" if source.file else "column"),
        "path": str(path) if path else None,
        "sha256": file_sha256(path) if path and path.is_file() else None,
    }


def _regression_predictions(
    config: GateConfig, frame: pd.DataFrame, source: Source, model: Any
) -> Predictions:
    if model is not None:
        values = _finite_floats(
            _predict(model, frame, config, source, "predict"), f"{source.role} model predictions"
        )
        return Predictions(_identity(source, model), values=values)
    table, where = _source_frame(frame, source)
    assert source.column is not None
    _require_columns(table, [source.column], where, f"{source.role}.column")
    return Predictions(
        _identity(source),
        values=_finite_floats(table[source.column], f"{source.role} column `{source.column}`"),
    )


def _classification_predictions(
    config: GateConfig, frame: pd.DataFrame, source: Source, classes: tuple[str, ...], model: Any
) -> Predictions:
    role = source.role
    if model is not None:
        return _model_predictions(config, frame, source, classes, model)
    table, where = _source_frame(frame, source)
    if source.columns is not None:
        missing_classes = [c for c in classes if c not in source.columns]
        if missing_classes:
            raise ConfigError(
                f"`{role}.columns` must map every class to a column; missing {missing_classes!r}"
            )
        columns = [source.columns[c] for c in classes]
        _require_columns(table, columns, where, f"{role}.columns")
        scores = np.column_stack([_probabilities(table[c], f"{role} column `{c}`") for c in columns])
        _check_rows_sum_to_one(scores, f"{role} probability columns")
        return Predictions(_identity(source), labels=scores.argmax(axis=1).astype(np.intp), scores=scores)
    assert source.column is not None
    _require_columns(table, [source.column], where, f"{role}.column")
    column = table[source.column]
    what = f"{role} column `{source.column}`"
    if source.type == "label":
        _reject_missing(column, what)
        return Predictions(
            _identity(source), labels=_encode_labels(column.astype(str).to_numpy(), classes, what)
        )
    score = _probabilities(column, what)
    labels = (score >= config.threshold).astype(np.intp)
    return Predictions(_identity(source), labels=labels, scores=score)


def _model_predictions(
    config: GateConfig, frame: pd.DataFrame, source: Source, classes: tuple[str, ...], model: Any
) -> Predictions:
    what = f"{source.role} model `{source.uri or source.model}`"
    model_classes = [str(c) for c in _model_classes(model, source)]
    unknown = [c for c in classes if c not in model_classes]
    if unknown:
        raise DataError(
            f"{what} does not know the labels {unknown!r} that the data uses; it knows {model_classes!r}"
        )
    proba = np.asarray(_predict(model, frame, config, source, "predict_proba"), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(model_classes):
        raise DataError(
            f"{what} returned probabilities of shape {proba.shape}; expected (n, {len(model_classes)})"
        )
    order = [model_classes.index(c) for c in classes]
    scores = proba[:, order]
    _check_finite(scores, f"{what} probabilities")
    if config.task == "binary":
        score = scores[:, 1]
        return Predictions(
            _identity(source, model), labels=(score >= config.threshold).astype(np.intp), scores=score
        )
    return Predictions(_identity(source, model), labels=scores.argmax(axis=1).astype(np.intp), scores=scores)


def _models(sources: list[Source], config: GateConfig) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The sources' models by role, and the baseline's identity if a first run has no champion yet."""
    from .io.mlflow_model import MissingAlias
    from .io.models import load_source_model

    models: dict[str, Any] = {}
    for source in sources:
        if source.model is None and source.uri is None:
            continue
        try:
            models[source.role] = load_source_model(source, config)
        except MissingAlias as exc:
            if source.role != "baseline" or exc.ref.alias != config.mlflow.alias:
                raise  # the candidate's alias, or another alias than production's: a typo, not a first run
            return models, {**_mlflow_identity(source, exc.ref), "missing": True}
    return models, None


def _mlflow_identity(source: Source, ref: Any) -> dict[str, Any]:
    return {
        "role": source.role,
        "name": source.describe(),
        "kind": "mlflow",
        "path": None,
        "sha256": None,
        **ref.identity(),
    }


def _model_classes(model: Any, source: Source) -> list[Any]:
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        raise DataError(
            f"{source.role} model `{source.uri or source.model}` has no `classes_`/`predict_proba`; "
            "a classification gate needs a probabilistic classifier"
        )
    return list(classes)


def _predict(model: Any, frame: pd.DataFrame, config: GateConfig, source: Source, method: str) -> Any:
    features = source_features(frame, config, source, model)
    if not hasattr(model, method):
        raise DataError(f"{source.role} model `{source.uri or source.model}` has no `{method}` method")
    try:
        return getattr(model, method)(frame[features])
    except Exception as exc:
        who = f"{source.role} model `{source.uri or source.model}` failed to {method} on the data"
        hint = _missing_hint(frame, features, config)
        if hint:
            said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{who}: {hint} (the model said: {said})") from None
        raise DataError(f"{who}: {exc}") from None


def _missing_hint(frame: pd.DataFrame, features: list[str], config: GateConfig) -> str:
    """Name the feature columns that hold NaN: the usual reason a model refuses the rows."""
    gaps = frame[features].isna()
    counts = gaps.sum()
    named = [
        f"`{column}` ({int(counts[column])} rows, e.g. rows {gaps.index[gaps[column]].tolist()[:5]})"
        for column in features
        if counts[column]
    ]
    if not named:
        return ""
    return (
        f"data file `{config.data.path.name}` has missing values in {', '.join(named)}; "
        "fill or drop them upstream, or use a model that accepts NaN"
    )


def model_features(frame: pd.DataFrame, config: GateConfig) -> list[str]:
    """The columns a model source is given: `data.features`, else all but target and predictions."""
    return list(config.data.features) if config.data.features else _default_features(frame, config)


def source_features(frame: pd.DataFrame, config: GateConfig, source: Source, model: Any) -> list[str]:
    """The columns one model is given, in its order; a column the data lacks is a ``DataError``.

    In order: `<role>.features`, the model's own `feature_names_in_` (what it was fitted on,
    so a sensitive attribute or a column only the other model uses stays out), `data.features`,
    else every column but the target and the predictions.
    """
    names = getattr(model, "feature_names_in_", None)
    if source.features:
        features, origin = list(source.features), f"`{source.role}.features`"
    elif names is not None and len(names):
        features, origin = [str(c) for c in names], "the model's own `feature_names_in_`"
    else:
        return _checked(frame, model_features(frame, config), config, "data.features")
    present = {str(c) for c in frame.columns}
    missing = [c for c in features if c not in present]
    if missing:
        close = difflib.get_close_matches(missing[0], sorted(present), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else "."
        raise DataError(
            f"`{source.role}.features`: column `{missing[0]}` is not in the data file "
            f"`{config.data.path.name}`{hint} The {source.role} model `{source.uri or source.model}` wants "
            f"columns {_names(missing)}, which the data lacks (its inputs, "
            f"from {origin}: {_names(features)}). Add them to the data, or set `{source.role}.features` "
            "to the columns the model was trained on"
        )
    return features


def _checked(frame: pd.DataFrame, features: list[str], config: GateConfig, key: str) -> list[str]:
    _require_columns(frame, features, f"data file `{config.data.path.name}`", key)
    return features


def _names(columns: Sequence[str], shown: int = 20) -> str:
    listed = ", ".join(f"`{c}`" for c in columns[:shown])
    return listed + (f" … ({len(columns)} in all)" if len(columns) > shown else "")


def _default_features(frame: pd.DataFrame, config: GateConfig) -> list[str]:
    used = {config.data.target, config.data.id}
    for source in (config.candidate, config.baseline):
        if source is not None and source.file is None:
            if source.column:
                used.add(source.column)
            if source.columns:
                used |= set(source.columns.values())
    return [str(c) for c in frame.columns if c not in used]


# --- validation helpers ---------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str, key: str) -> None:
    available = [str(c) for c in frame.columns]
    for column in columns:
        if column not in available:
            close = difflib.get_close_matches(column, available, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            shown = ", ".join(available[:20]) + (" …" if len(available) > 20 else "")
            raise DataError(f"`{key}`: column `{column}` is not in the {where}{hint} (columns: {shown})")


def _reject_missing(column: pd.Series, what: str) -> None:
    missing = column.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise DataError(f"{what} has {int(missing.sum())} missing value(s) (first rows: {rows})")


def _finite_floats(column: Any, what: str) -> FloatArray:
    import pandas as pd

    series = column if isinstance(column, pd.Series) else pd.Series(np.asarray(column).ravel())
    numeric = pd.to_numeric(series, errors="coerce")
    bad_text = numeric.isna() & series.notna()
    if bad_text.any():
        rows = np.flatnonzero(bad_text.to_numpy())[:5].tolist()
        example = series.iloc[rows[0]]
        raise DataError(f"{what} must be numeric; row {rows[0]} holds {example!r} (rows {rows})")
    values: FloatArray = numeric.to_numpy(dtype=np.float64)
    _check_finite(values, what)
    return values


def _check_finite(values: FloatArray, what: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        kind = "NaN" if np.isnan(values[bad]).any() else "inf"
        raise DataError(f"{what} has {rows.size} row(s) with {kind} (first rows: {rows[:5].tolist()})")


def _probabilities(column: pd.Series, what: str) -> FloatArray:
    values = _finite_floats(column, what)
    if values.size > 1 and np.isin(values, (0.0, 1.0)).all():
        raise DataError(
            f"{what} holds only 0 and 1: these look like labels, not probabilities. "
            "Set `type: label` on that source, or point it at the model's probabilities"
        )
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        rows = np.flatnonzero(outside)[:5].tolist()
        raise DataError(
            f"{what} must hold probabilities in [0, 1]; row {rows[0]} is {float(values[rows[0]])!r} (rows {rows}). "
            "If these are labels, set `type: label`"
        )
    return values


def _check_rows_sum_to_one(scores: FloatArray, what: str) -> None:
    sums = scores.sum(axis=1)
    off = np.abs(sums - 1.0) > _PROB_SUM_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise DataError(f"{what} must sum to 1 in every row; row {row} sums to {sums[row]:.6g}")


def _encode_labels(values: NDArray[Any], classes: tuple[str, ...], what: str) -> IntArray:
    index = {label: i for i, label in enumerate(classes)}
    unknown = sorted({v for v in values if v not in index})
    if unknown:
        rows = np.flatnonzero(np.isin(values, unknown))[:5].tolist()
        raise DataError(f"{what} has labels that the target does not know: {unknown[:10]!r} (rows {rows})")
    return np.fromiter((index[v] for v in values), dtype=np.intp, count=values.shape[0])
