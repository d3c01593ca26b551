"""Loading scikit-learn-style model files, safely by default.

``.skops`` files load through skops, which refuses types it does not know
unless the source says ``trust: true``. Pickle and joblib files execute code on
load, so they are refused outright without ``trust: true``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError
from ..extras import install_hint

if TYPE_CHECKING:
    from ..config import GateConfig, Source

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


_LOADED: dict[tuple[str, int, int, bool], Any] = {}
"""Models already loaded in this process, by file identity: the gate, golden and latency checks share them."""


@contextmanager
def quiet_feature_names() -> Iterator[None]:
    """Silence scikit-learn's "X has feature names, but ... was fitted without feature names".

    The gate picks each model's columns itself (`<role>.features`, `feature_names_in_`, `data.features`)
    and a wrong count still fails; the warning, once per call, only buried the gate's own output.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"X (has feature names|does not have valid feature names), but \w+ was fitted with",
            category=UserWarning,
            module=r"sklearn\.",
        )
        yield


def load_source_model(source: Source, config: GateConfig) -> Any:
    """The model behind a `candidate`/`baseline` source: a local file or an MLflow URI."""
    if source.uri is not None:
        from .mlflow_model import load_mlflow_model

        return load_mlflow_model(
            source.uri, tracking=config.tracking_uri(), trust=source.trust, role=source.role
        )
    if source.model is None:
        raise ConfigError(f"`{source.role}.model` must be set: this check calls the model itself")
    return load_model(source.model, trust=source.trust, role=source.role)


def model_size(model: Any, source: Source) -> int:
    if source.model is not None:
        return source.model.stat().st_size
    return int(getattr(model, "size_bytes", 0))


def load_model(path: Path, *, trust: bool, role: str) -> Any:
    if not path.exists():
        raise DataError(f"{role} model file `{path}` does not exist")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, trust)
    if key not in _LOADED:
        _LOADED[key] = _load(path, trust=trust, role=role)
    return _LOADED[key]


def _load(path: Path, *, trust: bool, role: str) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".skops":
        return _load_skops(path, trust=trust, role=role)
    if suffix == ".onnx":
        from .onnx import OnnxModel

        return OnnxModel(path, role)
    if suffix in PICKLE_SUFFIXES:
        if not trust:
            raise ConfigError(
                f"`{role}.trust`=false must be true to load `{path.name}`: unpickling a {suffix} file runs "
                "arbitrary code. Save the model with skops instead, or set "
                f"`{role}.trust: true` if you produced this file yourself."
            )
        return _load_pickle(path, role=role)
    raise ConfigError(f"`{role}.model`={str(path)!r} must end in .skops, .onnx, .joblib, .pkl or .pickle")


def _load_skops(path: Path, *, trust: bool, role: str) -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise ConfigError(f"loading .skops models needs skops: {install_hint('sklearn')}") from None
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise DataError(f"{role} model file `{path}` is not a readable skops file: {exc}") from None
    if untrusted and not trust:
        raise ConfigError(
            f"`{role}.trust`=false must be true to load `{path.name}`: it contains types skops does not "
            f"trust by default: {', '.join(untrusted)}"
        )
    try:
        return sio.load(path, trusted=untrusted or None)
    except Exception as exc:
        raise DataError(f"{role} model file `{path}` could not be loaded: {exc}") from None


def _load_pickle(path: Path, *, role: str) -> Any:
    try:
        import joblib
    except ImportError:
        raise ConfigError(f"loading joblib/pickle models needs joblib: {install_hint('sklearn')}") from None
    try:
        return joblib.load(path)
    except Exception as exc:
        raise DataError(f"{role} model file `{path}` could not be unpickled: {exc}") from None
