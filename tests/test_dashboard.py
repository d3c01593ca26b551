"""`mlgate dashboard`: past gates and monitor runs over time, from a folder of real reports or MLflow."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser import dom, screenshot
from gate_data import binary_frame, write_config_text
from live_logs import generators

from pytest_mlgate.cli import main
from pytest_mlgate.report import plots

GATE = """
task: binary
seed: 0
n_boot: 300
data: {path: holdout.csv, target: y}
candidate: {column: cand}
baseline: {column: base}
metrics:
  roc_auc: {margin: 0.02}
  log_loss: {margin: 0.02}
  accuracy: {min: 0.6}
drift: {reference: reference.csv, columns: [x, z], max_share: 0.6}
"""

MONITOR = """
logs: {path: production.csv, columns: {arm: model_version}}
monitor:
  arm: 1
  days: 3
  reference: profile.json
  quality: {metric: accuracy, min: 0.6}
  kpis:
    conversion: {column: converted, type: proportion, min: 0.01}
"""

# Three releases: a clear gain on today's data, a small one as x starts to drift, a worse model on
# drifted data. Each is (candidate strength, baseline strength, shift of x).
RELEASES = ((2.0, 1.0, 0.0), (1.6, 1.5, 0.2), (0.6, 1.6, 1.2))


def _holdout(seed: int, candidate: float, baseline: float, shift: float, n: int = 800) -> pd.DataFrame:
    frame = binary_frame(n, seed=seed, candidate=candidate, baseline=baseline)
    rng = np.random.default_rng(100 + seed)
    frame["x"] = rng.normal(shift, 1.0, n)
    frame["z"] = rng.normal(0.0, 1.0, n)
    return frame


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real reports: `mlgate gate` three times as the data drifts, `mlgate monitor` twice."""
    work = tmp_path_factory.mktemp("dashboard")
    folder = work / "reports"
    rng = np.random.default_rng(7)
    pd.DataFrame({"x": rng.normal(0, 1, 800), "z": rng.normal(0, 1, 800)}).to_csv(
        work / "reference.csv", index=False
    )
    config = write_config_text(work, GATE)
    for i, (cand, base, shift) in enumerate(RELEASES):
        _holdout(i, cand, base, shift).to_csv(work / "holdout.csv", index=False)
        path = folder / f"gate-{i + 1}.json"
        assert main(["gate", "-c", str(config), "-o", str(path)]) in (0, 1)
        os.utime(path, (1_790_000_000 + 86_400 * i,) * 2)  # a day apart, from 2026-09-21

    make_logs = generators()
    log = make_logs.production(n=3000, seed=8)
    log["converted"] = (np.random.default_rng(0).random(len(log)) < 0.05).astype(int)
    log.to_csv(work / "production.csv", index=False)
    make_logs.reference(n=1500).to_csv(work / "ref.csv", index=False)
    assert main(["profile", str(work / "ref.csv"), "-o", str(work / "profile.json")]) == 0
    monitor = write_config_text(work, MONITOR, name="monitor.yaml")
    for i, now in enumerate(("2026-12-04T00:00:00Z", "2026-12-07T00:00:00Z")):
        path = folder / f"monitor-{i + 1}.json"
        assert main(["monitor", "-c", str(monitor), "--now", now, "-o", str(path)]) in (0, 1)
    return folder


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.slow
def test_the_page_follows_decisions_metrics_kpis_and_drift_release_after_release(
    reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "dashboard.html"
    assert main(["dashboard", str(reports), "-o", str(page)]) == 0
    assert "5 run(s), 0 left out" in capsys.readouterr().out
    html = dom(page)  # as Chromium parsed it

    gates = [_read(reports / f"gate-{i}.json") for i in (1, 2, 3)]
    monitors = [_read(reports / f"monitor-{i}.json") for i in (1, 2)]
    assert [g["decision"] for g in gates] == ["promote", "keep", "reject"]
    assert [m["verdict"] for m in monitors] == ["ok", "retrain"]

    # Oldest first: the gates by their files' times (September), then the monitors by their windows.
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td>(\w+)</td>", html)
    assert [(r[0], r[2]) for r in rows] == [
        ("1", "gate"),
        ("2", "gate"),
        ("3", "gate"),
        ("4", "monitor"),
        ("5", "monitor"),
    ]
    assert rows[0][1].startswith("2026-09-21") and rows[4][1].startswith("2026-12-07")
    assert html.count('class="decision reject"') == 2 and html.count('class="decision promote"') == 1
    for section in ("decisions", "metrics", "kpis", "drift"):
        assert f'id="{section}"' in html
    assert html.count("<svg") >= 7  # decisions, three model metrics, two monitor limits, a KPI, drift

    # Each figure of the tables is the report's: log_loss Δ turned so that up is better.
    loss = next(g for g in gates[2]["checks"] if g["id"] == "compare:log_loss")
    low, high = sorted(-x for x in loss["ci"])
    assert f"[{low:.4g}, {high:.4g}]" in html and f"{-loss['delta']:.4g}" in html
    kpi = next(c for c in monitors[1]["checks"] if c["id"] == "kpi:conversion")
    assert 'id="kpis-kpi-conversion"' in html and f"{kpi['value']:.4g}" in html
    # x drifts more with every release and the last is past the warn level; z does not move.
    psi = [next(c["value"] for c in g["checks"] if c["id"] == "drift:x") for g in gates]
    assert psi[0] < psi[1] < psi[2] and psi[2] > 0.25
    assert all(f"{v:.4g}" in html for v in psi)

    png = screenshot(page, tmp_path / "dashboard.png", height=2600)
    keep = os.environ.get("MLGATE_SCREENSHOTS")
    if keep:
        shutil.copy(png, Path(keep) / "dashboard.png")


def test_a_bad_report_is_named_and_fails_unless_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    config = write_config_text(
        tmp_path, GATE.replace("drift: {reference: reference.csv, columns: [x, z], max_share: 0.6}\n", "")
    )
    for i in (1, 2):
        _holdout(i, 1.5, 1.0, 0.0, n=300).to_csv(tmp_path / "holdout.csv", index=False)
        assert main(["gate", "-c", str(config), "-o", str(folder / f"gate-{i}.json")]) in (0, 1)
    gate = _read(folder / "gate-1.json")
    gate["checks"][0]["ci"] = [0.1]
    (folder / "gate-3.json").write_text(json.dumps(gate), encoding="utf-8")
    (folder / "notes.json").write_text("{not json", encoding="utf-8")
    page = tmp_path / "page.html"
    monkeypatch.setattr(plots, "available", lambda: False)  # the tables say it all here, and fast
    capsys.readouterr()

    assert main(["dashboard", str(folder), "-o", str(page)]) == 3
    err = capsys.readouterr().err
    assert "gate-3.json" in err and "`$.checks[0].ci`" in err and "--skip-bad" in err
    assert "Traceback" not in err and not page.exists()

    assert main(["dashboard", str(folder), "-o", str(page), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert "2 run(s), 2 left out" in captured.out
    assert "gate-3.json" in captured.err and "notes.json" in captured.err
    html = page.read_text(encoding="utf-8")
    assert "2 report(s) left out" in html and "notes.json" in html and "not valid JSON" in html
    assert "Figures need matplotlib" in html and html.count('class="decision ') == 2


def test_usage_and_empty_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard"]) == 2
    assert "needs a report folder or --mlflow" in capsys.readouterr().err
    assert main(["dashboard", str(tmp_path / "nowhere")]) == 3
    assert "does not exist" in capsys.readouterr().err
    assert main(["dashboard", str(tmp_path)]) == 3
    assert "holds no file matching `*.json`" in capsys.readouterr().err
    (tmp_path / "profile.json").write_text('{"columns": {}}', encoding="utf-8")
    assert main(["dashboard", str(tmp_path), "--skip-bad", "-o", str(tmp_path / "p.html")]) == 3
    assert "no readable report" in capsys.readouterr().err


@pytest.mark.slow
def test_the_dashboard_reads_the_reports_the_gate_logged_to_mlflow(
    mlflow_server: Any, trained: dict[str, Any], registered: Any, tmp_path: Path, capsys: Any
) -> None:
    from mlflow_parts import cli, client, make_project

    name = registered("weak", "strong", "bad")
    project = make_project(tmp_path / "project", mlflow_server.url, trained["holdout"], name=name)
    for version, baseline in (("1", None), ("2", "1"), ("3", "2")):
        project.config(
            f"models:/{name}/{version}", None if baseline is None else f"models:/{name}/{baseline}"
        )
        assert cli(project, "gate") in (0, 1)
    c = client(mlflow_server.url)
    stray = tmp_path / "stray" / "notes.json"  # another JSON file beside a report is not a report
    stray.parent.mkdir()
    stray.write_text("{not json", encoding="utf-8")
    c.log_artifact(c.get_model_version(name, "1").run_id, str(stray), artifact_path="mlgate")
    capsys.readouterr()
    page = tmp_path / "mlflow.html"
    args = ["dashboard", "--mlflow", "--model", name, "--tracking-uri", mlflow_server.url, "-o", str(page)]
    assert cli(project, *args) == 0
    assert "3 run(s), 0 left out" in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    cells = re.findall(r'<span class="decision (\w+)">', html)
    assert cells == ["promote", "promote", "reject"]
    assert all(f"`{name}` v{v} (run " in html for v in "123")

    # A report that is not the one the version's tag names (rewritten on the run) is named, not shown.
    run_id = c.get_model_version(name, "3").run_id
    forged = _read(project.root / "mlgate-report.json") | {"decision": "promote"}
    fake = tmp_path / "forged" / "mlgate-report.json"
    fake.parent.mkdir()
    fake.write_text(json.dumps(forged), encoding="utf-8")
    c.log_artifact(run_id, str(fake), artifact_path="mlgate")
    assert cli(project, *args) == 3
    assert f"`{name}` v3 (run {run_id}): no report artifact" in capsys.readouterr().err
