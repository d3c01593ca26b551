"""Importing a user's metric function named as ``module:function`` in the config."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def load_callable(spec: str, key: str, base_dir: Path | None) -> Callable[[Any, Any], float]:
    """Import ``spec``; the config file's folder is importable while it loads. ``key`` names it in errors."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"`{key}`={spec!r} must look like 'module:function'")
    base = str(base_dir) if base_dir is not None else None
    added = base is not None and base not in sys.path
    if added:
        sys.path.insert(0, str(base))
    try:
        module = importlib.import_module(module_name)
        fn = getattr(module, attr)
    except Exception as exc:  # an import can fail in any way the user's module likes
        raise ConfigError(
            f"`{key}`={spec!r} must name an importable function: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        if added:
            sys.path.remove(str(base))
    if not callable(fn):
        raise ConfigError(f"`{key}`={spec!r} must be callable")
    return fn  # type: ignore[no-any-return]
