"""The example logs' generators (examples/live/make_logs.py), and a project folder to run them in."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "live"


def generators() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_logs", EXAMPLE / "make_logs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_project(root: Path) -> Path:
    """A copy of examples/live with its logs written, as a user would have it after `make_logs.py`."""
    target = root / "live"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("logs", "profile.json", "*-report.json"))
    generators().main(target / "logs")
    return target
