"""Hostile configs, reports and labels (issue 14, item 7): refused fast, in little memory, by name.

Every run that could blow up goes through the real CLI in a child process with
a wall-clock timeout and an address-space limit, so a regression fails here
instead of hanging the suite or swapping the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gate_data import write_config, write_holdout

TIMEOUT_S = 60
MEMORY_BYTES = 1536 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def mlgate(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child capped at 1.5 GiB of address space and 60 s."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MLGATE_DEBUG": ""}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest_mlgate.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limit_memory,
        env=env,
    )
    done.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    assert "Traceback" not in done.stderr, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    return done


# --- configs ----------------------------------------------------------------------------------


def alias_bomb(levels: int = 12, width: int = 9) -> str:
    """About 1 KB of YAML whose mappings of aliases stand for width**levels values."""
    keys = "abcdefghi"[:width]
    lines = ["a0: &a0 {" + ", ".join(f"{k}: 1" for k in keys) + "}"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"{k}: *a{i - 1}" for k in keys) + "}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_config_is_refused_fast(tmp_path: Path) -> None:
    text = "task: binary\n" + alias_bomb()
    assert len(text) < 1200
    (tmp_path / "mlgate.yaml").write_text(text, encoding="utf-8")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "mlgate.yaml, line" in done.stderr and "alias" in done.stderr
    assert "at `a" in done.stderr  # the key where the expansion went over the cap


def test_alias_bomb_in_a_list_of_aliases_is_refused(tmp_path: Path) -> None:
    lines = ["task: binary", "l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    (tmp_path / "mlgate.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "alias" in done.stderr, done.stderr


def test_a_50_mb_config_is_refused_before_reading(tmp_path: Path) -> None:
    row = "    c{}: {{min: 0, max: 1}}\n"
    with (tmp_path / "mlgate.yaml").open("w", encoding="utf-8") as out:
        out.write("task: binary\nvalidation:\n  columns:\n")
        chunk = "".join(row.format(i) for i in range(100_000))
        while out.tell() < 50_000_000:
            out.write(chunk)
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "mlgate.yaml` is larger than 10 MiB" in done.stderr
    assert done.elapsed < 30  # type: ignore[attr-defined]


def test_a_config_of_too_many_values_is_refused(tmp_path: Path) -> None:
    """Under the size cap but far too many values: refused by count, naming where it went over."""
    body = "".join(f"    c{i}: {{min: 0, max: 1}}\n" for i in range(40_000))
    (tmp_path / "mlgate.yaml").write_text("task: binary\nvalidation:\n  columns:\n" + body, encoding="utf-8")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "more than 100,000 values" in done.stderr and "`validation.columns.c" in done.stderr


def test_an_alias_to_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text("task: binary\nloop: &loop {again: *loop}\n", encoding="utf-8")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "line 2" in done.stderr and "`*loop` refers to a value that contains it" in done.stderr


@pytest.mark.parametrize("depth", [150, 5000])
def test_deeply_nested_yaml_is_refused(tmp_path: Path, depth: int) -> None:
    text = "task: binary\nmetrics: {roc_auc: " + "[" * depth + "]" * depth + "}\n"
    (tmp_path / "mlgate.yaml").write_text(text, encoding="utf-8")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "mlgate.yaml" in done.stderr
    if depth == 150:
        assert "`metrics.roc_auc.0.0.0" in done.stderr and "more than 100 deep" in done.stderr


@pytest.mark.parametrize("depth", [150, 50_000])
def test_deeply_nested_pyproject_is_refused(tmp_path: Path, depth: int) -> None:
    text = '[tool.mlgate]\ntask = "binary"\nmetrics = ' + "[" * depth + "]" * depth + "\n"
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    done = mlgate("validate-config", "pyproject.toml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "pyproject.toml" in done.stderr and "nested" in done.stderr


def test_alias_bomb_in_a_data_contract_names_the_contract(tmp_path: Path) -> None:
    write_holdout(tmp_path, n=500)
    bomb = "".join(f"  {line}\n" for line in alias_bomb().splitlines())
    (tmp_path / "contract.yaml").write_text("validation:\n" + bomb, encoding="utf-8")
    write_config(tmp_path, "better", extra="validation: {contract: contract.yaml}\n")
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "contract.yaml, line" in done.stderr and "alias" in done.stderr


def test_alias_bomb_in_a_live_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "canary.yaml").write_text("logs: {path: logs.csv}\n" + alias_bomb(), encoding="utf-8")
    done = mlgate("canary", "-c", "canary.yaml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "canary.yaml, line" in done.stderr and "alias" in done.stderr


def test_ordinary_anchors_still_work(tmp_path: Path) -> None:
    write_holdout(tmp_path, n=500)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        "candidate: {column: better}\n"
        "baseline: {column: base}\n"
        "metrics:\n"
        "  accuracy: &usual {margin: 0.01}\n"
        "  roc_auc: *usual\n"
        "  log_loss: {<<: *usual}\n",
        encoding="utf-8",
    )
    done = mlgate("validate-config", "mlgate.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 metric(s)" in done.stdout


# --- reports read back --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A report the gate really wrote, to break one key at a time."""
    from pytest_mlgate.cli import main

    root = tmp_path_factory.mktemp("report")
    write_holdout(root, n=1000)
    config = write_config(root, "better")
    assert main(["gate", "-c", str(config), "-o", str(root / "r.json"), "--no-log"]) == 0
    report: dict[str, Any] = json.loads((root / "r.json").read_text(encoding="utf-8"))
    return report


