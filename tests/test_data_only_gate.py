"""A gate that judges no model (data checks only) passes or rejects; it never promotes.

Before schema 1.5 such a gate decided PROMOTE, and a release job pointed at its report would have
promoted whatever model it was given on the strength of a drift check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.cli import main

REPORT_SCHEMA = Path(__file__).resolve().parents[1] / "pytest_mlgate" / "schemas" / "report.schema.json"

DATA_ONLY = """\
task: binary
data: {path: current.csv, target: y}
drift:
  reference: reference.csv
  columns: [income]
validation:
  columns:
    income: {dtype: numeric, min: 0}
"""


def _frame(seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4_000
    return pd.DataFrame({"income": rng.lognormal(10 + shift, 0.5, n).round(0), "y": rng.integers(0, 2, n)})


def _write(tmp_path: Path, *, shift: float) -> Path:
    _frame(1).to_csv(tmp_path / "reference.csv", index=False)
    _frame(2, shift).to_csv(tmp_path / "current.csv", index=False)
    config = tmp_path / "mlgate.yaml"
    config.write_text(DATA_ONLY, encoding="utf-8")
    return config


def _report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))).validate(report)
    return report


@pytest.mark.parametrize("fail_on", ["reject", "keep"])
def test_a_data_only_gate_passes_and_never_promotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fail_on: str
) -> None:
    config = _write(tmp_path, shift=0.0)
    out = tmp_path / "report.json"

    code = main(["gate", "-c", str(config), "-o", str(out), "--fail-on", fail_on])

    printed = capsys.readouterr().out
    report = _report(out)
    assert code == 0, printed
    assert report["decision"] == "pass"
    assert report["summary"].startswith("PASS: data checks only, no model was judged")
    assert {c["kind"] for c in report["checks"]} == {"drift", "validation"}
    assert "decision: PASS" in printed


def test_a_data_only_gate_rejects_drifted_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path, shift=1.0)
    out = tmp_path / "report.json"

    code = main(["gate", "-c", str(config), "-o", str(out)])

    capsys.readouterr()
    assert code == 1
    assert _report(out)["decision"] == "reject"


def test_a_passing_data_only_report_renders_as_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, shift=0.0)
    out = tmp_path / "report.json"
    assert main(["gate", "-c", str(config), "-o", str(out)]) == 0
    capsys.readouterr()

    assert main(["report", str(out), "--format", "markdown"]) == 0

    markdown = capsys.readouterr().out
    assert "PASS" in markdown
    assert "PROMOTE" not in markdown
