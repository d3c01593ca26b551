"""The root action runs an LLM gate: installed from the checkout, judged, summarised and annotated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from actions_harness import REPO, Machine, run_action
from test_llm_gate import write_llm

pytestmark = pytest.mark.slow  # the Actions harness installs the package into a fresh venv


def test_root_action_rejects_a_worse_llm_candidate_and_lists_flipped_cases(
    tmp_path: Path, runner_python: Path
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    write_llm(project, cand=0.5, base=0.95)
    temp = tmp_path / "runner-temp"
    (temp / "artifacts").mkdir(parents=True)
    machine = Machine(
        workspace=project,
        python_bin=runner_python,
        temp=temp,
        artifacts=temp / "artifacts",
        api_url="http://127.0.0.1:9",
        event_name="pull_request",
        event={"pull_request": {"number": 7, "head": {"sha": "1" * 40}}},
        sha="1" * 40,
    )

    run = run_action(REPO, {"extras": "", "comment": "false"}, machine)

    assert run.outcome == "failure", run.log
    assert run.outputs["decision"] == "reject"
    report = json.loads(Path(run.outputs["report-path"]).read_text(encoding="utf-8"))
    assert report["provenance"]["task"] == "llm"
    assert "| llm:pass\\_rate |" in run.summary or "| llm:pass_rate |" in run.summary
    assert "LLM cases that flipped" in run.summary
    assert any(a.properties.get("title", "").startswith("mlgate FAIL") for a in run.annotations)
