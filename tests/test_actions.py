"""The composite actions and example workflows, run in the harness against real parts.

GitHub is the local server in ``github_server.py`` (checked against GitHub's
OpenAPI description); MLflow is the session's real ``mlflow server``; git tags
go to a real bare remote. See ``actions_harness.py`` for what runs as on the
runner and what is stood in for.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from actions_harness import REPO, Machine, Run, run_action, run_job
from git_http import GitHttpRemote
from mlflow_parts import credit_like, make_project

from pytest_mlgate.cli import main

pytestmark = pytest.mark.slow  # a real mlflow server, git remotes or the Actions harness

WORKFLOWS = REPO / "examples" / "workflows"
PR_SHA = "1" * 40
MARKER = "<!-- mlgate:sticky:mlgate.yaml -->"


def machine(tmp_path: Path, workspace: Path, runner_python: Path, github: Any = None, **kw: Any) -> Machine:
    temp = tmp_path / f"runner-temp-{len(list(tmp_path.glob('runner-temp-*')))}"
    temp.mkdir()
    (temp / "artifacts").mkdir()
    options: dict[str, Any] = {
        "event_name": "pull_request",
        "event": {"pull_request": {"number": 7, "head": {"sha": PR_SHA}}},
        "sha": PR_SHA,
    }
    options |= kw
    return Machine(
        workspace=workspace,
        python_bin=runner_python,
        temp=temp,
        artifacts=temp / "artifacts",
        api_url=github.url if github is not None else "http://127.0.0.1:9",
        **options,
    )


def scores_project(root: Path, quality: str, *, seed: int = 3, n: int = 4000) -> Path:
    """A gate on score columns: the candidate is better, equal or worse than production."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = {"better": 2.0, "equal": 1.0, "worse": 0.3}[quality]
    base = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + rng.normal(0, 1.5, n))))
    cand = base if quality == "equal" else 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1.5, n))))
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"y": y, "cand": cand, "base": base}).to_csv(root / "holdout.csv", index=False)
    (root / "mlgate.yaml").write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        "candidate: {column: cand}\n"
        "baseline: {column: base}\n"
        "metrics:\n  roc_auc: {margin: 0.01, min: 0.6}\n",
        encoding="utf-8",
    )
    return root


def gate(m: Machine, **inputs: str) -> Run:
    return run_action(REPO, {"extras": "", "comment": "false", **inputs}, m)


# --- the root action ---------------------------------------------------------------------------


def test_keep_passes_with_the_default_fail_on_and_reports_everywhere(
    tmp_path: Path, runner_python: Path, fake_github: Any
) -> None:
    project = scores_project(tmp_path / "p", "equal")
    fake_github.open_pull("octo-org/octo-repo", 7, PR_SHA)
    run = run_action(REPO, {"extras": ""}, machine(tmp_path, project, runner_python, fake_github))

    assert run.outcome == "success", run.log
    assert run.outputs["decision"] == "keep"
    assert run.outputs["candidate-version"] == ""
    report = json.loads(Path(run.outputs["report-path"]).read_text(encoding="utf-8"))
    assert report["decision"] == "keep"
    assert "mlgate: KEEP" in run.summary and "| compare:roc_auc |" in run.summary
    assert any("actions/setup-python" in s for s in run.stand_ins)
    assert any("actions/upload-artifact" in s for s in run.stand_ins)
    [comment] = fake_github.comments_on("octo-org/octo-repo", 7)
    assert comment["body"].startswith(MARKER) and "KEEP" in comment["body"]
    uploaded = run.steps[-2]
    assert uploaded.name == "Upload the report" and uploaded.outcome == "success"


def test_fail_on_keep_fails_a_keep(tmp_path: Path, runner_python: Path) -> None:
    project = scores_project(tmp_path / "p", "equal")
    run = gate(machine(tmp_path, project, runner_python), **{"fail-on": "keep"})
    assert run.outcome == "failure"
    assert run.outputs["decision"] == "keep"
    assert run.step("Apply fail-on").outcome == "failure"
    assert any("fails this check (fail-on: keep" in a.message for a in run.annotations)


