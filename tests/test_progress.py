"""Progress: a live line in a terminal, one summary line in CI, nothing from library calls or pytest."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_mlgate import progress
from pytest_mlgate.cli import main
from pytest_mlgate.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_enabled", True)
    monkeypatch.setattr(progress, "REDRAW_S", 0.0)
    for name in ("CI", "MLGATE_NO_PROGRESS", "TERM"):
        monkeypatch.delenv(name, raising=False)


def test_a_terminal_gets_a_live_line_then_the_summary(enabled: None) -> None:
    out = Terminal()
    with Progress("profile data.csv", total=300, stream=out) as p:
        for _ in range(3):
            p.advance(100, "(pass 1 of 2)")
    text = out.getvalue()
    assert "\rprofile data.csv: 200/300 rows (67%) (pass 1 of 2)" in text.replace("\x1b[2K", "")
    assert text.endswith("profile data.csv: 300 rows in 0.0 s\n")


def test_ci_logs_get_only_the_summary_line(enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    out = Terminal()
    with Progress("gate", total=4, unit="steps", stream=out) as p:
        for _ in range(4):
            p.advance(1)
    assert out.getvalue() == "gate: 4 steps in 0.0 s\n"


def test_a_failure_prints_no_summary(enabled: None) -> None:
    out = io.StringIO()
    with pytest.raises(ValueError), Progress("profile", stream=out) as p:
        p.advance(5)
        raise ValueError("boom")
    assert out.getvalue() == ""


def test_library_calls_print_nothing() -> None:
    out = Terminal()
    with Progress("profile", stream=out) as p:
        p.advance(10)
    assert out.getvalue() == ""


def test_the_cli_prints_one_summary_line_per_task_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CI", "true")
    data = tmp_path / "big.csv"
    pd.DataFrame({"x": np.arange(5000.0), "c": ["a", "b"] * 2500}).to_csv(data, index=False)
    assert main(["profile", str(data), "-o", str(tmp_path / "p.json"), "--chunk-rows", "1000"]) == 0
    err = capsys.readouterr().err.splitlines()
    # 5,000 rows, read twice: the line counts rows, not reads (it once said 10,000).
    assert err == [f"profile {data}: 5,000 rows (two passes) in {err[0].rsplit(' in ', 1)[1]}"]
    assert progress._enabled is False  # switched off again for whatever runs next


def test_pytest_runs_stay_quiet(pytester: pytest.Pytester) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    pd.DataFrame({"y": y, "p": np.clip(y * 0.6 + rng.random(500) * 0.4, 0, 1)}).to_csv(
        pytester.path / "d.csv", index=False
    )
    pytester.makefile(".yaml", mlgate="task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: p}\n"
                      "metrics:\n  roc_auc: {min: 0.5}\n")  # fmt: skip
    result = pytester.runpytest("--mlgate", "--mlgate-no-log")
    assert result.ret == 0
    assert "steps in" not in result.stdout.str() + result.stderr.str()
