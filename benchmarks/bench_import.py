"""What the plugin costs a pytest run that does not pass --mlgate.

Times `pytest` on one trivial test with the plugin loaded and with `-p no:mlgate`,
best of several runs, and lists the modules the plugin imports at load time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7


def best(args: list[str], cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=cwd,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "test_one.py").write_text("def test_one():\n    assert True\n")
        with_plugin = best([], cwd)
        without = best(["-p", "no:mlgate"], cwd)
    probe = (
        "import sys, time, pytest; before = set(sys.modules); t = time.perf_counter(); "
        "import pytest_mlgate.plugin; t = time.perf_counter() - t; "
        "print(f'{t * 1000:.2f} ms', sorted(set(sys.modules) - before))"
    )
    modules = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(
        f"pytest on one test, best of {RUNS}: with plugin {with_plugin * 1000:.0f} ms, "
        f"without {without * 1000:.0f} ms, difference {(with_plugin - without) * 1000:+.0f} ms"
    )
    print(f"importing the plugin after pytest: {modules}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