def test_reject_fails_and_annotates(tmp_path: Path, runner_python: Path) -> None:
    project = scores_project(tmp_path / "p", "worse")
    run = gate(machine(tmp_path, project, runner_python))
    assert run.outcome == "failure"
    assert run.outputs["decision"] == "reject"
    failed = [a for a in run.annotations if a.properties.get("title", "").startswith("mlgate FAIL")]
    assert failed and failed[0].properties["file"] == "mlgate.yaml"
    # Later steps still ran: the summary and the artifact are there for the failed check.
    assert "REJECT" in run.summary
    assert run.step("Upload the report").outcome == "success"


def test_a_broken_config_fails_closed_with_a_summary(tmp_path: Path, runner_python: Path) -> None:
    project = scores_project(tmp_path / "p", "better")
    (project / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: nowhere.csv, target: y}\n", encoding="utf-8"
    )
    run = gate(machine(tmp_path, project, runner_python), **{"fail-on": "never"})
    assert run.outcome == "failure"
    assert run.outputs["decision"] == "error"
    assert "mlgate could not run" in run.summary
    assert run.outputs["report-path"] == ""


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"fail-on": "sometimes"}, "`fail-on`='sometimes' must be one of: reject keep never"),
        ({"comment": "yes"}, "`comment`='yes' must be one of: true false"),
        ({"config": "missing.yaml"}, "`config`='missing.yaml' must be a file"),
        ({"extras": "sklearn;rm"}, "`extras`='sklearn;rm' must be comma-separated extras"),
    ],
)
def test_bad_inputs_are_named_before_anything_runs(
    tmp_path: Path, runner_python: Path, inputs: dict[str, str], named: str
) -> None:
    project = scores_project(tmp_path / "p", "better", n=300)
    run = gate(machine(tmp_path, project, runner_python), **inputs)
    assert run.outcome == "failure"
    assert run.steps[0].outcome == "failure"
    assert all(s.outcome == "skipped" for s in run.steps[1:]), run.log
    assert any(named in a.message for a in run.annotations), [a.message for a in run.annotations]
    assert run.outputs["decision"] == "error"  # as documented, never empty


@pytest.mark.parametrize(
    ("action", "inputs", "expected"),
    [
        ("canary", {"rollback": "maybe"}, {"decision": "error", "verdict": "error", "rolled-back": "false"}),
        (
            "monitor",
            {"fail-on": "sometimes"},
            {"decision": "error", "drift-detected": "false", "verdict": ""},
        ),
        (
            "monitor",
            {"logs-config": "mlgate-live.yaml", "fail-on": "sometimes"},
            {"decision": "error", "drift-detected": "false", "verdict": "error"},
        ),
    ],
    ids=["canary", "monitor", "monitor-logs"],
)
def test_invalid_inputs_of_the_other_actions_set_decision_error(
    tmp_path: Path, runner_python: Path, action: str, inputs: dict[str, str], expected: dict[str, str]
) -> None:
    workspace = tmp_path / "w"
    workspace.mkdir()
    for config in ("mlgate-live.yaml", "mlgate-monitor.yaml"):
        (workspace / config).write_text("{}\n", encoding="utf-8")  # never read: validation stops first
    run = run_action(
        REPO / "actions" / action, {"extras": "", **inputs}, machine(tmp_path, workspace, runner_python)
    )
    assert run.outcome == "failure"
    assert run.steps[0].outcome == "failure"
    assert all(s.outcome == "skipped" for s in run.steps[1:]), run.log
    assert {name: run.outputs[name] for name in expected} == expected


