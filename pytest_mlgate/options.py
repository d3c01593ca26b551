"""Option lookup shared by the plugin and the gated session (kept tiny: loaded on every run)."""

from __future__ import annotations

from typing import Any

import pytest

FAIL_ON_CHOICES = ("reject", "keep", "never")
SESSION_KEY = "mlgate-session"


def option(config: pytest.Config, name: str) -> Any:
    """A ``--mlgate-*`` flag's value, else its ini twin's, else None."""
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    # pytest 7 reads an unset ini value whose default is None as [], later ones as None.
    return None if value in ("", None, []) else value
