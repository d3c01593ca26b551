"""Headless Chromium (Debian's `chromium`) for the HTML report tests: a screenshot and the DOM."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# As the machine's notes say: without the background-networking flags Chromium keeps trying
# hosts this sandbox cannot reach; a fresh profile keeps runs independent.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def binary() -> str:
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if found is None:
        pytest.fail(
            "Chromium is not installed: `.ci/run` installs Debian's `chromium` (apt-get install chromium)"
        )
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="mlgate-chromium-") as profile:
        return subprocess.run(
            [binary(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 3000) -> Path:
    _run(f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri())
    assert png.is_file() and png.stat().st_size > 0, "Chromium wrote no screenshot"
    return png


def dom(page: Path) -> str:
    return _run("--dump-dom", page.resolve().as_uri()).stdout
