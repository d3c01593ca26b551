"""Promotion fails closed (issue 14): reports it cannot verify, racing lock breakers, a tag push
that fails after the alias moved, and ledger tags that are not what mlgate wrote.

Against the session's real `mlflow server` on 127.0.0.1, real bare git remotes (one with a
pre-receive hook that refuses tags), and the Actions harness for the promote and rollback actions.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from actions_harness import REPO, Machine, run_action
from mlflow_parts import MlflowServer, Project, cli, client, make_project, unique_name

from pytest_mlgate.registry import promotion
from pytest_mlgate.registry.connect import RegistryError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
]


def champion(project: Project) -> str | None:
    return client(project.tracking_uri).get_registered_model(project.name).aliases.get("champion")


def ledger(project: Project) -> list[dict[str, Any]]:
    tags = client(project.tracking_uri).get_registered_model(project.name).tags
    return [json.loads(v) for k, v in sorted(tags.items()) if k.startswith("mlgate.ledger.")]


def set_candidate(project: Project, version: str) -> None:
    client(project.tracking_uri).set_registered_model_alias(project.name, "candidate", version)


def last_state(out: str) -> str:
    states = [line.removeprefix("state: ") for line in out.splitlines() if line.startswith("state: ")]
    assert states, out
    return states[-1]


@pytest.fixture
def project(tmp_path: Path, mlflow_server: MlflowServer, trained: dict[str, Any], registered: Any) -> Project:
    """v1 weak, v2 strong, v3 bad; v1 is already the champion, promoted by mlgate."""
    proj = make_project(
        tmp_path / "proj", mlflow_server.url, trained["holdout"], registered("weak", "strong", "bad")
    )
    proj.config(f"models:/{proj.name}@candidate", f"models:/{proj.name}@champion")
    proj.commit("holdout and gate config")
    set_candidate(proj, "1")
    assert cli(proj, "gate") == 0 and cli(proj, "promote", "--no-git-tag") == 0
    assert champion(proj) == "1"
    return proj


# --- item 3: only a verified report promotes ----------------------------------------------------


def test_a_hand_edited_report_never_promotes_and_rerun_gates_again(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    report = project.root / "mlgate-report.json"

    def forge() -> None:
        data = json.loads(report.read_text())
        assert data["decision"] == "reject"
        data["decision"] = "promote"
        report.write_text(json.dumps(data, indent=2))

    # The recipe: gate without logging, REJECT, edit the decision, promote.
    set_candidate(project, "3")
    assert cli(project, "gate", "--no-log") == 1
    forge()
    capsys.readouterr()
    assert cli(project, "promote", "--no-git-tag") == 1
    captured = capsys.readouterr()
    assert "cannot be verified: no gate report was logged to the registry" in captured.err
    assert "Run `mlgate gate` without --no-log so the report is logged, then promote" in captured.err
    assert last_state(captured.out) == "unchanged"
    assert champion(project) == "1"

    # Logged this time: the registry holds the REJECT report's hash, and the edit no longer matches it.
    assert cli(project, "gate") == 1
    forge()
    capsys.readouterr()
    assert cli(project, "promote", "--no-git-tag") == 1
    err = capsys.readouterr().err
    assert "does not match the report logged to the registry" in err and "was edited" in err
    assert champion(project) == "1"

    # --rerun trusts only the gate it runs itself: v3 is rejected again, v2 is promoted.
    capsys.readouterr()
    assert cli(project, "promote", "--rerun", "--no-git-tag") == 1
    assert "decided REJECT, not PROMOTE" in capsys.readouterr().err
    set_candidate(project, "2")
    assert cli(project, "gate", "--no-log") == 0
    assert cli(project, "promote", "--no-git-tag") == 1  # an unlogged report, even a true one
    assert cli(project, "promote", "--rerun", "--no-git-tag", "--reason", "gated again") == 0
    assert champion(project) == "2"
    tags = client(project.tracking_uri).get_model_version(project.name, "2").tags
    entries = ledger(project)
    assert tags["mlgate.report_sha256"] == entries[-1]["report_sha256"]  # the rerun logged what it promoted
    assert [(e["from_version"], e["to_version"]) for e in entries] == [(None, "1"), ("1", "2")]


# --- item 4: breaking a stale lock is a compare-and-delete --------------------------------------


def _stale_lock(url: str, name: str) -> None:
    client(url).create_registered_model(
        f"mlgate-lock.{name}",
        tags={
            "mlgate.lock.host": "a-runner-that-is-gone",
            "mlgate.lock.pid": "1",
            "mlgate.lock.since": str(time.time() - 100_000),  # far older than stale_after
            "mlgate.lock.purpose": "promote",
        },
    )


def test_two_waiters_that_both_see_the_same_stale_holder_never_both_hold_the_lock(
    mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both waiters judge the same dead holder stale before either breaks it; the early one breaks
    it and takes the lock, then the late one acts on what it saw. It must not delete the lock the
    early one now holds."""
    url, name = mlflow_server.url, unique_name("lock")
    _stale_lock(url, name)
    barrier = threading.Barrier(2, timeout=60)
    seen = threading.local()
    real_is_stale = promotion._is_stale

    def is_stale(held: dict[str, str], stale_after: float) -> bool:
        stale = real_is_stale(held, stale_after)
        if stale and not getattr(seen, "once", False):
            seen.once = True
            barrier.wait()  # both have read the same stale holder
            if threading.current_thread().name == "late":
                time.sleep(2.0)  # the early waiter breaks it and takes the lock meanwhile
        return stale

    monkeypatch.setattr(promotion, "_is_stale", is_stale)
    # This lock's own claims: the server is shared with other workers' promotions, which make theirs.
    claims: list[str] = []
    real_claim = promotion._release_claim

    def release_claim(lock: str, held: dict[str, str]) -> str:
        claims.append(real_claim(lock, held))
        return claims[-1]

    monkeypatch.setattr(promotion, "_release_claim", release_claim)
    inside: list[str] = []
    most = [0]
    errors: list[BaseException] = []
    guard = threading.Lock()

    def waiter() -> None:
        me = threading.current_thread().name
        try:
            with promotion.registry_lock(client(url), url, name, "promote", timeout=60):
                with guard:
                    inside.append(me)
                    most[0] = max(most[0], len(inside))
                time.sleep(4.0)  # long enough for the late waiter to act on its stale view
                with guard:
                    inside.remove(me)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=waiter, name=n) for n in ("early", "late")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert most[0] == 1, "both waiters held the lock at once"
    left = {m.name for m in client(url).search_registered_models(filter_string="name LIKE 'mlgate-lock%'")}
    assert f"mlgate-lock.{name}" not in left
    assert claims, "the stale holder was never broken through a release claim"
    assert not set(claims) & left, "a release claim of this lock was left behind"


