"""Reaching the tracking server, and MLflow's failures as our errors.

MLflow's own HTTP client retries a refused connection for minutes. A gate must
say at once that the server is down, so ``client`` asks the server's
``/health`` endpoint first, with a short timeout, and lowers MLflow's retries
unless the user has set them.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, DataError
from ..extras import install_hint

if TYPE_CHECKING:
    from mlflow import MlflowClient

EMBEDDED_DB = "mlflow.db"
EMBEDDED_ARTIFACTS = "mlartifacts"
_HEALTH_TIMEOUT_S = 5.0


class RegistryError(DataError):
    """The tracking server or registry could not be read or written (exit 3)."""


def tracking_uri(configured: str | None, base_dir: Path | None) -> str:
    """The config's URI, else ``$MLFLOW_TRACKING_URI``, else the embedded sqlite store beside the config.

    A relative sqlite path is taken relative to the config file, not to wherever the command runs.
    """
    base = base_dir or Path.cwd()
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{base / EMBEDDED_DB}"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = f"sqlite:///{(base / uri[len('sqlite:///') :]).resolve()}"
    return uri


def redact(uri: str) -> str:
    """A URI fit for a report or a log: user and password removed."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def import_mlflow() -> Any:
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        import mlflow
    except ImportError:
        raise ConfigError(f"MLflow model URIs and promotion need MLflow: {install_hint('mlflow')}") from None
    return mlflow


def client(uri: str) -> MlflowClient:
    """A client for ``uri``, after making sure an HTTP server answers (else ``RegistryError`` naming it)."""
    mlflow = import_mlflow()
    if uri.startswith(("http://", "https://")):
        check_reachable(uri)
    made: MlflowClient = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    return made


def check_reachable(uri: str) -> None:
    health = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(health, timeout=_HEALTH_TIMEOUT_S) as response:
            response.read(64)
    except urllib.error.HTTPError:
        return  # it answered; an auth proxy may guard /health, and the real call will say more
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RegistryError(
            f"tracking server `{redact(uri)}` is unreachable: {reason}. Start it, or point "
            "`mlflow.tracking_uri` / $MLFLOW_TRACKING_URI at a running one"
        ) from None


def error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return str(code) if code is not None else None


def is_missing(exc: BaseException) -> bool:
    """MLflow says 'not found' with two codes: a missing alias is INVALID_PARAMETER_VALUE."""
    code = error_code(exc)
    return code == "RESOURCE_DOES_NOT_EXIST" or (
        code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc).lower()
    )


def unreachable(exc: BaseException) -> bool:
    """True when the request never reached the server: whatever it asked for did not happen."""
    text = str(exc)
    return any(s in text for s in ("Max retries exceeded", "Connection refused", "NewConnectionError"))


def cause(exc: BaseException, uri: str) -> str:
    """What went wrong, in one line, without claiming anything about what was or was not changed."""
    if unreachable(exc):
        return f"tracking server `{redact(uri)}` is unreachable (connection refused)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{re.sub(r'^[A-Z_]+: ', '', text)} (tracking URI `{redact(uri)}`)"


def failure(exc: BaseException, uri: str, what: str) -> RegistryError:
    """An MLflow exception as one line that names what was being done and where.

    Only for steps before anything was written: a refused connection is said to have changed nothing.
    """
    if unreachable(exc):
        return RegistryError(
            f"{what}: {cause(exc, uri)}. Nothing was changed by this step; rerun when the server is back"
        )
    return RegistryError(f"{what}: {cause(exc, uri)}")
