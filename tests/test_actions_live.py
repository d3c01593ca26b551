"""actions/canary and the log-based actions/monitor, run in the harness against real parts.

The serving logs are CSV files written here with a fixed seed; MLflow is the
session's real ``mlflow server``, and the champion is promoted by the real
``mlgate gate`` and ``mlgate promote``, so the ledger knows the version to go
back to. GitHub is the local server in ``github_server.py``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from actions_harness import REPO, Machine, Run, run_action, run_job
from mlflow_parts import cli, make_project
from test_actions import HOSTILE, _credit_project, machine

pytestmark = pytest.mark.slow  # a real mlflow server, git remotes or the Actions harness

CANARY = REPO / "actions" / "canary"
MONITOR = REPO / "actions" / "monitor"
WORKFLOWS = REPO / "examples" / "workflows"

LIVE_CONFIG = """\
logs:
  path: logs.csv
seed: 0
confidence: 0.95
canary:
  control: "1"
  canary: "2"
  min_requests: 500
  metrics:
    error_rate: {max_increase: 0.01, critical: true}
    latency_p95: {max_relative_increase: 0.2}
monitor:
  arm: "1"
  days: 7
  quality: {metric: accuracy, min: 0.8}
  error_rate: {max: 0.02}
  latency_p95: {max: 250}
  retrain_on: [drift, quality]
