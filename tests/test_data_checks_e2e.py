"""One mlgate.yaml with drift, validation and fairness sections, on four data sets.

Each outcome must show in the terminal table, the JSON report and the Markdown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # four data sets of 6,000 rows through the CLI and pytest

SCHEMA = json.loads((Path(__file__).parents[1] / "pytest_mlgate/schemas/report.schema.json").read_text())

CONFIG = """\
task: binary
n_boot: 500
data: {path: current.csv, target: y}
candidate: {column: cand}
baseline: {column: base}
drift:
  reference: reference.csv
  columns: [income, region]
validation:
  now: "2026-11-24T00:00:00"
  row_count: {min: 1000}
  columns:
    income: {dtype: numeric, min: 0, max: 500000}
    region: {dtype: categorical, allowed: [north, south, east, west]}
    ts: {dtype: datetime, max_age: 7d}
fairness:
  sensitive: [sex]
  metrics: [selection_rate, true_positive_rate]
"""


def _frame(seed: int, shift: float = 0.0, biased: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 6_000
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(10 + shift, 0.5, n).round(0),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "sex": rng.choice(["f", "m"], n),
            "ts": pd.date_range("2026-11-21", periods=n, freq="30s").astype(str),
            "y": rng.integers(0, 2, n),
        }
    )
    base_hit = rng.random(n) < 0.8
    frame["base"] = np.where(frame["y"] == 1, base_hit * 0.7 + 0.15, rng.random(n) * 0.4)
    frame["cand"] = frame["base"]
    if biased:
        cut = (frame["sex"] == "f") & (frame["y"] == 1) & (rng.random(n) < 0.3)
        frame.loc[cut, "cand"] = 0.1
    return frame


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    _frame(0).to_csv(pytester.path / "reference.csv", index=False)
    (pytester.path / "mlgate.yaml").write_text(CONFIG)
    return pytester


def _run(project: pytest.Pytester, current: pd.DataFrame) -> tuple[pytest.RunResult, dict[str, object], str]:
    current.to_csv(project.path / "current.csv", index=False)
    result = project.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider", "-rs")
    report = json.loads((project.path / "mlgate-report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    mlgate = Path(sys.executable).parent / "mlgate"
    markdown = project.run(str(mlgate), "report", str(project.path / "mlgate-report.json")).stdout.str()
    return result, report, markdown


def _status(report: dict[str, object]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}  # type: ignore[attr-defined]


def test_clean_data_passes_every_data_check(project: pytest.Pytester) -> None:
    result, report, markdown = _run(project, _frame(1))
    status = _status(report)
    assert all(v == "pass" for k, v in status.items() if not k.startswith("compare:"))
    result.stdout.fnmatch_lines(
        ["*mlgate.yaml*", "*drift:income*pass*", "*fairness:true_positive_rate*pass*"]
    )
    assert "| drift:income | pass |" in markdown


def test_a_drifted_feature_is_flagged(project: pytest.Pytester) -> None:
    result, report, markdown = _run(project, _frame(2, shift=0.6))
    assert _status(report)["drift:income"] == "fail"
    assert report["decision"] == "reject"
    result.stdout.fnmatch_lines(["*drift:income*fail*", "*decision: REJECT*drift:income*"])
    assert "| drift:income | fail |" in markdown and "drifted: PSI" in markdown
    assert result.ret == 1


def test_a_broken_contract_names_the_column_and_rows(project: pytest.Pytester) -> None:
    broken = _frame(3)
    broken.loc[[10, 20], "region"] = "mars"
    broken.loc[7, "income"] = -5
    result, report, markdown = _run(project, broken)
    status = _status(report)
    assert status["validation:region"] == "fail" and status["validation:income"] == "fail"
    assert "validation:region: FAIL" in result.stdout.str()
    assert "(rows [10, 20]), e.g. 'mars'" in result.stdout.str()
    assert "`validation:income`" in markdown and "rows [7]" in markdown


def test_a_candidate_biased_against_one_group_fails_fairness(project: pytest.Pytester) -> None:
    result, report, markdown = _run(project, _frame(4, biased=True))
    assert _status(report)["fairness:true_positive_rate"] == "fail"
    result.stdout.fnmatch_lines(["*fairness:true_positive_rate*fail*"])
    assert "disparity grew over the baseline" in markdown
    assert result.ret == 1