def test_two_gates_in_one_job_upload_two_artifacts_named_after_their_comment_keys(
    tmp_path: Path, runner_python: Path
) -> None:
    project = scores_project(tmp_path / "p", "equal", n=300)
    (project / "gates").mkdir()
    (project / "gates" / "strict.yaml").write_text(
        (project / "mlgate.yaml").read_text(encoding="utf-8").replace("holdout.csv", "../holdout.csv"),
        encoding="utf-8",
    )
    common = {"extras": "", "comment": "false", "fail-on": "never"}
    workflow = tmp_path / "two-gates.yml"
    workflow.write_text(
        yaml.safe_dump(
            {
                "name": "two gates",
                "on": {"pull_request": None},
                "permissions": {},
                "jobs": {
                    "gates": {
                        "runs-on": "ubuntu-latest",
                        "permissions": {"contents": "read"},
                        "steps": [
                            {"id": "default", "uses": "./", "with": common},
                            {"id": "strict", "uses": "./", "with": {**common, "config": "gates/strict.yaml"}},
                            {"id": "keyed", "uses": "./", "with": {**common, "comment-key": "fairness/gate"}},
                        ],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    m = machine(tmp_path, project, runner_python)
    run = run_job(workflow, "gates", m)

    assert run.outcome == "success", run.log
    names = {step: run.step(step).outputs["artifact-name"] for step in ("default", "strict", "keyed")}
    assert names == {
        "default": "mlgate-report-mlgate.yaml",
        "strict": "mlgate-report-gates-strict.yaml",
        "keyed": "mlgate-report-fairness-gate",
    }
    for name in names.values():
        assert (m.artifacts / name / "mlgate-report.json").is_file()


HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    '"; touch pwned; echo "',
    "x\n::set-output name=decision::promote",
]


@pytest.mark.parametrize("value", HOSTILE, ids=["subshell", "backticks", "quote-break", "newline-command"])
def test_hostile_inputs_are_only_text(tmp_path: Path, runner_python: Path, value: str) -> None:
    project = scores_project(tmp_path / "p", "worse", n=300)
    for name in ("config", "fail-on", "comment-key", "extras", "python-version", "artifact-name"):
        run = gate(machine(tmp_path, project, runner_python), **{name: value})
        assert run.outcome == "failure", f"{name}: {run.log}"
        assert run.outputs["decision"] != "promote"
        assert not (project / "pwned").exists() and not Path("pwned").exists()
        [error] = [a for a in run.annotations if a.properties.get("title") == "mlgate: invalid input"]
        assert f"`{name}`" in error.message
        # The value comes back verbatim through the escaping, as text inside one annotation.
        assert value in error.message or "must be a single line" in error.message


def test_hostile_pytest_args_reach_pytest_as_words(tmp_path: Path, runner_python: Path) -> None:
    project = scores_project(tmp_path / "p", "worse", n=300)
    words = "--junitxml '$(touch pwned)`touch pwned`\"; touch pwned; echo \".xml' -p no:cacheprovider"
    run = gate(machine(tmp_path, project, runner_python), **{"pytest-args": words})
    assert not (project / "pwned").exists()
    assert run.outputs["decision"] == "reject"  # the gate ran, with those words as pytest's arguments
    assert (project / '$(touch pwned)`touch pwned`"; touch pwned; echo ".xml').is_file()
    newline = gate(machine(tmp_path, project, runner_python), **{"pytest-args": HOSTILE[3]})
    assert newline.outcome == "failure" and newline.outputs["decision"] != "promote"
    assert any("`pytest-args` must be a single line" in a.message for a in newline.annotations)


def test_what_the_tests_print_cannot_issue_workflow_commands(tmp_path: Path, runner_python: Path) -> None:
    project = scores_project(tmp_path / "p", "worse", n=300)
    (project / "test_loud.py").write_text(
        "def test_loud():\n    print('\\n::set-output name=decision::promote\\n::error::forged')\n    assert False\n",
        encoding="utf-8",
    )
    run = gate(machine(tmp_path, project, runner_python), **{"pytest-args": "-s"})
    assert run.outputs["decision"] == "reject"
    assert not any(a.message == "forged" for a in run.annotations)
    assert "::error::forged" in run.step("Run the gate").log  # printed, but inside ::stop-commands::


def test_a_fork_token_that_cannot_comment_warns_and_the_gate_stands(
    tmp_path: Path, runner_python: Path, fake_github: Any
) -> None:
    project = scores_project(tmp_path / "p", "equal", n=1500)
    fake_github.open_pull("octo-org/octo-repo", 7, PR_SHA)
    fake_github.read_only_tokens.add("ghs_fork")
    run = gate(machine(tmp_path, project, runner_python, fake_github, token="ghs_fork"), comment="true")
    assert run.outcome == "success"
    assert fake_github.comments_on("octo-org/octo-repo", 7) == []
    assert any("no PR comment" in a.message and a.level == "warning" for a in run.annotations)


# --- the example workflows, end to end ---------------------------------------------------------


def _credit_project(tmp_path: Path, server: Any, name: str, holdout: pd.DataFrame) -> Any:
    project = make_project(tmp_path / "repo", server.url, holdout, name=name)
    # No tracking_uri in the config: the workflow's MLFLOW_TRACKING_URI (a secret) says where.
    (project.root / "mlgate.yaml").write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        f"candidate: {{model: 'models:/{name}@candidate', trust: true}}\n"
        f"baseline: {{model: 'models:/{name}@champion', trust: true}}\n"
        "metrics:\n  roc_auc: {margin: 0.01, min: 0.6}\n",
        encoding="utf-8",
    )
    return project


def _aliases(server: Any, name: str, **aliases: str) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(server.url, registry_uri=server.url)
    for alias, version in aliases.items():
        client.set_registered_model_alias(name, alias, version)


def test_pr_workflow_promotes_then_rejects_and_keeps_one_comment(
    tmp_path: Path,
    runner_python: Path,
    fake_github: Any,
    mlflow_server: Any,
    registered: Any,
    trained: dict[str, Any],
) -> None:
    name = registered("weak", "strong", "bad")
    _aliases(mlflow_server, name, champion="1", candidate="2")
    project = _credit_project(tmp_path, mlflow_server, name, trained["holdout"])
    project.commit("add the gate")
    fake_github.open_pull("octo-org/octo-repo", 7, PR_SHA)
    # The mlflow-read environment's names (a read-only user in production; this server has no auth).
    secrets = {"MLFLOW_READ_TRACKING_URI": mlflow_server.url}

    better = run_job(
        WORKFLOWS / "mlgate-pr.yml",
        "gate",
        machine(tmp_path, project.root, runner_python, fake_github, secrets=secrets),
    )
    assert better.outcome == "success", better.log
    assert better.step("gate").outputs["decision"] == "promote"
    assert better.step("gate").outputs["candidate-version"] == "2"
    assert "mlgate: PROMOTE" in better.summary
    [comment] = fake_github.comments_on("octo-org/octo-repo", 7)
    assert comment["body"].startswith(MARKER) and "PROMOTE" in comment["body"]

    _aliases(mlflow_server, name, candidate="3")
    worse = run_job(
        WORKFLOWS / "mlgate-pr.yml",
        "gate",
        machine(tmp_path, project.root, runner_python, fake_github, secrets=secrets),
    )
    assert worse.outcome == "failure"
    assert worse.step("gate").outputs["decision"] == "reject"
    [updated] = fake_github.comments_on("octo-org/octo-repo", 7)
    assert updated["id"] == comment["id"] and "REJECT" in updated["body"]
    methods = [(e.method, e.status) for e in fake_github.exchanges]
    assert methods == [("GET", 200), ("POST", 201), ("GET", 200), ("PATCH", 200)]


def test_release_workflow_promotes_in_mlflow_and_pushes_the_tag(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any, trained: dict[str, Any]
) -> None:
    from mlflow import MlflowClient

    name = registered("weak", "strong")
    _aliases(mlflow_server, name, champion="1", candidate="2")
    project = _credit_project(tmp_path, mlflow_server, name, trained["holdout"])
    sha = project.commit("release")
    # origin answers only to the job's token, as GitHub does; the checkout persisted none.
    with GitHttpRemote(project.remote, token="ghs_harness") as origin:
        project.git("remote", "set-url", "origin", origin.url)
        m = machine(
            tmp_path,
            project.root,
            runner_python,
            event_name="push",
            event={"ref": "refs/heads/main"},
            sha=sha,
            secrets={"MLFLOW_TRACKING_URI": mlflow_server.url},
            extra_env={"GITHUB_SERVER_URL": origin.server_url, "GIT_TERMINAL_PROMPT": "0"},
        )
        run = run_job(WORKFLOWS / "mlgate-release.yml", "release", m)

    assert run.outcome == "success", run.log
    assert any(r.path.endswith("/git-receive-pack") and r.authorised for r in origin.requests), (
        origin.requests
    )
    assert "ghs_harness" not in project.git("config", "--list")
    assert run.step("gate").outputs["decision"] == "promote"
    assert run.step("promote").outputs == {"state": "done", "version": "2", "git-tag": f"model/{name}/v2"}
    client = MlflowClient(mlflow_server.url, registry_uri=mlflow_server.url)
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    remote_tags = subprocess.run(
        ["git", "ls-remote", "--tags", str(project.remote)], capture_output=True, text=True, check=True
    ).stdout
    assert f"refs/tags/model/{name}/v2" in remote_tags
    assert (
        subprocess.run(
            ["git", "--git-dir", str(project.remote), "cat-file", "-t", f"model/{name}/v2"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        == "tag"
    )  # annotated

    # And back: the rollback action moves @champion to the version before the promotion.
    m.extra_env["MLFLOW_TRACKING_URI"] = mlflow_server.url
    back = run_action(
        REPO / "actions" / "rollback",
        {"model": name, "reason": "canary errors after release", "extras": ""},
        m,
    )
    assert back.outcome == "success", back.log
    assert back.outputs["version"] == "1"
    assert client.get_model_version_by_alias(name, "champion").version == "1"


def _monitor_project(tmp_path: Path, server: Any, name: str, production: pd.DataFrame) -> Path:
    root = tmp_path / "monitor"
    root.mkdir()
    credit_like(3000, seed=11).to_csv(root / "train.csv", index=False)
    production.to_csv(root / "production.csv", index=False)
    assert main(["profile", str(root / "train.csv"), "-o", str(root / "reference-profile.json")]) == 0
    (root / "mlgate-monitor.yaml").write_text(
        "task: binary\n"
        "data: {path: production.csv, target: y}\n"
        f"mlflow: {{tracking_uri: '{server.url}'}}\n"
        f"candidate: {{model: 'models:/{name}@champion', trust: true}}\n"
        "metrics:\n  roc_auc: {min: 0.8}\n"
        "drift: {reference: reference-profile.json, columns: [a, b, c]}\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize("drifted", [True, False], ids=["drifted", "steady"])
def test_monitor_flags_drift_and_asks_for_retraining(
    tmp_path: Path,
    runner_python: Path,
    fake_github: Any,
    mlflow_server: Any,
    registered: Any,
    drifted: bool,
) -> None:
    name = registered("strong")
    _aliases(mlflow_server, name, champion="1")
    production = credit_like(3000, seed=12)
    if drifted:
        production["a"] += 1.5  # the feature moved; the labels came from the moved values too
    root = _monitor_project(tmp_path, mlflow_server, name, production)
    m = machine(tmp_path, root, runner_python, fake_github, event_name="schedule", event={})
    run = run_action(
        REPO / "actions" / "monitor",
        {"config": "mlgate-monitor.yaml", "dispatch-event-type": "mlgate-retrain", "extras": ""},
        m,
    )
    assert run.outputs["drift-detected"] == ("true" if drifted else "false"), run.log
    if drifted:
        assert run.outcome == "failure"  # drift that fails is a reject: the scheduled run goes red
        [(repository, payload)] = fake_github.dispatches
        assert repository == "octo-org/octo-repo" and payload["event_type"] == "mlgate-retrain"
        assert payload["client_payload"]["drift_detected"] is True
        assert any("drift" in a.properties.get("title", "") for a in run.annotations)
    else:
        assert run.outcome == "success", run.log
        assert fake_github.dispatches == []
        assert run.step("Trigger retraining").outcome == "skipped"


def test_fork_safe_pair_comments_from_workflow_run_and_refuses_a_forged_number(
    tmp_path: Path, runner_python: Path, fake_github: Any
) -> None:
    project = scores_project(tmp_path / "p", "better", n=1500)
    fake_github.open_pull("octo-org/octo-repo", 7, PR_SHA)
    fake_github.open_pull("octo-org/octo-repo", 8, "2" * 40)
    fake_github.read_only_tokens.add("ghs_fork")
    pr_run = machine(tmp_path, project, runner_python, fake_github, token="ghs_fork")
    gated = run_job(WORKFLOWS / "mlgate-pr-fork.yml", "gate", pr_run)
    assert gated.outcome == "success", gated.log
    assert [e.method for e in fake_github.exchanges] == []  # part 1 never calls the API
    artifact = pr_run.artifacts / "mlgate-report"
    assert json.loads((artifact / "pull-request.json").read_text()) == {"number": 7, "head_sha": PR_SHA}

    def comment_run(head_sha: str) -> Run:
        event = {"workflow_run": {"id": 4242, "event": "pull_request", "head_sha": head_sha}}
        m = machine(
            tmp_path, tmp_path, runner_python, fake_github, event_name="workflow_run", event=event,
            download_from=pr_run.artifacts,
        )  # fmt: skip
        return run_job(WORKFLOWS / "mlgate-comment.yml", "comment", m)

    posted = comment_run(PR_SHA)
    assert posted.outcome == "success", posted.log
    [comment] = fake_github.comments_on("octo-org/octo-repo", 7)
    assert comment["body"].startswith(MARKER) and "PROMOTE" in comment["body"]
    assert any("actions/download-artifact" in s for s in posted.stand_ins)

    # A PR job that wrote another PR's number into its artifact: its head is not the gated commit.
    (artifact / "pull-request.json").write_text(json.dumps({"number": 8, "head_sha": PR_SHA}))
    forged = comment_run(PR_SHA)
    assert forged.outcome == "failure"
    assert fake_github.comments_on("octo-org/octo-repo", 8) == []
    assert "refusing to comment" in forged.log


def _jobs(workflow: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"])


def _secrets(job: Any) -> set[str]:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", json.dumps(job)))


def test_pull_request_jobs_get_no_registry_write_credentials() -> None:
    """PR code runs in the gate job: it may read the registry, never write to it."""
    specs = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(WORKFLOWS.glob("*.yml"))}
    writers: set[str] = set()
    for spec in specs.values():
        for job in spec["jobs"].values():
            if re.search(r"actions/(promote|rollback|canary)@", json.dumps(job)):
                writers |= _secrets(job)
    assert "MLFLOW_TRACKING_URI" in writers  # the jobs that move aliases hold the write credentials
    pull_request = {name for name, spec in specs.items() if "pull_request" in (spec.get(True) or spec["on"])}
    assert pull_request == {"mlgate-pr.yml", "mlgate-pr-fork.yml"}
    for name in pull_request:
        for job_name, job in specs[name]["jobs"].items():
            used = _secrets(job)
            assert not used & writers, f"{name}: job {job_name} gets {sorted(used & writers)}"
            # Distinct names: an environment that lacks them leaves the gate without access
            # instead of falling back to a repository secret that can write.
            assert all(s.startswith("MLFLOW_READ_") for s in used), f"{name}: {sorted(used)}"
            assert not used or job.get("environment") == "mlflow-read", (
                f"{name}: secrets outside an environment"
            )
    assert _secrets(specs["mlgate-pr-fork.yml"]["jobs"]) == set()


@pytest.mark.parametrize("workflow", ["mlgate-release.yml", "mlgate-blue-green.yml"])
def test_only_the_promote_step_holds_a_token_that_can_push(workflow: str) -> None:
    [(job_name, job)] = [
        (name, job)
        for name, job in _jobs(WORKFLOWS / workflow).items()
        if "write" in job["permissions"].values()
    ]
    for step in job["steps"]:
        text = json.dumps(step)
        if step.get("id") == "promote":
            assert step["with"]["push-token"] == "${{ github.token }}"
            assert "env" not in step
        else:
            assert "github.token" not in text and "GITHUB_TOKEN" not in text, f"{job_name}: {text}"
        if "actions/checkout@" in step.get("uses", ""):
            assert step["with"]["persist-credentials"] is False


def test_zizmor_auditor_persona_finds_nothing() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    files = [
        REPO / "action.yml",
        *sorted((REPO / "actions").glob("*/action.yml")),
        *sorted(WORKFLOWS.glob("*.yml")),
    ]
    done = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", "--persona=auditor", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
