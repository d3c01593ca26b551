"""Golden cases: known inputs must keep giving their expected outputs.

A golden file holds the inputs, the expected scores and/or labels, and
metadata (model identity, library versions, date). JSON files hold all of it;
CSV and Parquet files hold the table, with the metadata in ``<file>.meta.json``.

Scores are compared like ``numpy.allclose`` (``atol + rtol·|expected|``, with
``atol`` always given). Labels are compared only where the expected score is
further than the tolerance from the decision threshold, so a score that moved
from 0.4999 to 0.5001 is not a regression; a flip budget allows a few changed
labels anyway.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from . import __version__
from .errors import ConfigError, DataError
from .io.tables import read_table

if TYPE_CHECKING:
    import pandas as pd

UpdateMode = Literal["never", "all", "new"]
GOLDEN_KIND = "mlgate-golden"
GOLDEN_SCHEMA_VERSION = "1"
SCORE, LABEL = "__expected_score__", "__expected_label__"
WORST_ROWS = 10

Predict = Callable[["pd.DataFrame"], Any]


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float = 0.0
    threshold: float | None = 0.5
    """Decision threshold of the scores; None when labels do not come from a threshold."""
    flip_budget: int = 0

    def __post_init__(self) -> None:
        for name in ("atol", "rtol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ConfigError(f"`{name}`={value!r} must be a finite number >= 0")
        if not (isinstance(self.flip_budget, int) and self.flip_budget >= 0):
            raise ConfigError(f"`flip_budget`={self.flip_budget!r} must be an integer >= 0")


@dataclass(frozen=True)
class Golden:
    inputs: pd.DataFrame
    scores: NDArray[np.float64] | None = None
    labels: NDArray[Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GoldenComparison:
    """How obtained outputs differ from a golden file's expected ones."""

    path: Path
    n: int
    score_mismatches: NDArray[np.intp]
    label_flips: NDArray[np.intp]
    decisive: int
    """Rows whose expected score is clear of the threshold, so their labels are compared."""
    max_abs_diff: float | None
    tolerance: Tolerance
    table: str
    """The worst rows: input, expected, obtained, difference."""

    @property
    def passed(self) -> bool:
        return self.score_mismatches.size == 0 and self.label_flips.size <= self.tolerance.flip_budget

    def __str__(self) -> str:
        verdict = "matches" if self.passed else "does not match"
        lines = [f"{self.path.name} {verdict} ({self.n} rows)"]
        if self.max_abs_diff is not None:
            lines.append(
                f"  scores: {self.score_mismatches.size} outside atol={self.tolerance.atol:g} + "
                f"rtol={self.tolerance.rtol:g}·|expected|; largest |difference| {self.max_abs_diff:.3g}"
            )
        lines.append(
            f"  labels: {self.label_flips.size} flipped of {self.decisive} decisive rows "
            f"(budget {self.tolerance.flip_budget})"
        )
        return "\n".join(lines)