def _broken(report: dict[str, Any], change: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(report))
    change(copy)
    return copy


BROKEN = {
    "ci-of-one": (lambda r: r["checks"][0].update(ci=[0.1]), "`$.checks[0].ci`=[0.1] must hold 2 items"),
    "checks-of-numbers": (lambda r: r.update(checks=[1, 2]), "`$.checks[0]`=1 must be an object"),
    "checks-not-a-list": (lambda r: r.update(checks={"a": 1}), '`$.checks`={"a": 1} must be a list'),
    "ci-of-text": (lambda r: r["checks"][1].update(ci=["a", "b"]), '`$.checks[1].ci[0]`="a" must be'),
    "threshold-text": (
        lambda r: r["checks"][2]["threshold"].update(margin="wide"),
        '`$.checks[2].threshold.margin`="wide" must be a number or null',
    ),
    "check-missing-status": (lambda r: r["checks"][0].pop("status"), "`$.checks[0].status` is missing"),
    "candidate-a-list": (
        lambda r: r["provenance"].update(candidate=[1]),
        "`$.provenance.candidate`=[1] must be an object or null",
    ),
    "decision-forged": (lambda r: r.update(decision="ship it"), '`$.decision`="ship it" must be one of'),
    "n-negative": (lambda r: r["checks"][0].update(n=-5), "`$.checks[0].n`=-5 must be >= 0"),
    "empty-object": (lambda r: r.clear(), "`$.schema_version`=null must be a version"),
}


@pytest.mark.parametrize("command", ["markdown", "html", "text", "publish"])
@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_report_of_the_wrong_shape_names_the_json_path(
    tmp_path: Path,
    real_report: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    command: str,
) -> None:
    from pytest_mlgate.cli import main

    change, expected = BROKEN[broken]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_broken(real_report, change)), encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    args = (
        ["github", "publish", str(path)]
        if command == "publish"
        else ["report", str(path), "--format", command]
    )
    assert main(args) == 3
    err = capsys.readouterr().err
    assert f"report file `{path}`" in err and expected in err, err
    assert "internal error" not in err
    assert not (tmp_path / "out").exists()  # no outputs from a report that could not be read


