"""Models from an MLflow tracking server or registry, by URI.

A URI is resolved once to a registered version (``models:/credit@champion`` →
``credit`` v3) and the model is loaded from the pinned ``models:/credit/3``, so
an alias that moves during a run cannot swap the model under the gate.
Loading an MLflow model runs its flavor's loader, which for scikit-learn
unpickles, so it needs ``trust: true`` like a pickle file does.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, DataError
from ..registry.connect import RegistryError, client, failure, import_mlflow, is_missing, redact

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")
_RUNS = re.compile(r"^runs:/(?P<run_id>[^/]+)/(?P<path>.+)$")
_CACHE_ENTRIES = 8
SAFE_LOADERS = frozenset({"mlflow.onnx"})
"""pyfunc loaders that read data, not code; every other flavor needs `trust: true`."""
_DATA_KEYS = {
    "python_function": frozenset({"loader_module", "python_version", "data", "env", "code"}),
    "onnx": frozenset({"onnx_version", "data", "providers", "onnx_session_options", "code", "extra_files"}),
}
"""What an untrusted model's MLmodel may say in these flavors: every key here names data, not code."""
_CODE_KEYS = (
    "python_model",
    "cloudpickle_version",
    "python_model_compression",
    "model_code_path",
    "artifacts",
)
_PICKLES = frozenset({".pkl", ".pickle", ".cloudpickle", ".joblib", ".dill"})


@dataclass(frozen=True)
class ModelRef:
    """What a model URI resolved to. ``version`` is None for a run's model that is not registered."""

    uri: str
    tracking_uri: str
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    source: str | None = None
    artifact_uri: str | None = None
    """Where the model's files are, when it is not a registered version."""

    @property
    def pinned(self) -> str:
        """The URI that names this exact model: an alias or a run is replaced by the version."""
        return f"models:/{self.name}/{self.version}" if self.version else self.uri

    def identity(self) -> dict[str, Any]:
        """The report's provenance keys (``model_name`` is the registered name)."""
        out = asdict(self)
        out["model_name"] = out.pop("name")
        out["tracking_uri"] = redact(self.tracking_uri)
        out["pinned"] = self.pinned
        return out


class MissingAlias(RegistryError):
    """The registered model exists but the alias is not set (a first run has no champion)."""

    def __init__(self, message: str, ref: ModelRef) -> None:
        super().__init__(message)
        self.ref = ref


def parse(uri: str, role: str) -> dict[str, str | None]:
    models, runs = _MODELS.match(uri), _RUNS.match(uri)
    if models:
        version = models["version"]
        if version is not None and not version.isdigit():
            raise ConfigError(
                f"`{role}.model`={uri!r} must name a version number or an alias: "
                f"use `models:/{models['name']}/<version>` or `models:/{models['name']}@<alias>` "
                "(registry stages are deprecated in MLflow)"
            )
        return {"name": models["name"], "alias": models["alias"], "version": version}
    if runs:
        return {"run_id": runs["run_id"], "path": runs["path"]}
    raise ConfigError(
        f"`{role}.model`={uri!r} must look like `models:/name@alias`, `models:/name/3` or `runs:/<run id>/model`"
    )


def resolve(uri: str, tracking: str, role: str, mlflow_client: MlflowClient | None = None) -> ModelRef:
    """Find the registered version behind ``uri``; ``RegistryError`` names what is missing."""
    parts = parse(uri, role)
    c = mlflow_client or client(tracking)
    where = f"{role} model `{uri}`"
    if "run_id" in parts:
        return _resolve_run(c, uri, tracking, where, str(parts["run_id"]), str(parts["path"]))
    name = str(parts["name"])
    try:
        if parts["alias"] is not None:
            mv = c.get_model_version_by_alias(name, str(parts["alias"]))
        else:
            mv = c.get_model_version(name, str(parts["version"]))
    except Exception as exc:
        if not is_missing(exc):
            raise failure(exc, tracking, where) from None
        raise _explain_missing(c, tracking, where, uri, name, parts) from None
    return ModelRef(uri, tracking, mv.name, str(mv.version), parts["alias"], mv.run_id, mv.source)


def _resolve_run(c: MlflowClient, uri: str, tracking: str, where: str, run_id: str, path: str) -> ModelRef:
    """A run's model: an MLflow 3 logged model of that name, else a model folder in the run's artifacts."""
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"{where}: run `{run_id}` does not exist on `{redact(tracking)}`") from None
        raise failure(exc, tracking, where) from None
    source, artifact_uri = None, None
    try:
        search = getattr(c, "search_logged_models", None)
        if search is not None:
            found = [
                m
                for m in search(
                    experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
                )
                if m.name == path
            ]
            if found:
                source, artifact_uri = f"models:/{found[-1].model_id}", found[-1].artifact_location
        if artifact_uri is None and any(f.path.endswith("MLmodel") for f in c.list_artifacts(run_id, path)):
            source = artifact_uri = f"{run.info.artifact_uri.rstrip('/')}/{path}"
        versions = c.search_model_versions(f"run_id='{run_id}'") if source else []
    except Exception as exc:
        raise failure(exc, tracking, where) from None
    if artifact_uri is None:
        raise RegistryError(
            f"{where}: run `{run_id}` has no model named `{path}` (a run without a logged model?)"
        )
    mine = {(v.name, str(v.version)) for v in versions if v.source in (source, uri)}
    name, version = next(iter(mine)) if len(mine) == 1 else (None, None)
    return ModelRef(uri, tracking, name, version, None, run_id, source, artifact_uri)


