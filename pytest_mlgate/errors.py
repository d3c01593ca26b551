"""The one short hierarchy of errors.

``ConfigError`` (exit 2) is the user's setup; ``DataError`` (exit 3) is data or
a model that could not be read; ``GateFailure`` is a failed assertion.
"""

from __future__ import annotations


class MlgateError(Exception):
    """Base of every error the gate raises on purpose."""

    exit_code = 1


class ConfigError(MlgateError, ValueError):
    """The configuration or the command line is wrong."""

    exit_code = 2


class DataError(MlgateError):
    """Data or a model could not be read, or is unusable as given."""

    exit_code = 3


class GateFailure(MlgateError, AssertionError):
    """A gate assertion failed; the message holds the verdict, the table and the fix."""

    exit_code = 1


class MlgateWarning(UserWarning):
    """A check passed with a warning (for example a drift below the failing level)."""
