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