"""


def serving_logs(
    path: Path,
    error_rates: dict[str, float],
    *,
    accuracy: float | None = None,
    n: int = 4000,
    seed: int = 5,
    hours: float = 1.0,
) -> Path:
    """``n`` requests per arm over the last ``hours``: a lognormal latency around 80 ms, and
    exactly each arm's share of errors (placed at random), so equal rates are equal. With
    ``accuracy``, binary predictions and labels that agree on that share of rows."""
    rng = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    frames = []
    for arm, rate in error_rates.items():
        seconds = np.sort(rng.uniform(0, hours * 3600, n))
        frame = pd.DataFrame(
            {
                "timestamp": [now - timedelta(seconds=float(s)) for s in seconds],
                "arm": arm,
                "request_id": [f"{arm}-{i}" for i in range(n)],
                "latency_ms": rng.lognormal(np.log(80.0), 0.35, n).round(1),
                "error": rng.permutation(np.arange(n) < round(rate * n)).astype(int),
            }
        )
        if accuracy is not None:
            frame["label"] = rng.integers(0, 2, n)
            right = rng.permutation(np.arange(n) < round(accuracy * n))
            frame["prediction"] = np.where(right, frame["label"], 1 - frame["label"])
        frames.append(frame)
    logs = pd.concat(frames).sort_values("timestamp")
    logs["timestamp"] = logs["timestamp"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    path.parent.mkdir(parents=True, exist_ok=True)
    logs.to_csv(path, index=False)
    return path


def live_project(root: Path, error_rates: dict[str, float], **kw: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlgate-live.yaml").write_text(LIVE_CONFIG, encoding="utf-8")
    serving_logs(root / "logs.csv", error_rates, **kw)
    return root


def _client(server: Any) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(server.url, registry_uri=server.url)


def champion(server: Any, name: str) -> str:
    return str(_client(server).get_model_version_by_alias(name, "champion").version)


def ledger(server: Any, name: str) -> list[dict[str, Any]]:
    tags = _client(server).get_registered_model(name).tags
    return [json.loads(v) for k, v in sorted(tags.items()) if k.startswith("mlgate.ledger.")]


def promoted_to_v2(tmp_path: Path, server: Any, registered: Any, trained: dict[str, Any]) -> str:
    """A model whose @champion `mlgate promote` moved from v1 to v2 after a gate: v2 is the canary."""
    name: str = registered("weak", "strong")
    client = _client(server)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "candidate", "2")
    project = make_project(tmp_path / "release", server.url, trained["holdout"], name=name)
    project.config(f"models:/{name}@candidate", f"models:/{name}@champion")
    project.commit("release")
    # In this process (the registry tests' way): a fresh interpreter per command imports MLflow again.
    assert cli(project, "gate", "--config", "mlgate.yaml") == 0
    promoted = cli(
        project,
        "promote",
        "mlgate-report.json",
        "--config",
        "mlgate.yaml",
        "--no-git-tag",
        "--reason",
        "v2 to canary",
    )
    assert promoted == 0
    assert champion(server, name) == "2"
    return name


def canary(m: Machine, **inputs: str) -> Run:
    return run_action(CANARY, {"extras": "", **inputs}, m)


def schedule(tmp_path: Path, workspace: Path, runner_python: Path, github: Any = None, **kw: Any) -> Machine:
    return machine(tmp_path, workspace, runner_python, github, event_name="schedule", event={}, **kw)


# --- actions/canary ----------------------------------------------------------------------------


def test_a_worse_canary_is_rolled_back_in_mlflow_and_a_rerun_moves_nothing(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any, trained: dict[str, Any]
) -> None:
    name = promoted_to_v2(tmp_path, mlflow_server, registered, trained)
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06})  # the canary errs 3x as often
    reason = HOSTILE[0] + " " + HOSTILE[1]  # reaches the ledger as text, never runs
    run = canary(
        schedule(tmp_path, live, runner_python),
        **{"model-name": name, "tracking-uri": mlflow_server.url, "reason": reason},
    )

    assert run.outcome == "failure", run.log  # fail-on-rollback: the run goes red
    assert run.outputs["verdict"] == "rollback"
    assert run.outputs["rolled-back"] == "true" and run.outputs["version"] == "1"
    assert champion(mlflow_server, name) == "1"
    last = ledger(mlflow_server, name)[-1]
    assert (last["action"], last["from_version"], last["to_version"]) == ("rollback", "2", "1")
    assert last["reason"] == reason
    assert not (live / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert run.step("Roll back").outcome == "success"
    assert run.step("Apply fail-on-rollback").outcome == "failure"
    assert any(
        f"canary verdict rollback: {name}@champion rolled back to v1" in a.message for a in run.annotations
    ), [a.message for a in run.annotations]
    report = json.loads(Path(run.outputs["report-path"]).read_text(encoding="utf-8"))
    assert (report["analysis"], report["verdict"]) == ("canary", "rollback")
    assert run.outputs["decision"] == report["decision"]
    assert run.summary.strip() and "mlgate could not run" not in run.summary
    assert run.step("Upload the report").outcome == "success"

    # The example workflow on the next schedule: the logs still show the bad canary, the alias
    # is already back, nothing moves, and the run stays red. Its registry is the job's
    # MLFLOW_TRACKING_URI (a secret), and its model name is this test's.
    example = tmp_path / "mlgate-canary.yml"
    text = (WORKFLOWS / "mlgate-canary.yml").read_text(encoding="utf-8")
    example.write_text(text.replace("model-name: german-credit", f"model-name: {name}"), encoding="utf-8")
    m = schedule(tmp_path, live, runner_python, secrets={"MLFLOW_TRACKING_URI": mlflow_server.url})
    again = run_job(example, "canary", m)
    assert again.outcome == "failure", again.log
    outputs = again.step("canary").outputs
    assert outputs["verdict"] == "rollback"
    assert outputs["rolled-back"] == "false" and outputs["version"] == "1"
    assert champion(mlflow_server, name) == "1"
    assert len(ledger(mlflow_server, name)) == 2  # the promotion and the one rollback
    assert any(f"{name}@champion was already back on v1" in a.message for a in again.annotations)


@pytest.mark.parametrize(("n", "verdict"), [(4000, "promote"), (200, "continue")], ids=["equal", "too-few"])
def test_an_equal_canary_leaves_the_alias_alone(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any, n: int, verdict: str
) -> None:
    name: str = registered("weak", "strong")
    _client(mlflow_server).set_registered_model_alias(name, "champion", "2")
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.02}, n=n)  # min_requests is 500
    run = canary(
        schedule(tmp_path, live, runner_python), **{"model-name": name, "tracking-uri": mlflow_server.url}
    )

    assert run.outcome == "success", run.log
    assert run.outputs["verdict"] == verdict
    assert run.outputs["rolled-back"] == "false" and run.outputs["version"] == ""
    assert run.step("Roll back").outcome == "skipped"
    assert champion(mlflow_server, name) == "2"
    assert ledger(mlflow_server, name) == []


def test_the_arms_can_be_given_per_run(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any
) -> None:
    # The same log, read the other way round: arm 1 (2% errors) is now the canary of arm 2 (6%).
    name: str = registered("weak", "strong")
    _client(mlflow_server).set_registered_model_alias(name, "champion", "2")
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06}, n=4000)
    run = canary(
        schedule(tmp_path, live, runner_python),
        **{"model-name": name, "tracking-uri": mlflow_server.url, "control-arm": "2", "canary-arm": "1"},
    )
    assert run.outcome == "success", run.log
    assert run.outputs["verdict"] == "promote"
    assert champion(mlflow_server, name) == "2"


def test_a_rollback_that_cannot_happen_fails_whatever_fail_on_rollback_says(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any
) -> None:
    name: str = registered("weak", "strong")
    _client(mlflow_server).set_registered_model_alias(name, "champion", "2")  # outside mlgate: no ledger
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06})
    m = schedule(tmp_path, live, runner_python, extra_env={"MLFLOW_TRACKING_URI": mlflow_server.url})
    run = canary(m, **{"model-name": name, "fail-on-rollback": "false"})

    assert run.outcome == "failure"
    assert run.outputs["verdict"] == "rollback" and run.outputs["rolled-back"] == "false"
    assert run.step("Roll back").outcome == "failure"
    assert "pass --to-version" in run.step("Roll back").log  # mlgate says why it cannot choose
    assert any(
        f"the rollback failed: {name}@champion may still serve the canary" in a.message
        for a in run.annotations
    )
    assert champion(mlflow_server, name) == "2"


def test_with_rollback_off_a_worse_canary_only_warns(tmp_path: Path, runner_python: Path) -> None:
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06})
    run = canary(schedule(tmp_path, live, runner_python), rollback="false", **{"fail-on-rollback": "false"})
    assert run.outcome == "success", run.log
    assert run.outputs["verdict"] == "rollback" and run.outputs["rolled-back"] == "false"
    assert run.step("Roll back").outcome == "skipped"
    [warning] = [a for a in run.annotations if a.level == "warning" and "rollback is off" in a.message]
    assert "fail-on-rollback: false" in warning.message


def test_unreadable_logs_fail_whatever_the_inputs_say(tmp_path: Path, runner_python: Path) -> None:
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.02}, n=50)
    (live / "logs.csv").write_text("timestamp,arm,error\nnot a time,1,0\n", encoding="utf-8")
    run = canary(schedule(tmp_path, live, runner_python), rollback="false", **{"fail-on-rollback": "false"})
    assert run.outcome == "failure"
    assert run.outputs["verdict"] == "error"
    assert run.step("Roll back").outcome == "skipped"
    assert any("could not run (exit 3)" in a.message for a in run.annotations), run.log


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"rollback": "maybe"}, "`rollback`='maybe' must be one of: true false"),
        ({"fail-on-rollback": "yes"}, "`fail-on-rollback`='yes' must be one of: true false"),
        ({"since": "yesterday"}, "`since`='yesterday' must be an ISO 8601 time"),
        ({"until": "2025-13"}, "`until`='2025-13' must be an ISO 8601 time"),
        ({"model-name": ""}, "`model-name` must be given when `rollback` is true"),
        ({"alias": "champ ion"}, "`alias`='champ ion' must be an MLflow alias"),
        ({"logs": "nowhere.csv"}, "`logs`='nowhere.csv' must be a file"),
        ({"config": "missing.yaml"}, "`config`='missing.yaml' must be a file"),
        ({"tracking-uri": "http://user:s3cret@host x"}, "`tracking-uri` must be one URI without spaces"),
        ({"reason": "two\nlines"}, "`reason` must be a single line"),
        ({"canary-arm": "v 2"}, "`canary-arm`='v 2' must be an arm value"),
    ],
)
def test_bad_canary_inputs_are_named_before_anything_runs(
    tmp_path: Path, runner_python: Path, inputs: dict[str, str], named: str
) -> None:
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06}, n=50)
    run = canary(schedule(tmp_path, live, runner_python), **{"model-name": "credit", **inputs})
    assert run.outcome == "failure"
    assert run.steps[0].outcome == "failure"
    assert all(s.outcome == "skipped" for s in run.steps[1:]), run.log
    assert (
        run.outputs["verdict"] == "error"
        and run.outputs["decision"] == "error"
        and run.outputs["rolled-back"] == "false"
    )
    assert any(named in a.message for a in run.annotations), [a.message for a in run.annotations]
    assert all("s3cret" not in a.message for a in run.annotations)  # a URI is never echoed


@pytest.mark.parametrize("value", HOSTILE, ids=["subshell", "backticks", "quote-break", "newline-command"])
def test_hostile_canary_inputs_are_only_text(tmp_path: Path, runner_python: Path, value: str) -> None:
    live = live_project(tmp_path / "live", {"1": 0.02, "2": 0.06}, n=50)
    names = ("config", "logs", "since", "until", "rollback", "alias", "fail-on-rollback", "artifact-name")
    names += ("control-arm", "canary-arm")
    for name in (*names, "extras", "python-version", "tracking-uri"):
        run = canary(schedule(tmp_path, live, runner_python), **{"model-name": "credit", name: value})
        assert run.outcome == "failure", f"{name}: {run.log}"
        assert run.steps[0].outcome == "failure" and run.outputs["verdict"] == "error"
        assert not (live / "pwned").exists() and not Path("pwned").exists()
        [error] = [a for a in run.annotations if a.properties.get("title") == "mlgate: invalid input"]
        assert f"`{name}`" in error.message


# --- the blue-green example, both jobs --------------------------------------------------------

POST_SWITCH_CONFIG = """\
logs:
  path: post-switch.csv
