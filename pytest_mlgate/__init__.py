"""pytest-mlgate: a model quality gate that decides on confidence intervals.

This module stays import-light: pytest loads it for every run, with or without
``--mlgate``. The assertion helpers are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .asserts import assert_at_least, assert_at_most, assert_better, assert_not_worse, compare
    from .errors import ConfigError, DataError, GateFailure, MlgateError

_LAZY = {
    "assert_better": "asserts",
    "assert_not_worse": "asserts",
    "assert_at_least": "asserts",
    "assert_at_most": "asserts",
    "compare": "asserts",
    "MlgateError": "errors",
    "ConfigError": "errors",
    "DataError": "errors",
    "GateFailure": "errors",
}

__all__ = [
    "ConfigError",
    "DataError",
    "GateFailure",
    "MlgateError",
    "__version__",
    "assert_at_least",
    "assert_at_most",
    "assert_better",
    "assert_not_worse",
    "compare",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_mlgate' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