def metadata(model_identity: str | None = None) -> dict[str, Any]:
    import pandas as pd
    import scipy

    versions = {
        "mlgate": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }
    try:
        import sklearn

        versions["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    return {
        "model": model_identity,
        "versions": versions,
        "python": platform.python_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_golden(path: Path) -> Golden:
    """Read a golden file; anything unreadable or of another kind is a DataError naming it."""
    import pandas as pd

    if path.suffix.lower() == ".json":
        try:
            raw = _json(path, "golden file")
            if raw.get("kind") != GOLDEN_KIND:
                raise ValueError(f"`kind` is {raw.get('kind')!r}, not {GOLDEN_KIND!r}")
            if str(raw.get("schema_version")) != GOLDEN_SCHEMA_VERSION:
                raise ValueError(
                    f"schema_version {raw.get('schema_version')!r} is not {GOLDEN_SCHEMA_VERSION!r}"
                )
            inputs = pd.DataFrame(raw["inputs"], columns=raw["columns"])
            scores = None if raw.get("scores") is None else np.asarray(raw["scores"], dtype=np.float64)
            labels = None if raw.get("labels") is None else np.asarray(raw["labels"])
            meta = dict(raw.get("metadata") or {})
        except (
            OSError,
            UnicodeDecodeError,
            json.JSONDecodeError,
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:
            raise DataError(f"golden file `{path}` is corrupt: {type(exc).__name__}: {exc}") from None
    else:
        frame = read_table(path, what="golden")
        if SCORE not in frame.columns and LABEL not in frame.columns:
            raise DataError(f"golden file `{path}` is corrupt: it has neither `{SCORE}` nor `{LABEL}` column")
        try:
            scores = frame.pop(SCORE).to_numpy(dtype=np.float64) if SCORE in frame.columns else None
        except (TypeError, ValueError) as exc:
            raise DataError(f"golden file `{path}` is corrupt: `{SCORE}` is not numeric: {exc}") from None
        labels = frame.pop(LABEL).to_numpy() if LABEL in frame.columns else None
        inputs = frame
        meta = {}
        if _meta_path(path).is_file():
            try:
                meta = _json(_meta_path(path), "golden metadata")
            except ValueError as exc:
                raise DataError(f"golden metadata `{_meta_path(path)}` is corrupt: {exc}") from None
            if not isinstance(meta, dict):
                raise DataError(
                    f"golden metadata `{_meta_path(path)}` is corrupt: it must hold a JSON object"
                )
    n = len(inputs)
    for name, values in (("scores", scores), ("labels", labels)):
        if values is not None and len(values) != n:
            raise DataError(f"golden file `{path}` is corrupt: {len(values)} {name} for {n} input rows")
    if scores is not None and not np.isfinite(scores).all():
        raise DataError(f"golden file `{path}` is corrupt: expected scores hold NaN or inf")
    return Golden(inputs, scores, labels, meta)


def _json(path: Path, what: str) -> Any:
    """A golden JSON file within the size and nesting caps; a ValueError says what is wrong with it."""
    from .inputs import MAX_DEPTH, MAX_JSON_BYTES, read_text, too_deep

    text = read_text(path, limit=MAX_JSON_BYTES, what=what, error=DataError)
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("it nests lists and objects too deep to read") from None
    deep = too_deep(data)
    if deep is not None:
        raise ValueError(f"`{deep}` nests lists and objects more than {MAX_DEPTH} deep")
    return data


def write_golden(path: Path, golden: Golden) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        body = {
            "kind": GOLDEN_KIND,
            "schema_version": GOLDEN_SCHEMA_VERSION,
            "metadata": golden.metadata,
            "columns": [str(c) for c in golden.inputs.columns],
            # Python floats keep full precision (pandas' to_json rounds to 10 digits).
            "inputs": golden.inputs.astype(object).where(golden.inputs.notna(), None).values.tolist(),
            "scores": None if golden.scores is None else [float(x) for x in golden.scores],
            "labels": None if golden.labels is None else np.asarray(golden.labels).tolist(),
        }
        path.write_text(json.dumps(body, indent=1, default=str) + "\n", encoding="utf-8")
        return
    frame = golden.inputs.copy()
    if golden.scores is not None:
        frame[SCORE] = golden.scores
    if golden.labels is not None:
        frame[LABEL] = golden.labels
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    _meta_path(path).write_text(json.dumps(golden.metadata, indent=1) + "\n", encoding="utf-8")


def outputs(golden_path: Path, inputs: pd.DataFrame, predict: Predict, what: str) -> NDArray[Any]:
    """Run ``predict`` on golden inputs; a failure names the columns or the first bad row."""
    try:
        out = np.asarray(predict(inputs))
    except Exception as exc:
        raise DataError(_explain_failure(golden_path, inputs, predict, exc, what)) from None
    if out.ndim == 2 and out.shape[1] == 2 and what == "scores":
        out = out[:, 1]  # predict_proba of a binary model: P(positive)
    if out.ndim != 1 or out.shape[0] != len(inputs):
        raise DataError(
            f"the model's {what} for golden file `{golden_path.name}` have shape {out.shape}; "
            f"expected ({len(inputs)},), one per input row"
        )
    if what == "scores":
        try:
            out = out.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"the model's scores for golden file `{golden_path.name}` are not numbers: {out[:3]!r}"
            ) from None
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise DataError(
                f"the model's scores for golden file `{golden_path.name}` are NaN or inf at rows {bad[:5].tolist()}"
            )
    return out


def _explain_failure(path: Path, inputs: pd.DataFrame, predict: Predict, exc: Exception, what: str) -> str:
    message = f"the model failed to produce {what} for golden file `{path.name}`: {type(exc).__name__}: {exc}"
    expected = getattr(getattr(predict, "__self__", None), "feature_names_in_", None)
    if expected is not None:
        have, want = {str(c) for c in inputs.columns}, {str(c) for c in expected}
        if have != want:
            return (
                f"{message}. The golden inputs' columns differ from the model's: missing "
                f"{sorted(want - have)}, unexpected {sorted(have - want)}"
            )
    for row in range(min(len(inputs), 1_000)):  # find the first row that raises on its own
        try:
            predict(inputs.iloc[[row]])
        except Exception as row_exc:
            return f"{message}. Row {row} raises on its own: {type(row_exc).__name__}: {row_exc}"
    return message


def compare_golden(
    path: Path, golden: Golden, scores: NDArray[Any] | None, labels: NDArray[Any] | None, tol: Tolerance
) -> GoldenComparison:
    import pandas as pd

    n = len(golden.inputs)
    table = pd.DataFrame(index=range(n))
    mismatches = np.empty(0, dtype=np.intp)
    max_diff = None
    order_key = np.zeros(n)
    if golden.scores is not None and scores is not None:
        diff = scores - golden.scores
        allowed = tol.atol + tol.rtol * np.abs(golden.scores)
        mismatches = np.flatnonzero(np.abs(diff) > allowed)
        max_diff = float(np.max(np.abs(diff))) if n else 0.0
        table["expected_score"], table["obtained_score"], table["difference"] = golden.scores, scores, diff
        order_key = np.abs(diff) / np.where(allowed > 0, allowed, 1.0)
    flips = np.empty(0, dtype=np.intp)
    decisive = 0
    if golden.labels is not None and labels is not None:
        clear = np.ones(n, dtype=bool)
        if golden.scores is not None and tol.threshold is not None:
            clear = np.abs(golden.scores - tol.threshold) > tol.atol + tol.rtol * np.abs(golden.scores)
        decisive = int(clear.sum())
        changed = np.asarray(golden.labels).astype(str) != np.asarray(labels).astype(str)
        flips = np.flatnonzero(changed & clear)
        table["expected_label"], table["obtained_label"] = golden.labels, labels
        order_key = order_key + changed * clear * 1e9
    worst = np.argsort(-order_key, kind="stable")[:WORST_ROWS]
    shown = pd.concat(
        [golden.inputs.iloc[worst].reset_index(drop=True), table.iloc[worst].reset_index(drop=True)], axis=1
    )
    shown.index = worst
    return GoldenComparison(
        path, n, mismatches, flips, decisive, max_diff, tol, shown.to_string(max_colwidth=24)
    )


def _check_columns(path: Path, inputs: pd.DataFrame, features: Sequence[str] | None) -> None:
    if features is None:
        return
    have, want = [str(c) for c in inputs.columns], [str(c) for c in features]
    if have != want:
        missing, unexpected = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        detail = (
            f"missing {missing}, unexpected {unexpected}"
            if missing or unexpected
            else "same names, another order"
        )
        raise DataError(
            f"golden file `{path.name}` has input columns {have}, but the model expects {want}: {detail}"
        )


def _round_trip(path: Path, inputs: pd.DataFrame) -> pd.DataFrame:
    """The inputs as reading the golden file back will give them (text formats retype values)."""
    import io

    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".json":
        rows = json.loads(
            json.dumps(inputs.astype(object).where(inputs.notna(), None).values.tolist(), default=str)
        )
        return pd.DataFrame(rows, columns=[str(c) for c in inputs.columns])
    if suffix == ".csv":
        return pd.read_csv(io.StringIO(inputs.to_csv(index=False)))
    return inputs


def update_allowed(mode: UpdateMode, force: bool) -> bool:
    """Updating golden files rewrites the truth; in CI that needs --mlgate-force-update."""
    if mode == "never":
        return False
    return force or os.environ.get("CI", "").lower() not in ("true", "1", "yes")


@dataclass
class GoldenStore:
    """Golden files of one folder, checked or (re)written according to the update mode."""

    directory: Path
    artifacts: Path
    mode: UpdateMode = "never"
    force: bool = False
    used: set[Path] = field(default_factory=set)

    def check(
        self,
        name: str,
        inputs: pd.DataFrame | None = None,
        *,
        scores: Predict | None = None,
        labels: Predict | None = None,
        atol: float,
        rtol: float = 0.0,
        threshold: float | None = 0.5,
        flip_budget: int = 0,
        model: str | None = None,
        features: Sequence[str] | None = None,
    ) -> GoldenComparison | None:
        """Compare (or write) golden file ``name``. Returns None when the file was written.

        Raises ``GateFailure`` on a mismatch or a missing file, ``DataError`` when
        the model cannot run on the golden inputs.
        """
        __tracebackhide__ = True
        from .errors import GateFailure

        tol = Tolerance(atol, rtol, threshold, flip_budget)
        if scores is None and labels is None:
            raise ConfigError(
                "`scores` or `labels` must be given: a function from the inputs to the model's outputs"
            )
        known = (".json", ".csv", ".parquet", ".pq")
        path = self.directory / (name if Path(name).suffix.lower() in known else f"{name}.json")
        self.used.add(path.resolve())
        exists = path.exists()
        wants_update = self.mode == "all" or (self.mode == "new" and not exists)
        if wants_update and not update_allowed(self.mode, self.force):
            raise GateFailure(
                f"golden file `{path.name}` was not {'updated' if exists else 'written'}: CI=true refuses to "
                "rewrite expected outputs.\n\nFix: run with --mlgate-update locally and commit the file, or pass "
                "--mlgate-force-update if CI really must write it."
            )
        if wants_update:
            # An existing file keeps its (possibly hand-picked) inputs; only its outputs are renewed.
            source = read_golden(path).inputs if exists else inputs
            if source is None:
                raise ConfigError(f"`inputs` must be given to create golden file `{path.name}`")
            # Outputs come from the inputs as the file will give them back, so a fresh file matches.
            source = _round_trip(path, source.reset_index(drop=True))
            write_golden(
                path,
                Golden(
                    source,
                    None if scores is None else outputs(path, source, scores, "scores"),
                    None if labels is None else outputs(path, source, labels, "labels"),
                    metadata(model),
                ),
            )
            return None
        if not exists:
            raise GateFailure(
                f"golden file `{path}` does not exist.\n\n"
                "Fix: run `pytest --mlgate-update` (or --mlgate-update-new-only) once to write it from the current "
                "model, check the values, and commit the file."
            )
        golden = read_golden(path)
        _check_columns(path, golden.inputs, features)
        got_scores = (
            None
            if scores is None or golden.scores is None
            else outputs(path, golden.inputs, scores, "scores")
        )
        got_labels = (
            None
            if labels is None or golden.labels is None
            else outputs(path, golden.inputs, labels, "labels")
        )
        if got_scores is None and got_labels is None:
            raise DataError(f"golden file `{path.name}` holds no expected outputs of the kind asked for")
        result = compare_golden(path, golden, got_scores, got_labels, tol)
        if result.passed:
            return result
        stem = f"{path.parent.name}-{path.name}"  # two folders may both hold x.json
        obtained = self.artifacts / f"{stem}.obtained.json"
        write_golden(obtained, Golden(golden.inputs, got_scores, got_labels, metadata(model)))
        diff_path = self.artifacts / f"{stem}.diff.txt"
        diff_path.write_text(f"{result}\n\nworst rows:\n{result.table}\n", encoding="utf-8")
        raise GateFailure(
            f"{result}\n\nworst rows (index = row of the golden file):\n{result.table}\n\n"
            f"obtained outputs: {obtained}\ndiff: {diff_path}\n\n"
            "Fix: if the change is intended, run with --mlgate-update and commit the new golden file; "
            "otherwise the model regressed on known inputs."
        )

    def orphans(self) -> list[Path]:
        """Golden files in this folder that no check used in this run."""
        if not self.directory.is_dir():
            return []
        files = [
            p
            for p in self.directory.iterdir()
            if p.suffix.lower() in (".json", ".csv", ".parquet") and not p.name.endswith(".meta.json")
        ]
        return sorted(p for p in files if p.resolve() not in self.used)