monitor:
  days: 1
  error_rate: {max: 0.02}
  latency_p95: {max: 250}
"""


def test_blue_green_switches_the_alias_and_swaps_it_back_after_a_bad_check(
    tmp_path: Path, runner_python: Path, mlflow_server: Any, registered: Any, trained: dict[str, Any]
) -> None:
    name: str = registered("weak", "strong")
    _client(mlflow_server).set_registered_model_alias(name, "champion", "1")  # blue
    _client(mlflow_server).set_registered_model_alias(name, "candidate", "2")  # green
    project = _credit_project(tmp_path, mlflow_server, name, trained["holdout"])
    (project.root / "mlgate-post-switch.yaml").write_text(POST_SWITCH_CONFIG, encoding="utf-8")
    sha = project.commit("blue-green")
    workflow = tmp_path / "mlgate-blue-green.yml"
    text = (WORKFLOWS / "mlgate-blue-green.yml").read_text(encoding="utf-8")
    workflow.write_text(text.replace("model: german-credit", f"model: {name}"), encoding="utf-8")

    def job(which: str, **needs: Run) -> Run:
        m = machine(
            tmp_path, project.root, runner_python, event_name="workflow_dispatch", event={}, sha=sha,
            secrets={"MLFLOW_TRACKING_URI": mlflow_server.url},
        )  # fmt: skip
        return run_job(workflow, which, m, needs)

    switch = job("switch")
    assert switch.outcome == "success", switch.log
    assert switch.outputs == {"green": "2"}
    assert champion(mlflow_server, name) == "2"

    # The first minutes after the switch look healthy: green stays.
    serving_logs(project.root / "post-switch.csv", {"2": 0.005}, n=2000, hours=0.25)
    steady = job("verify", switch=switch)
    assert steady.outcome == "success", steady.log
    assert steady.step("check").outputs["verdict"] == "ok"
    assert steady.step("rollback").outcome == "skipped"
    assert champion(mlflow_server, name) == "2"

    # They do not: 8% errors against a limit of 2% swaps @champion back to blue, and the job fails.
    serving_logs(project.root / "post-switch.csv", {"2": 0.08}, n=2000, hours=0.25)
    bad = job("verify", switch=switch)
    assert bad.outcome == "failure"
    assert bad.step("check").outputs["verdict"] == "alert"
    assert bad.step("rollback").outputs["version"] == "1"
    assert champion(mlflow_server, name) == "1"
    assert any(
        "v2 failed its post-switch check; @champion is back on v1" in a.message for a in bad.annotations
    )

    # No promotion, no check: a gate that keeps blue leaves verify skipped.
    assert job("verify", switch=Run("success", {"green": ""}, [], "", [], [])).outcome == "skipped"


# --- actions/monitor on the serving logs -------------------------------------------------------


@pytest.mark.parametrize(
    ("error_rate", "accuracy", "verdict"),
    [(0.005, 0.92, "ok"), (0.08, 0.92, "alert"), (0.005, 0.6, "retrain")],
    ids=["healthy", "errors", "quality"],
)
def test_monitor_on_logs_alerts_and_asks_for_retraining(
    tmp_path: Path, runner_python: Path, fake_github: Any, error_rate: float, accuracy: float, verdict: str
) -> None:
    # The monitor reads arm "1" only; arm "2" errs at 50% and must not count.
    live = live_project(tmp_path / "live", {"1": error_rate, "2": 0.5}, accuracy=accuracy, hours=48)
    m = schedule(tmp_path, live, runner_python, fake_github)
    run = run_action(
        MONITOR,
        {"logs-config": "mlgate-live.yaml", "dispatch-event-type": "mlgate-retrain", "extras": ""},
        m,
    )

    assert run.outputs["verdict"] == verdict, run.log
    report = json.loads(Path(run.outputs["report-path"]).read_text(encoding="utf-8"))
    assert (report["analysis"], report["verdict"]) == ("monitor", verdict)
    assert run.outputs["decision"] == report["decision"]
    assert run.outputs["drift-detected"] == "false"
    assert run.summary.strip() and "mlgate could not run" not in run.summary
    if verdict == "ok":
        assert run.outcome == "success", run.log
        assert run.step("Trigger retraining").outcome == "skipped"
    else:
        assert run.outcome == "failure"  # fail-on reject: an alert or retrain turns the run red
        assert any(f"verdict {verdict} fails this check" in a.message for a in run.annotations)
    if verdict == "retrain":
        [(repository, payload)] = fake_github.dispatches
        assert repository == "octo-org/octo-repo" and payload["event_type"] == "mlgate-retrain"
        assert "verdict on the serving logs is retrain" in payload["client_payload"]["reason"]
        assert payload["client_payload"]["decision"] == report["decision"]
    else:
        assert fake_github.dispatches == []  # an alert pages someone; it does not retrain


def test_monitor_fail_on_never_lets_an_alert_pass_but_not_unreadable_logs(
    tmp_path: Path, runner_python: Path
) -> None:
    live = live_project(tmp_path / "live", {"1": 0.08}, accuracy=0.92, hours=48)
    inputs = {"logs-config": "mlgate-live.yaml", "fail-on": "never", "extras": ""}
    run = run_action(MONITOR, inputs, schedule(tmp_path, live, runner_python))
    assert run.outcome == "success", run.log
    assert run.outputs["verdict"] == "alert"

    (live / "logs.csv").write_text("timestamp,arm,error\nnot a time,1,0\n", encoding="utf-8")
    broken = run_action(MONITOR, inputs, schedule(tmp_path, live, runner_python))
    assert broken.outcome == "failure"
    assert broken.outputs["verdict"] == "error"
    assert broken.step("Trigger retraining").outcome == "skipped"


def test_monitor_bad_logs_inputs_are_named(tmp_path: Path, runner_python: Path) -> None:
    live = live_project(tmp_path / "live", {"1": 0.02}, n=50)
    for inputs, named in [
        ({"logs-config": "nowhere.yaml"}, "`logs-config`='nowhere.yaml' must be a file"),
        ({"logs-config": "mlgate-live.yaml", "logs": "gone.csv"}, "`logs`='gone.csv' must be a file"),
        ({"config": "mlgate-live.yaml", "logs": "logs.csv"}, "`logs` must be empty without `logs-config`"),
    ]:
        run = run_action(MONITOR, {"extras": "", **inputs}, schedule(tmp_path, live, runner_python))
        assert run.outcome == "failure" and run.steps[0].outcome == "failure"
        assert all(s.outcome == "skipped" for s in run.steps[1:]), run.log
        assert any(named in a.message for a in run.annotations), [a.message for a in run.annotations]
