"""The data contract: each rule, the inferred contract, and messages that point at rows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pytest_mlgate.checks.validation import run_validation
from pytest_mlgate.cli import main
from pytest_mlgate.config import ColumnRule, ValidationConfig, load_config


def _clean(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["female", "male"], n),
            "amount": rng.uniform(100, 5_000, n).round(2),
            "ts": pd.date_range("2026-11-20", periods=n, freq="10min").astype(str),
        }
    )


CONTRACT = ValidationConfig(
    row_min=100,
    row_max=10_000,
    max_duplicate_fraction=0.0,
    now="2026-11-24T00:00:00+00:00",
    columns=(
        ColumnRule("age", dtype="integer", min=18, max=100),
        ColumnRule("sex", dtype="categorical", allowed=("female", "male")),
        ColumnRule("amount", dtype="numeric", min=0, max_null_fraction=0.01),
        ColumnRule("ts", dtype="datetime", max_age_seconds=7 * 86400, max_age="7d"),
    ),
)


def _by_id(frame: pd.DataFrame, cfg: ValidationConfig = CONTRACT) -> dict[str, object]:
    return {c.id: c for c in run_validation(cfg, frame)}


def test_clean_data_meets_the_contract() -> None:
    checks = _by_id(_clean())
    assert {c.status for c in checks.values()} == {"pass"}  # type: ignore[attr-defined]


def test_each_rule_names_column_rule_value_and_rows() -> None:
    frame = _clean()
    frame.loc[5, "age"] = 140
    frame.loc[[7, 9], "sex"] = "unknown"
    frame.loc[[1, 2, 3], "amount"] = np.nan
    frame.loc[4, "ts"] = "yesterday-ish"
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    checks = _by_id(frame)
    age = checks["validation:age"]
    assert age.status == "fail"  # type: ignore[attr-defined]
    (violation,) = age.details["violations"]  # type: ignore[attr-defined]
    assert (
        violation["rule"] == "max_out_of_range_fraction"
        and violation["rows"] == [5]
        and violation["examples"] == ["140"]
    )
    assert (
        "rows [7, 9]" in checks["validation:sex"].message and "'unknown'" in checks["validation:sex"].message
    )  # type: ignore[attr-defined]
    assert "null fraction 1.49% > 1.00%" in checks["validation:amount"].message  # type: ignore[attr-defined]
    assert "unparseable timestamp" in checks["validation:ts"].message  # type: ignore[attr-defined]
    assert "rows [200]" in checks["validation:duplicates"].message  # type: ignore[attr-defined]


def test_freshness_rows_and_columns() -> None:
    frame = _clean(50).drop(columns=["sex"]).assign(extra=1)
    stale = ValidationConfig(**{**CONTRACT.__dict__, "now": "2026-12-31T00:00:00+00:00", "strict": True})
    checks = _by_id(frame, stale)
    assert "is stale" in checks["validation:ts"].message  # type: ignore[attr-defined]
    assert "50 rows < min 100" in checks["validation:rows"].message  # type: ignore[attr-defined]
    message = checks["validation:columns"].message  # type: ignore[attr-defined]
    assert "missing: ['sex']" in message and "['extra']" in message


def test_mixed_types_in_a_numeric_column_are_named() -> None:
    frame = _clean().astype({"amount": object})
    frame.loc[11, "amount"] = "12,50"
    check = _by_id(frame)["validation:amount"]
    assert check.status == "fail" and "not numeric" in check.message and "rows [11]" in check.message  # type: ignore[attr-defined]


def test_profile_writes_a_contract_that_clean_data_meets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean(500).to_csv(tmp_path / "ref.csv", index=False)
    assert (
        main(
            [
                "profile",
                str(tmp_path / "ref.csv"),
                "-o",
                str(tmp_path / "p.json"),
                "--contract",
                str(tmp_path / "c.yaml"),
            ]
        )
        == 0
    )
    contract = yaml.safe_load((tmp_path / "c.yaml").read_text())["validation"]
    assert contract["columns"]["sex"]["allowed"] == ["female", "male"]
    _clean(300).to_csv(tmp_path / "cur.csv", index=False)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: cur.csv, target: sex}\nvalidation: {contract: c.yaml}\n"
    )
    checks = _by_id(pd.read_csv(tmp_path / "cur.csv"), load_config(tmp_path / "mlgate.yaml").validation)  # type: ignore[arg-type]
    assert {c.status for c in checks.values()} == {"pass"}  # type: ignore[attr-defined]
    capsys.readouterr()


def test_bad_max_age_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: d.csv, target: y}\nvalidation:\n  columns:\n    ts: {max_age: soon}\n"
    )
    with pytest.raises(
        ValueError, match=re.escape("line 5: `validation.columns.ts.max_age`='soon' must look like")
    ):
        load_config(tmp_path / "mlgate.yaml")