def test_a_holder_whose_lock_was_broken_does_not_release_its_successor(mlflow_server: MlflowServer) -> None:
    url, name = mlflow_server.url, unique_name("lock")
    c = client(url)
    lock = f"mlgate-lock.{name}"
    with promotion.registry_lock(c, url, name, "promote", timeout=5) as held:
        # Meanwhile it was judged stale, broken, and taken by someone else.
        c.delete_registered_model(lock)
        c.create_registered_model(lock, tags={"mlgate.lock.token": "successor", "mlgate.lock.pid": "1"})
        with pytest.raises(promotion.PromotionRefused, match="was broken as stale"):
            held.check("moving the alias")
    assert c.get_registered_model(lock).tags["mlgate.lock.token"] == "successor"
    c.delete_registered_model(lock)


# --- item 5: a failed tag push after the alias moved says so, and a rerun converges --------------


def _refuse_tags(remote: Path) -> Path:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are frozen on this remote' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    return hook


def _remote_tags(project: Project) -> str:
    return subprocess.run(
        ["git", "ls-remote", "--tags", str(project.remote)], capture_output=True, text=True, check=True
    ).stdout


def test_a_tag_push_refused_after_the_alias_moved_says_production_moved_and_a_rerun_finishes(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    set_candidate(project, "2")
    assert cli(project, "gate") == 0
    hook = _refuse_tags(project.remote)
    capsys.readouterr()
    assert cli(project, "promote", "--push", "origin", "--reason", "better") == 1
    captured = capsys.readouterr()
    tag = f"model/{project.name}/v2"
    assert f"promoted: {project.name}@champion: v1 → v2" in captured.out
    assert f"git tag: {tag} (created, NOT pushed to origin)" in captured.out
    assert last_state(captured.out) == "alias-moved"
    err = captured.err
    assert f"`{project.name}@champion` was moved from v1 to v2 and ledger entry #2 was written" in err
    assert "could not be pushed to `origin`" in err and "tags are frozen" in err
    assert "Production serves the new version" in err and "rerun the same command" in err
    assert "Nothing was changed" not in err and "Traceback" not in err
    assert champion(project) == "2"
    assert tag not in _remote_tags(project)

    hook.unlink()
    assert cli(project, "promote", "--push", "origin", "--reason", "better") == 0
    out = capsys.readouterr().out
    assert "already promoted" in out and f"git tag: {tag} (already there, pushed to origin)" in out
    assert last_state(out) == "done"
    assert f"refs/tags/{tag}" in _remote_tags(project)
    assert [(e["from_version"], e["to_version"]) for e in ledger(project)] == [(None, "1"), ("1", "2")]


def _machine(tmp_path: Path, workspace: Path, runner_python: Path, **env: str) -> Machine:
    temp = tmp_path / f"runner-temp-{len(list(tmp_path.glob('runner-temp-*')))}"
    (temp / "artifacts").mkdir(parents=True)
    return Machine(
        workspace=workspace,
        python_bin=runner_python,
        temp=temp,
        artifacts=temp / "artifacts",
        event_name="push",
        event={"ref": "refs/heads/main"},
        extra_env=dict(env),
    )


def test_promote_action_outputs_the_state_it_reached_when_the_push_fails(
    tmp_path: Path, project: Project, runner_python: Path
) -> None:
    set_candidate(project, "2")
    assert cli(project, "gate") == 0
    hook = _refuse_tags(project.remote)
    m = _machine(tmp_path, project.root, runner_python, MLFLOW_TRACKING_URI=project.tracking_uri)
    inputs = {"report": "mlgate-report.json", "push": "origin", "extras": "", "reason": "release"}
    run = run_action(REPO / "actions" / "promote", inputs, m)
    assert run.outcome == "failure", run.log
    tag = f"model/{project.name}/v2"
    assert (run.outputs["state"], run.outputs["version"], run.outputs["git-tag"]) == ("alias-moved", "2", tag)
    assert any("production serves the new version" in a.message for a in run.annotations), run.annotations
    assert champion(project) == "2"

    hook.unlink()
    again = run_action(REPO / "actions" / "promote", inputs, m)
    assert again.outcome == "success", again.log
    assert again.outputs == {"state": "done", "version": "2", "git-tag": tag}
    assert f"refs/tags/{tag}" in _remote_tags(project)


# --- item 6 (ledger): registry tags are validated before use --------------------------------------

GOOD = {
    "seq": 1,
    "action": "promote",
    "alias": "champion",
    "from_version": None,
    "to_version": "1",
    "at": "2025-01-31T12:00:00Z",
    "by": "octocat",
    "reason": "",
    "decision": "promote",
    "report_sha256": "a" * 64,
    "data_sha256": "b" * 64,
    "config_sha256": "c" * 64,
    "git_sha": "d" * 40,
    "note": "",
}


def test_a_valid_ledger_reads() -> None:
    tags = {"mlgate.ledger.000002": json.dumps({**GOOD, "seq": 2, "from_version": "1", "to_version": "2"})}
    tags["mlgate.ledger.000001"] = json.dumps(GOOD)
    tags["unrelated"] = "x\ny"
    assert [e.to_version for e in promotion.read_ledger(tags, "m")] == ["1", "2"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"to_version": "1\nversion=9"}, "`to_version`='1\\nversion=9' must be a version number"),
        ({"from_version": "0"}, "`from_version`='0' must be a version number or null"),
        ({"alias": "champion\n"}, "`alias`='champion\\n' must be an alias"),
        ({"reason": "ok\n::error::forged"}, "`reason`='ok\\n::error::forged' must be one line"),
        ({"by": 7}, "`by`='7' must be one line"),
        ({"action": "delete"}, "`action`='delete' must be promote or rollback"),
        ({"seq": 5}, "`seq`=5 must be the positive number its key ends with"),
        ({"seq": True}, "`seq`=True must be"),
        ({"report_sha256": "nope"}, "`report_sha256`='nope' must be a sha256 or null"),
        ({"extra": 1}, "unknown field(s) 'extra'"),
        ({"to_version": None}, "`to_version`='None' must be a version number"),
    ],
)
def test_a_ledger_tag_that_mlgate_did_not_write_is_refused(change: dict[str, Any], expected: str) -> None:
    tags = {"mlgate.ledger.000001": json.dumps({**GOOD, **change})}
    with pytest.raises(RegistryError) as caught:
        promotion.read_ledger(tags, "credit")
    message = str(caught.value)
    assert message.startswith("ledger tag `mlgate.ledger.000001` of `credit` is not a ledger entry")
    assert expected in message


