"""MLflow registry end to end, against a real `mlflow server` on 127.0.0.1 and a real bare git remote.

The story: a first champion judged on floors only, a better candidate promoted
(tags, run artifacts, git tag), a worse one rejected and refused, a rollback,
and the ledger that records all of it. Then what must be refused, races,
faults, and bad input.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mlflow_parts import BIN, MlflowServer, Project, Relay, cli, client, free_port, make_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path: Path, mlflow_server: MlflowServer, trained: dict[str, Any], registered: Any) -> Project:
    proj = make_project(
        tmp_path / "proj", mlflow_server.url, trained["holdout"], registered("weak", "strong", "bad")
    )
    proj.config(f"models:/{proj.name}@candidate", f"models:/{proj.name}@champion")
    proj.commit("holdout and gate config")
    return proj


def set_candidate(project: Project, version: str) -> None:
    client(project.tracking_uri).set_registered_model_alias(project.name, "candidate", version)


def ledger(project: Project) -> list[dict[str, Any]]:
    tags = client(project.tracking_uri).get_registered_model(project.name).tags
    return [json.loads(v) for k, v in sorted(tags.items()) if k.startswith("mlgate.ledger.")]


def champion(project: Project) -> str | None:
    return client(project.tracking_uri).get_registered_model(project.name).aliases.get("champion")


def test_first_champion_better_promoted_worse_refused_then_rollback(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    c = client(project.tracking_uri)
    report = project.root / "mlgate-report.json"

    set_candidate(project, "1")
    assert cli(project, "gate") == 0
    first = json.loads(report.read_text())
    assert first["decision"] == "promote"
    assert "first run, no champion yet" in first["summary"]
    assert [ch["id"] for ch in first["checks"]] == ["threshold:roc_auc"]  # floors only
    assert first["provenance"]["baseline"]["missing"] is True
    assert cli(project, "promote", "--reason", "first champion") == 0
    assert champion(project) == "1"

    set_candidate(project, "2")
    assert cli(project, "gate") == 0
    gated = json.loads(report.read_text())
    assert gated["decision"] == "promote", gated["summary"]
    schema = json.loads((Path(__file__).parents[1] / "pytest_mlgate/schemas/report.schema.json").read_text())
    jsonschema.validate(first, schema)  # the first run's missing baseline, too
    jsonschema.validate(gated, schema)
    assert gated["provenance"]["baseline"]["version"] == "1"
    tags = c.get_model_version(project.name, "2").tags
    assert tags["mlgate.decision"] == "promote"
    assert tags["mlgate.report_sha256"] == sha256(report)
    assert tags["mlgate.data_sha256"] == sha256(project.root / "holdout.csv")
    assert tags["mlgate.config_sha256"] == sha256(project.root / "mlgate.yaml")
    assert tags["git.sha"] == project.git("rev-parse", "HEAD")
    assert tags["mlgate.baseline"] == f"models:/{project.name}/1"
    run_id = c.get_model_version(project.name, "2").run_id
    logged = Path(c.download_artifacts(run_id, "mlgate/mlgate-report.json", str(project.root.parent)))
    assert sha256(logged) == sha256(report)
    metrics = c.get_run(run_id).data.metrics
    compare = next(ch for ch in gated["checks"] if ch["id"] == "compare:roc_auc")
    assert metrics["mlgate/compare/roc_auc/delta"] == pytest.approx(compare["delta"])
    assert metrics["mlgate/compare/roc_auc/ci_low"] == pytest.approx(compare["ci"][0])
    assert metrics["mlgate/compare/roc_auc/baseline"] == pytest.approx(compare["baseline"])

    capsys.readouterr()
    assert cli(project, "promote", "--reason", "better AUC", "--push", "origin") == 0
    out = capsys.readouterr().out
    assert f"{project.name}@champion: v1 → v2" in out
    assert champion(project) == "2"
    tag = f"model/{project.name}/v2"
    remote_tags = subprocess.run(
        ["git", "--git-dir", str(project.remote), "tag", "-n20", "-l", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sha256(report) in remote_tags and "previous: v1" in remote_tags
    annotated = subprocess.run(
        ["git", "--git-dir", str(project.remote), "cat-file", "-t", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert annotated == "tag"

    set_candidate(project, "3")
    assert cli(project, "gate") == 1
    assert json.loads(report.read_text())["decision"] == "reject"
    assert c.get_model_version(project.name, "3").tags["mlgate.decision"] == "reject"
    capsys.readouterr()
    assert cli(project, "promote") == 1
    assert "decided REJECT, not PROMOTE" in capsys.readouterr().err
    assert champion(project) == "2"

    assert cli(project, "rollback", "--reason", "latency regression in prod", "--by", "oncall") == 0
    assert champion(project) == "1"
    # The alias read back, the line the rollback action takes its `version` output from.
    assert capsys.readouterr().out.splitlines()[-2:] == ["version: 1", "state: done"]
    assert cli(project, "rollback", "--reason", "again") == 0  # idempotent
    assert champion(project) == "1"
    assert "already rolled back" in capsys.readouterr().out

    entries = ledger(project)
    assert [(e["action"], e["from_version"], e["to_version"]) for e in entries] == [
        ("promote", None, "1"),
        ("promote", "1", "2"),
        ("rollback", "2", "1"),
    ]
    assert entries[2]["by"] == "oncall" and entries[2]["reason"] == "latency regression in prod"
    assert entries[1]["report_sha256"] and entries[1]["git_sha"] == project.git("rev-parse", "HEAD")

    capsys.readouterr()
    assert cli(project, "history") == 0
    out = capsys.readouterr().out
    assert "rollback" in out and "latency regression in prod" in out and "reject" in out
    assert cli(project, "history", "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert [v["decision"] for v in found["gated_versions"]] == ["promote", "promote", "reject"]


def test_rollback_with_nothing_to_roll_back_to(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(project, "rollback", "--reason", "x") == 1
    assert "is not set" in capsys.readouterr().err
    set_candidate(project, "1")
    assert cli(project, "gate") == 0 and cli(project, "promote") == 0
    assert cli(project, "rollback", "--reason", "x") == 1
    assert "first `@champion`" in capsys.readouterr().err
    assert cli(project, "rollback", "--reason", "x", "--to-version", "7") == 3
    assert "version 7" in capsys.readouterr().err
    assert cli(project, "rollback", "--reason", "manual", "--to-version", "2") == 0
    assert champion(project) == "2"


class TestPromoteRefuses:
    """A report is promoted only if it is the one logged for that version, on this config and data."""

    @pytest.fixture
    def gated(self, project: Project) -> Project:
        set_candidate(project, "1")
        assert cli(project, "gate") == 0 and cli(project, "promote") == 0
        set_candidate(project, "2")
        assert cli(project, "gate") == 0
        return project

    def test_other_data(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        with (gated.root / "holdout.csv").open("a") as f:
            f.write("0.1,0.2,0.3,1\n")
        assert cli(gated, "promote") == 1
        assert "other data" in capsys.readouterr().err
        assert champion(gated) == "1"

    def test_other_config(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        with (gated.root / "mlgate.yaml").open("a") as f:
            f.write("seed: 3\n")
        assert cli(gated, "promote") == 1
        assert "another config" in capsys.readouterr().err

    def test_other_version(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        set_candidate(gated, "3")
        assert cli(gated, "promote") == 1
        assert "now resolves to" in capsys.readouterr().err

    def test_stale_report(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        old = gated.root / "old-report.json"
        old.write_bytes((gated.root / "mlgate-report.json").read_bytes())
        assert cli(gated, "gate", "--seed", "5") == 0  # a newer gate run of the same version
        assert cli(gated, "promote", str(old)) == 1
        assert "is stale" in capsys.readouterr().err

    def test_champion_moved_since_the_gate(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        client(gated.tracking_uri).set_registered_model_alias(gated.name, "champion", "3")
        assert cli(gated, "promote") == 1
        err = capsys.readouterr().err
        assert "expected it to be v1" in err and "is v3" in err
        assert champion(gated) == "3"
        assert len(ledger(gated)) == 1

    def test_lock_held_by_a_live_promotion(self, gated: Project, capsys: pytest.CaptureFixture[str]) -> None:
        c = client(gated.tracking_uri)
        c.create_registered_model(
            f"mlgate-lock.{gated.name}",
            tags={
                "mlgate.lock.pid": str(os.getpid()),
                "mlgate.lock.host": os.uname().nodename,
                "mlgate.lock.since": "9e18",
                "mlgate.lock.purpose": "promote",
            },
        )
        try:
            assert cli(gated, "promote", "--lock-timeout", "0.5") == 1
            assert "in progress" in capsys.readouterr().err
            assert champion(gated) == "1"
        finally:
            c.delete_registered_model(f"mlgate-lock.{gated.name}")

    def test_lock_of_a_dead_process_is_broken(self, gated: Project) -> None:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        client(gated.tracking_uri).create_registered_model(
            f"mlgate-lock.{gated.name}",
            tags={
                "mlgate.lock.pid": dead.stdout.strip(),
                "mlgate.lock.host": os.uname().nodename,
                "mlgate.lock.since": "9e18",
                "mlgate.lock.purpose": "promote",
            },
        )
        assert cli(gated, "promote", "--lock-timeout", "2") == 0
        assert champion(gated) == "2"


def test_two_promotions_race_and_exactly_one_wins(project: Project) -> None:
    set_candidate(project, "1")
    assert cli(project, "gate") == 0 and cli(project, "promote") == 0
    for version, file in (("2", "gate-v2.yaml"), ("3", "gate-v3.yaml")):
        config = project.root / file
        config.write_text(
            (project.root / "mlgate.yaml")
            .read_text()
            .replace(f"{project.name}@candidate", f"{project.name}/{version}")
            .replace("roc_auc: {margin: 0.01, min: 0.6}", "roc_auc: {margin: 1.0}")
            .replace("log_loss: {margin: 0.01}", "log_loss: {margin: 1.0}")
            + "mode: non-inferiority\n"
            + f"report: {{path: report-v{version}.json}}\n"
        )
        assert cli(project, "gate", "-c", file) == 0
        assert json.loads((project.root / f"report-v{version}.json").read_text())["decision"] == "promote"
    env = {**os.environ, "MLFLOW_TRACKING_URI": project.tracking_uri}
    racers = [
        subprocess.Popen(
            [str(BIN / "mlgate"), "promote", f"report-v{v}.json", "-c", f"gate-v{v}.yaml", "--no-git-tag"],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v in ("2", "3")
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in racers]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    winner = "2" if results[0][0] == 0 else "3"
    loser_err = next(err for code, _, err in results if code == 1)
    assert "expected it to be v1" in loser_err or "in progress" in loser_err
    assert champion(project) == winner
    assert [(e["from_version"], e["to_version"]) for e in ledger(project)] == [(None, "1"), ("1", winner)]
    assert f"mlgate-lock.{project.name}" not in {
        m.name for m in client(project.tracking_uri).search_registered_models()
    }


FAULT_DRIVER = textwrap.dedent(
    """
    import os, sys
    from mlflow import MlflowClient
    from pytest_mlgate.cli import main

    sys.path.insert(0, os.environ["RELAY_DIR"])
    from tcp_relay import cut

    stage = sys.argv[1]
    def cut_off():
        cut(int(os.environ["RELAY_PGID"]), int(os.environ["RELAY_PORT"]))
    if stage == "before-move":
        real = MlflowClient.set_registered_model_alias
        def move(self, *a, **k):
            cut_off()
            return real(self, *a, **k)
        MlflowClient.set_registered_model_alias = move
    else:
        real_tag = MlflowClient.set_registered_model_tag
        prefix = "mlgate.ledger." if stage == "before-ledger" else "mlgate.previous."
        def tag(self, name, key, value):
            if key.startswith(prefix):
                cut_off()
            return real_tag(self, name, key, value)
        MlflowClient.set_registered_model_tag = tag
    sys.exit(main(["promote", "--no-git-tag", "--lock-timeout", "5"]))
    """
)


@pytest.fixture(scope="module")
def fault_server(
    mlflow_server: MlflowServer, logged: dict[str, Any]
) -> Iterator[tuple[Relay, dict[str, Any]]]:
    """The session's server behind a relay of the fault tests' own: they kill the relay, which makes the
    server unreachable to the promotion and to nobody else, and each stage starts it again before it ends."""
    relay = Relay(mlflow_server, free_port()).start()
    try:
        yield relay, logged
    finally:
        relay.stop()


@pytest.mark.parametrize("stage", ["before-move", "before-ledger", "before-previous"])
def test_server_unreachable_mid_promotion_and_a_rerun_converges(
    tmp_path: Path,
    trained: dict[str, Any],
    fault_server: tuple[Relay, dict[str, Any]],
    stage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server becomes unreachable between the check and the alias move (or before the ledger entry, or
    between the entry and the previous-version tag): the error says exactly which state was reached, the
    alias is unchanged or fully moved, and rerunning the same command finishes the job."""
    relay, logged = fault_server
    if relay.process is None:  # an earlier stage failed before it could start the relay again
        relay.start()
    try:
        proj = make_project(tmp_path / "proj", relay.url, trained["holdout"])
        registry = client(relay.url)
        registry.create_registered_model(proj.name)
        for kind in ("weak", "strong"):
            source = logged[kind]
            registry.create_model_version(
                proj.name, source=source.source, run_id=source.run_id, model_id=source.source.split("/")[-1]
            )
        proj.config(f"models:/{proj.name}@candidate", f"models:/{proj.name}@champion")
        proj.commit()
        set_candidate(proj, "1")
        assert cli(proj, "gate") == 0 and cli(proj, "promote") == 0
        set_candidate(proj, "2")
        assert cli(proj, "gate") == 0
        (tmp_path / "driver.py").write_text(FAULT_DRIVER)
        env = {
            **os.environ,
            "RELAY_DIR": str(Path(__file__).parent),
            "RELAY_PGID": str(relay.process.pid),  # type: ignore[union-attr]
            "RELAY_PORT": str(relay.port),
        }
        crashed = subprocess.run(
            [sys.executable, str(tmp_path / "driver.py"), stage],
            cwd=proj.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert crashed.returncode == 3, crashed.stderr
        assert "unreachable" in crashed.stderr and "rerun" in crashed.stderr
        assert "Traceback" not in crashed.stderr
        said = {
            "before-move": ("the alias was not moved: it is still v1", "unchanged"),
            "before-ledger": ("was moved from v1 to v2, but ledger entry #2 was not written", "alias-moved"),
            "before-previous": (
                "ledger entry #2 was written, but the tag `mlgate.previous.champion`",
                "alias-moved",
            ),
        }[stage]
        assert said[0] in crashed.stderr
        assert crashed.stdout.splitlines()[-1] == f"state: {said[1]}"
        if stage != "before-move":  # the alias moved: never say that nothing changed
            assert "Nothing was changed" not in crashed.stderr and "not moved" not in crashed.stderr
        relay.process.wait(timeout=30)  # type: ignore[union-attr]
        relay.process = None
        relay.start()
        assert champion(proj) == ("1" if stage == "before-move" else "2")  # unchanged, or fully moved
        assert (
            "mlgate.previous.champion" not in client(proj.tracking_uri).get_registered_model(proj.name).tags
        )
        capsys.readouterr()
        rerun = cli(proj, "promote", "--no-git-tag", "--lock-timeout", "5")
        assert rerun == 0, capsys.readouterr().err
        assert champion(proj) == "2"
        entries = ledger(proj)
        assert [(e["from_version"], e["to_version"]) for e in entries] == [(None, "1"), ("1", "2")]
        if stage == "before-ledger":
            assert "completed by a rerun" in entries[-1]["note"]
        assert (
            client(proj.tracking_uri).get_registered_model(proj.name).tags["mlgate.previous.champion"] == "1"
        )
    except BaseException:
        relay.stop()  # the next stage starts it again, from a known state
        raise


def test_promote_to_staging_leaves_champion_alone(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    set_candidate(project, "1")
    assert cli(project, "gate") == 0 and cli(project, "promote", "--no-git-tag") == 0
    set_candidate(project, "2")
    assert cli(project, "gate") == 0
    capsys.readouterr()
    assert cli(project, "promote", "--alias", "staging", "--no-git-tag") == 0
    assert "without comparing it with the gate's baseline" in capsys.readouterr().out
    aliases = client(project.tracking_uri).get_registered_model(project.name).aliases
    assert aliases["staging"] == "2" and aliases["champion"] == "1"
    assert [(e["alias"], e["to_version"]) for e in ledger(project)] == [("champion", "1"), ("staging", "2")]