def _explain_missing(
    c: MlflowClient, tracking: str, where: str, uri: str, name: str, parts: dict[str, str | None]
) -> RegistryError:
    try:
        registered = c.get_registered_model(name)
    except Exception as exc:
        if not is_missing(exc):
            return failure(exc, tracking, where)
        return RegistryError(
            f"{where}: registered model `{name}` does not exist on `{redact(tracking)}`; "
            "register a version first (mlflow.register_model or log_model(registered_model_name=...))"
        )
    if parts["alias"] is not None:
        aliases = ", ".join(f"@{a} → v{v}" for a, v in sorted(registered.aliases.items())) or "none"
        return MissingAlias(
            f"{where}: registered model `{name}` has no alias `@{parts['alias']}` (aliases: {aliases})",
            ModelRef(uri, tracking, name, None, parts["alias"]),
        )
    try:
        versions = sorted(int(v.version) for v in c.search_model_versions(f"name='{name}'"))
    except Exception:
        versions = []
    shown = ", ".join(map(str, versions[-10:])) or "none"
    return RegistryError(
        f"{where}: version {parts['version']} of `{name}` does not exist (deleted?); its versions are: {shown}"
    )


_LOADED: dict[tuple[str, str, bool], MlflowModel] = {}
_DOWNLOADS: list[tempfile.TemporaryDirectory[str]] = []


def _downloads() -> str:
    """One folder per process for downloaded models, removed when the process exits."""
    if not _DOWNLOADS:
        _DOWNLOADS.append(tempfile.TemporaryDirectory(prefix="mlgate-models-"))
    return _DOWNLOADS[0].name


def load_mlflow_model(uri: str, *, tracking: str, trust: bool, role: str) -> MlflowModel:
    """Resolve, then load once per process: every URI that pins the same version shares one model and cache."""
    ref = resolve(uri, tracking, role)
    key = (ref.tracking_uri, ref.pinned, trust)
    if key not in _LOADED:
        _LOADED[key] = MlflowModel(ref, _load_pyfunc(ref, trust=trust, role=role), role)
    return _LOADED[key].named(ref, role)


def _load_pyfunc(ref: ModelRef, *, trust: bool, role: str) -> tuple[Any, Path]:
    mlflow = import_mlflow()
    where = f"{role} model `{ref.uri}`" + (f" ({ref.pinned})" if ref.pinned != ref.uri else "")
    local = Path(tempfile.mkdtemp(prefix="model-", dir=_downloads()))
    try:
        if ref.name is not None and ref.version is not None:
            # `models:/` URIs resolve through the process-wide registry URI; ask our client instead.
            artifact_uri = client(ref.tracking_uri).get_model_version_download_uri(ref.name, ref.version)
        else:
            artifact_uri = ref.artifact_uri or ref.uri
        path = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=artifact_uri, dst_path=str(local), tracking_uri=ref.tracking_uri
            )
        )
    except Exception as exc:
        if is_missing(exc) or "Failed to download artifacts" in str(exc):
            raise RegistryError(
                f"{where}: there is no model at that location (a run without a logged model?)"
            ) from None
        raise failure(exc, ref.tracking_uri, f"{where}: downloading the model") from None
    if not (path / "MLmodel").is_file():
        raise RegistryError(
            f"{where}: no MLmodel file in the downloaded artifacts; this is not an MLflow model"
        )
    try:
        info = mlflow.models.Model.load(str(path / "MLmodel"))
    except Exception as exc:
        raise DataError(f"{where}: its MLmodel file cannot be read: {type(exc).__name__}: {exc}") from None
    pyfunc = info.flavors.get("python_function")
    if pyfunc is None:
        flavors = ", ".join(sorted(info.flavors)) or "none"
        raise DataError(
            f"{where}: flavor(s) {flavors} cannot predict: the model has no python_function flavor. "
            "Log it with a flavor that supports pyfunc (mlflow.sklearn, mlflow.onnx, mlflow.pyfunc)"
        )
    loader = str(pyfunc.get("loader_module", ""))
    if not trust and loader not in SAFE_LOADERS:
        raise ConfigError(
            f"`{role}.trust`=false must be true to load `{ref.uri}`: its loader `{loader}` runs code "
            f"(a scikit-learn model is unpickled). Set `{role}.trust: true` if your team logged this model."
        )
    if not trust:
        found = runs_code(info.flavors, path)
        if found is not None:
            raise ConfigError(
                f"`{role}.trust`=false must be true to load `{ref.uri}`: {found}. "
                f"Set `{role}.trust: true` only if your team logged this model."
            )
    try:
        model = mlflow.pyfunc.load_model(str(path))
    except Exception as exc:
        raise DataError(
            f"{where}: the model's artifact could not be read: {type(exc).__name__}: {exc}"
        ) from None
    return model, path