def test_the_real_report_itself_reads(real_report: dict[str, Any], tmp_path: Path) -> None:
    from pytest_mlgate.report.validate import read_report

    (tmp_path / "r.json").write_text(json.dumps(real_report), encoding="utf-8")
    assert read_report(tmp_path / "r.json") == real_report


def test_the_digest_promotion_compares_is_of_the_bytes_that_were_parsed(
    real_report: dict[str, Any], tmp_path: Path
) -> None:
    """One read gives both, so the file cannot be swapped between validating and hashing it."""
    import hashlib

    from pytest_mlgate.report.validate import read_report_and_sha256

    raw = (
        json.dumps({**real_report, "summary": "KEEP: café"}, ensure_ascii=False, indent=1) + "\r\n"
    ).encode()
    (tmp_path / "r.json").write_bytes(raw)
    report, digest = read_report_and_sha256(tmp_path / "r.json")
    assert report["summary"] == "KEEP: café"
    assert digest == hashlib.sha256(raw).hexdigest()


def test_a_newer_minor_version_may_add_keys(real_report: dict[str, Any], tmp_path: Path) -> None:
    from pytest_mlgate.report.validate import read_report

    newer = _broken(real_report, lambda r: r.update(schema_version="1.99", added_later={"x": 1}))
    (tmp_path / "r.json").write_text(json.dumps(newer), encoding="utf-8")
    assert read_report(tmp_path / "r.json")["added_later"] == {"x": 1}
    same = _broken(real_report, lambda r: r.update(added_later=1))
    (tmp_path / "r.json").write_text(json.dumps(same), encoding="utf-8")
    with pytest.raises(Exception, match=r"`\$.added_later` is not a key of the report schema"):
        read_report(tmp_path / "r.json")


@pytest.mark.parametrize("depth", [150, 200_000])
def test_a_deeply_nested_report_is_refused(tmp_path: Path, real_report: dict[str, Any], depth: int) -> None:
    nested = "[" * depth + "]" * depth
    marked = _broken(real_report, lambda r: r["checks"][0].update(details={"deep": "HERE"}))
    text = json.dumps(marked).replace('"HERE"', nested)
    (tmp_path / "r.json").write_text(text, encoding="utf-8")
    done = mlgate("report", "r.json", "--format", "html", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "report file `r.json`" in done.stderr and "deep" in done.stderr


def test_a_huge_report_is_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "r.json").open("wb") as out:
        out.truncate(300 * 1024 * 1024)  # sparse: costs no disk
    done = mlgate("github", "publish", "r.json", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "report file `r.json` is larger than 256 MiB" in done.stderr


# --- profiles and golden files ------------------------------------------------------------------


def test_deeply_nested_profile_and_golden_json_are_data_errors(tmp_path: Path) -> None:
    from pytest_mlgate.errors import DataError
    from pytest_mlgate.golden import read_golden
    from pytest_mlgate.profile import load_profile

    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "profile.json").write_text('{"kind": "mlgate-profile", "columns": ' + deep + "}")
    with pytest.raises(DataError, match=r"reference profile `.*profile.json` .*deep"):
        load_profile(tmp_path / "profile.json")
    (tmp_path / "case.json").write_text('{"kind": "mlgate-golden", "inputs": ' + deep + "}")
    with pytest.raises(DataError, match=r"golden file `.*case.json` is corrupt: .*deep"):
        read_golden(tmp_path / "case.json")
    (tmp_path / "case.csv").write_text("x,__expected_score__\n1,0.5\n")
    (tmp_path / "case.csv.meta.json").write_text("[1, 2]")
    with pytest.raises(DataError, match=r"golden metadata `.*case.csv.meta.json` is corrupt"):
        read_golden(tmp_path / "case.csv")


# --- labels that look like mathtext ----------------------------------------------------------------

MATH = r"$\frac{$"


