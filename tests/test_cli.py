"""Happy paths of the `mlgate` command, run in-process through `main(argv)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from gate_data import BINARY_CONFIG, binary_frame, write_config_text, write_csv

from pytest_mlgate.cli import main

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_mlgate"
REPORT_SCHEMA = PACKAGE / "schemas" / "report.schema.json"
CONFIG_SCHEMA = PACKAGE / "schemas" / "config.schema.json"
N = 20_000


def _gate_dir(tmp_path: Path, *, candidate: float, baseline: float, identical: bool = False) -> Path:
    """Write data.csv (n = 20,000) and mlgate.yaml into tmp_path; return the config path."""
    frame = binary_frame(N, seed=7, candidate=candidate, baseline=baseline)
    if identical:
        frame["base"] = frame["cand"]
    write_csv(frame, tmp_path / "data.csv")
    return write_config_text(tmp_path, BINARY_CONFIG)


def _load_report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    return report


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in report["checks"]}


def test_gate_promotes_a_clearly_better_candidate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_dir(tmp_path, candidate=2.0, baseline=0.5)
    out_path = tmp_path / "out" / "report.json"

    code = main(["gate", "-c", str(config), "-o", str(out_path)])

    out = capsys.readouterr().out
    assert code == 0
    report = _load_report(out_path)
    assert report["decision"] == "promote"
    assert _statuses(report) == {"compare:accuracy": "pass", "compare:roc_auc": "pass"}
    assert report["provenance"]["data"]["rows"] == N
    assert "decision: PROMOTE" in out
    assert f"report: {out_path}" in out


def test_gate_writes_the_report_to_the_configured_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _gate_dir(tmp_path, candidate=2.0, baseline=0.5)
    monkeypatch.chdir(tmp_path)

    code = main(["gate", "--markdown", "summary.md"])

    assert code == 0
    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["decision"] == "promote"
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "mlgate: PROMOTE" in markdown
    assert "decision: PROMOTE" in capsys.readouterr().out


def test_gate_rejects_a_clearly_worse_candidate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_dir(tmp_path, candidate=0.5, baseline=2.0)

    code = main(["gate", "-c", str(config)])

    assert code == 1
    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["decision"] == "reject"
    assert report["fail_on"] == "reject"
    assert _statuses(report) == {"compare:accuracy": "fail", "compare:roc_auc": "fail"}
    assert "decision: REJECT" in capsys.readouterr().out


def test_fail_on_never_passes_a_rejected_candidate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _gate_dir(tmp_path, candidate=0.5, baseline=2.0)

    code = main(["gate", "-c", str(config), "--fail-on", "never"])

    assert code == 0
    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["decision"] == "reject"
    assert report["fail_on"] == "never"
    assert "fail-on=never" in capsys.readouterr().out


def test_identical_models_keep_and_pass_with_default_fail_on(tmp_path: Path) -> None:
    config = _gate_dir(tmp_path, candidate=2.0, baseline=2.0, identical=True)

    code = main(["gate", "-c", str(config)])

    assert code == 0
    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["decision"] == "keep"
    assert set(_statuses(report).values()) == {"inconclusive"}


def test_fail_on_keep_fails_identical_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_dir(tmp_path, candidate=2.0, baseline=2.0, identical=True)

    code = main(["gate", "-c", str(config), "--fail-on", "keep"])

    assert code == 1
    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["decision"] == "keep"
    assert report["fail_on"] == "keep"
    assert "decision: KEEP" in capsys.readouterr().out


def test_seed_override_is_recorded(tmp_path: Path) -> None:
    config = _gate_dir(tmp_path, candidate=2.0, baseline=0.5)

    assert main(["gate", "-c", str(config), "--seed", "42"]) == 0

    report = _load_report(tmp_path / "mlgate-report.json")
    assert report["seed"] == 42
    assert report["provenance"]["seed"] == 42


def test_validate_config_accepts_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config_text(tmp_path, BINARY_CONFIG)

    code = main(["validate-config", str(config)])

    assert code == 0
    assert "valid (binary, 2 metric(s))" in capsys.readouterr().out


def test_validate_config_finds_mlgate_yaml_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config_text(tmp_path, BINARY_CONFIG)
    monkeypatch.chdir(tmp_path)

    assert main(["validate-config"]) == 0
    assert "mlgate.yaml: valid" in capsys.readouterr().out


def test_report_markdown_has_a_row_per_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_dir(tmp_path, candidate=0.5, baseline=2.0)
    assert main(["gate", "-c", str(config)]) == 1
    capsys.readouterr()

    code = main(["report", str(tmp_path / "mlgate-report.json"), "--format", "markdown"])

    out = capsys.readouterr().out
    assert code == 0
    assert "mlgate: REJECT" in out
    table_rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert table_rows[0].startswith("| check | status |")
    assert any(row.startswith("| compare:accuracy | fail |") for row in table_rows)
    assert any(row.startswith("| compare:roc_auc | fail |") for row in table_rows)
    assert len(table_rows) == 3  # header + one row per check
    assert main(["report", str(tmp_path / "mlgate-report.json"), "--format", "md"]) == 0
    assert capsys.readouterr().out == out  # md is markdown's short name


def test_report_text_and_json_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_dir(tmp_path, candidate=2.0, baseline=0.5)
    report_path = tmp_path / "mlgate-report.json"
    assert main(["gate", "-c", str(config)]) == 0
    capsys.readouterr()

    assert main(["report", str(report_path), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "compare:roc_auc" in text
    assert "decision: PROMOTE" in text

    written = tmp_path / "copy.json"
    assert main(["report", str(report_path), "--format", "json", "-o", str(written)]) == 0
    assert json.loads(written.read_text(encoding="utf-8")) == json.loads(report_path.read_text("utf-8"))


def test_schema_config_matches_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "config"]) == 0

    printed = capsys.readouterr().out
    assert printed == CONFIG_SCHEMA.read_text(encoding="utf-8")
    assert json.loads(printed)["properties"]["metrics"]["type"] == "object"


def test_schema_report_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "report"]) == 0

    assert json.loads(capsys.readouterr().out) == json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))


def test_metrics_lists_builtin_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics"]) == 0

    lines = capsys.readouterr().out.splitlines()
    names = {line.split()[0] for line in lines if line.strip()}
    assert {"accuracy", "roc_auc", "log_loss", "rmse"} <= names
    roc_auc = next(line for line in lines if line.startswith("roc_auc "))
    assert "binary" in roc_auc
    assert "higher is better" in roc_auc