def runs_code(flavors: dict[str, Any], path: Path) -> str | None:
    """Why loading this model could run code it ships, naming the MLmodel key or file; None if it cannot.

    The pyfunc loader puts a flavor's ``code`` folder first on ``sys.path`` before it imports the
    loader module, so a ``code/onnxruntime.py`` would run even behind the ONNX loader; a custom
    ``python_model`` or a model-from-code is Python by definition; a pickle is code once loaded.
    Keys outside the known data-only ones are refused too: a newer MLflow could make them run code.
    """
    # python_function first: its `code` is the folder pyfunc loading puts on sys.path.
    for flavor, conf in sorted(flavors.items(), key=lambda item: item[0] != "python_function"):
        if not isinstance(conf, dict):
            continue
        if conf.get("code"):
            return (
                f"its MLmodel has `flavors.{flavor}.code`={conf['code']!r}: Python files that loading puts "
                "first on sys.path, so they would run in this process"
            )
        for key in _CODE_KEYS:
            if key in conf:
                return (
                    f"its MLmodel has `flavors.{flavor}.{key}`: a custom Python (cloudpickle) model runs code"
                )
        unknown = sorted(set(conf) - _DATA_KEYS[flavor]) if flavor in _DATA_KEYS else []
        if unknown:
            return (
                f"its MLmodel has `flavors.{flavor}.{unknown[0]}`, which an untrusted model may not set "
                f"(allowed: {', '.join(sorted(_DATA_KEYS[flavor]))})"
            )
    options = (flavors.get("onnx") or {}).get("onnx_session_options") or {}
    if isinstance(options, dict) and options.get("extra_session_config"):
        return (
            "its MLmodel has `flavors.onnx.onnx_session_options.extra_session_config`: raw onnxruntime "
            "session entries, which can make the runtime load or write files"
        )
    if (path / "code").exists():
        return "it ships a `code` folder of Python files"
    for file in sorted(path.rglob("*")):
        if file.suffix.lower() in _PICKLES:
            return f"it ships `{file.relative_to(path)}`, a pickle: loading one runs code"
    return None


class MlflowModel:
    """A pyfunc model with the scikit-learn surface the gate uses.

    For a scikit-learn flavor, probabilities come from the estimator's own
    ``predict_proba`` and ``classes_``, whatever ``pyfunc_predict_fn`` it was
    logged with: plain pyfunc ``predict`` returns labels and no class order.
    Predictions are cached by (pinned version, the rows' content hash).
    """

    def __init__(self, ref: ModelRef, loaded: tuple[Any, Path], role: str) -> None:
        self.ref = ref
        self.role = role
        self._pyfunc, self.local_path = loaded
        try:
            self._raw: Any = self._pyfunc.get_raw_model()
        except Exception:
            self._raw = None
        self._cache: dict[tuple[str, str], Any] = {}
        names = getattr(self._raw, "feature_names_in_", None)
        if names is not None:
            self.feature_names_in_ = names

    def named(self, ref: ModelRef, role: str) -> MlflowModel:
        """The same loaded model and cache under another URI (an alias and a version of one model)."""
        if ref == self.ref and role == self.role:
            return self
        twin = copy.copy(self)
        twin.ref, twin.role = ref, role
        return twin

    @property
    def uncached(self) -> Any:
        """What predicts without the cache (for timing): the estimator, else the pyfunc model."""
        return self._raw if hasattr(self._raw, "predict") else self._pyfunc

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.local_path.rglob("*") if p.is_file())

    @property
    def classes_(self) -> Any:
        return getattr(self._raw, "classes_", None)

    def __getattr__(self, name: str) -> Any:
        if name == "predict_proba" and hasattr(self.__dict__.get("_raw"), "predict_proba"):
            return self._predict_proba
        raise AttributeError(name)

    def _predict_proba(self, frame: pd.DataFrame) -> Any:
        return self._cached("predict_proba", frame, self._raw.predict_proba)

    def predict(self, frame: pd.DataFrame) -> Any:
        raw_predict = getattr(self._raw, "predict", None)
        return self._cached("predict", frame, raw_predict or self._pyfunc.predict)

    def _cached(self, method: str, frame: pd.DataFrame, call: Any) -> Any:
        import pandas as pd

        digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, frame.columns)).encode())
        key = (method, digest.hexdigest())
        if key not in self._cache:
            if len(self._cache) >= _CACHE_ENTRIES:  # property tests call with many small frames
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = np.asarray(call(frame))
        return self._cache[key]

    def __repr__(self) -> str:
        return f"MlflowModel({self.ref.pinned!r})"
