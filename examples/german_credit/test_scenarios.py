"""Each way a release can go, with the decision the gate must reach (run `python train.py` first)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mlgate.cli import main

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"


def gate(name: str) -> tuple[int, dict | None]:
    report = HERE / "artifacts" / "reports" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    code = main(["gate", "-c", str(SCENARIOS / f"{name}.yaml"), "-o", str(report), "--no-log"])
    return code, json.loads(report.read_text()) if report.exists() else None


@pytest.mark.parametrize(
    ("scenario", "decision", "failing"),
    [
        ("better", "promote", set()),
        ("worse", "reject", {"threshold:roc_auc"}),
        ("biased", "reject", {"fairness:selection_rate"}),
        ("drifted", "reject", {"drift:credit_amount", "drift:duration", "drift:share"}),
    ],
)
def test_scenario_decides(scenario: str, decision: str, failing: set[str]) -> None:
    code, report = gate(scenario)
    assert report is not None and report["decision"] == decision
    assert code == (0 if decision != "reject" else 1)
    assert {c["id"] for c in report["checks"] if c["status"] == "fail"} >= failing


@pytest.mark.parametrize(
    ("scenario", "names"),
    [
        ("broken", "column `credit_amount` is not in the data file `broken.csv`; did you mean `amount`?"),
        ("gaps", "data file `gaps.csv` has missing values in `age` (25 rows"),
    ],
)
def test_broken_data_stops_with_a_message_that_names_it(
    scenario: str, names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = gate(scenario)
    assert code == 3 and report is None
    assert names in capsys.readouterr().err
