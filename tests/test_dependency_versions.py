"""What must hold on every pandas and numpy we allow: `make test-lowest` and `make test-newest` run this file.

pandas 3 made copy-on-write the default, so arrays handed out by ``to_numpy()`` may be
pandas' own read-only buffers; an in-place update of one used to crash the data contract.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate.checks.validation import run_validation
from pytest_mlgate.cli import main
from pytest_mlgate.config import ColumnRule, ValidationConfig

CONFIG = """\
task: binary
n_boot: 200
data: {path: current.csv, target: y}
candidate: {column: cand}
baseline: {column: base}
validation:
  columns:
    count: {dtype: integer, min: 0}
"""


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, n)
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    return pd.DataFrame({"count": rng.integers(0, 50, n), "y": y, "cand": score, "base": score})


def _gate(
    tmp_path: Path, frame: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, str]]:
    frame.to_csv(tmp_path / "current.csv", index=False)
    (tmp_path / "mlgate.yaml").write_text(CONFIG)
    code = main(["gate", "-c", str(tmp_path / "mlgate.yaml"), "-o", str(tmp_path / "report.json")])
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err, err
    checks = json.loads((tmp_path / "report.json").read_text())["checks"]
    return code, {c["id"]: c["message"] for c in checks if c["id"] == "validation:count"}


def test_an_integer_contract_passes_whole_numbers_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, messages = _gate(tmp_path, _frame(), capsys)
    assert code == 0, messages
    assert "meets its" in messages["validation:count"]


def test_an_integer_contract_names_the_row_of_a_fraction_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _frame().astype({"count": np.float64})
    frame.loc[7, "count"] = 2.5
    code, messages = _gate(tmp_path, frame, capsys)
    assert code == 1
    assert "`count` has 1 value(s) that are not integer (rows [7])" in messages["validation:count"]


@pytest.mark.parametrize(
    ("values", "dtype", "bad_rows"),
    [
        ([1, 2, 3], "int64", []),
        ([1, None, 3], "Int64", []),
        ([1.0, 2.0, 3.5], "float64", [2]),
        (["1", "2", "x"], "object", [2]),
        (["4", "5", "6.25"], "string", [2]),
    ],
    ids=["int64", "nullable-Int64", "float", "object-text", "string"],
)
def test_the_integer_rule_on_each_column_dtype(values: list[object], dtype: str, bad_rows: list[int]) -> None:
    series = pd.Series(values, dtype=dtype, name="n")
    cfg = ValidationConfig(columns=(ColumnRule("n", dtype="integer", max_null_fraction=0.5),))
    (check,) = [c for c in run_validation(cfg, series.to_frame()) if c.id == "validation:n"]
    rows = [v["rows"] for v in check.details["violations"] if v["rule"] == "dtype"]
    assert rows == ([bad_rows] if bad_rows else []), check.message


def test_a_pandas_deprecation_set_off_by_our_code_fails_the_run() -> None:
    """pyproject's filterwarnings: a real pandas deprecation, attributed to a pytest_mlgate module, is an error."""
    if int(pd.__version__.split(".")[0]) >= 3:
        deprecated = "pd.DataFrame({'a': [1], 'b': [2]}).groupby('a')[('b',)]"  # Pandas4Warning
    else:
        deprecated = "pd.Index([1, 2]).is_integer()"  # FutureWarning since pandas 2.0
    with pytest.raises((FutureWarning, DeprecationWarning)):
        exec(deprecated, {"__name__": "pytest_mlgate.probe", "pd": pd})
    # The same call from elsewhere (a test, another library) stays a warning: the filters are kept as they are.
    with warnings.catch_warnings(record=True) as caught:
        exec(deprecated, {"__name__": "elsewhere", "pd": pd})
    assert caught