def test_mathtext_like_names_render_as_text(tmp_path: Path) -> None:
    """A column and group values named like matplotlib mathtext, through the gate to the HTML page."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 1200
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "y": y,
            MATH: rng.normal(1.0, 1, n),
            "$g$": np.where(rng.random(n) < 0.5, r"$\sqrt{$", "$x$"),
            "cand": np.clip(y * 0.6 + rng.random(n) * 0.4, 0, 1),
            "base": np.clip(y * 0.4 + rng.random(n) * 0.6, 0, 1),
        }
    )
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    frame[[MATH]].assign(**{MATH: rng.normal(0, 1, n)}).to_csv(tmp_path / "reference.csv", index=False)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        "candidate: {column: cand}\n"
        "baseline: {column: base}\n"
        "metrics: {roc_auc: {margin: 0.01}}\n"
        f"drift: {{reference: reference.csv, columns: ['{MATH}']}}\n"
        "fairness: {sensitive: ['$g$'], metrics: [selection_rate]}\n",
        encoding="utf-8",
    )
    done = mlgate("gate", "--no-log", "--html", "r.html", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3  # the drift, histogram and fairness figures were drawn
    assert MATH in page and r"$\sqrt{$" in page


def test_a_report_with_a_mathtext_metric_name_renders(
    tmp_path: Path, real_report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_mlgate.cli import main

    report = _broken(real_report, lambda r: r["checks"][0].update(metric=MATH))
    (tmp_path / "r.json").write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", str(tmp_path / "r.json"), "--format", "html", "-o", str(tmp_path / "r.html")]) == 0
    assert MATH in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_promote_reads_the_report_through_the_same_check(
    tmp_path: Path, real_report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before the registry is contacted: the tracking URI here answers nothing."""
    from pytest_mlgate.cli import main

    write_holdout(tmp_path, n=200)
    config = tmp_path / "mlgate.yaml"
    config.write_text(
        "task: binary\ndata: {path: holdout.csv, target: y}\n"
        "mlflow: {tracking_uri: 'http://127.0.0.1:9'}\n"
        "candidate: {model: 'models:/credit/2', trust: true}\nmetrics: {roc_auc: {min: 0.5}}\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    report.write_text(json.dumps(_broken(real_report, BROKEN["ci-of-one"][0])), encoding="utf-8")
    assert main(["promote", str(report), "-c", str(config), "--no-git-tag"]) == 3
    err = capsys.readouterr().err
    assert f"report file `{report}` is malformed: `$.checks[0].ci`=[0.1] must hold 2 items" in err


def test_a_short_interval_in_free_form_details_is_a_data_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`details` is free-form in the schema, so the renderer's own failure must still be exit 3."""
    from pytest_mlgate.cli import main

    report = {
        "schema_version": "1.5",
        "decision": "reject",
        "summary": "REJECT",
        "mode": "superiority",
        "confidence": 0.95,
        "seed": 0,
        "fail_on": "reject",
        "checks": [
            {
                "id": "fairness:selection_rate",
                "kind": "fairness",
                "status": "fail",
                "metric": "selection_rate",
                "value": 0.3,
                "baseline": 0.1,
                "delta": 0.2,
                "ci": [0.1, 0.4],
                "n": 100,
                "threshold": {},
                "message": "m",
                "details": {"groups": [{"group": "f", "n": 50, "candidate": 0.2, "candidate_ci": [0.1]}]},
            }
        ],
        "provenance": {
            "candidate": None,
            "baseline": None,
            "data": {"path": "d.csv", "sha256": "0" * 64, "rows": 100, "target": "y"},
            "config": {"path": None, "sha256": "0" * 64},
            "git_sha": None,
            "seed": 0,
            "versions": {"mlgate": "0", "numpy": "2"},
        },
    }
    (tmp_path / "r.json").write_text(json.dumps(report), encoding="utf-8")
    code = main(["report", str(tmp_path / "r.json"), "--format", "html", "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "is malformed: IndexError" in err and "internal error" not in err