@pytest.mark.parametrize("value", ["not json", "[1, 2]", json.dumps({"seq": 1})])
def test_a_ledger_tag_that_is_not_an_entry_is_refused(value: str) -> None:
    with pytest.raises(RegistryError, match=r"`mlgate\.ledger\.000001` of `m` is not a ledger entry"):
        promotion.read_ledger({"mlgate.ledger.000001": value}, "m")


def test_a_poisoned_ledger_stops_rollback_and_history_and_never_reaches_the_outputs(
    tmp_path: Path, project: Project, runner_python: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = client(project.tracking_uri)
    [first] = ledger(project)
    c.set_registered_model_tag(
        project.name, "mlgate.ledger.000002", json.dumps({**first, "seq": 2, "to_version": "1\nversion=9"})
    )
    capsys.readouterr()
    assert cli(project, "rollback", "--reason", "incident") == 3
    captured = capsys.readouterr()
    assert "ledger tag `mlgate.ledger.000002`" in captured.err and "`to_version`=" in captured.err
    assert last_state(captured.out) == "unchanged"
    assert cli(project, "history", "--json") == 3
    assert "Traceback" not in capsys.readouterr().err

    m = _machine(tmp_path, tmp_path, runner_python, MLFLOW_TRACKING_URI=project.tracking_uri)
    run = run_action(
        REPO / "actions" / "rollback", {"model": project.name, "reason": "incident", "extras": ""}, m
    )
    assert run.outcome == "failure"
    assert run.outputs["version"] == "" and run.outputs["state"] == "unchanged"
    assert "9" not in run.outputs.values()
    assert champion(project) == "1"


def test_reason_and_by_must_be_one_line(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(project, "rollback", "--reason", "x\ny", "--to-version", "2") == 2
    assert "`reason`='x\\ny' must be one line" in capsys.readouterr().err
    assert cli(project, "rollback", "--reason", "x", "--by", "a\rb", "--to-version", "2") == 2
    assert cli(project, "rollback", "--reason", "x", "--to-version", "2\n") == 2
    assert champion(project) == "1" and len(ledger(project)) == 1
