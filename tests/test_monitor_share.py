"""The monitor's drifted-column share (issue 15, item 6): configurable, and warnings do not retrain."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_logs import generators

from pytest_mlgate.cli import main
from pytest_mlgate.errors import ConfigError
from pytest_mlgate.live import run_analysis
from pytest_mlgate.live.config import load_live_config

make_logs = generators()
NOW = "2026-12-05T00:00:00Z"  # before the example's own drift on day 5
MONITOR = """
logs: {path: log.csv, columns: {arm: model_version}}
monitor:
  days: 7
  reference: profile.json
  columns: [income, age]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("share")
    make_logs.reference().to_csv(root / "reference.csv", index=False)
    assert main(["profile", str(root / "reference.csv"), "-o", str(root / "profile.json")]) == 0
    return root


def monitor(folder: Path, income_factor: float, extra: str = "") -> dict[str, tuple[str, float | None]]:
    log = make_logs.production(n=6000, seed=11)
    log["income"] = (log["income"] * income_factor).round(2)
    log.to_csv(folder / "log.csv", index=False)
    (folder / "live.yaml").write_text(MONITOR + extra, encoding="utf-8")
    report = run_analysis("monitor", load_live_config(folder / "live.yaml"), now=NOW)
    return {"verdict": (report.verdict, None), **{c.id: (c.status, c.value) for c in report.checks}}


def test_one_warning_in_two_columns_no_longer_retrains(folder: Path) -> None:
    # Income up 18%: PSI ≈ 0.15, material and significant, so a warning, not a failure.
    seen = monitor(folder, 1.18)
    assert seen["drift:income"][0] == "warn" and seen["drift:age"][0] == "pass"
    assert seen["drift:share"] == ("pass", 0.0)
    assert seen["verdict"][0] == "ok"


def test_warnings_can_be_counted_and_the_share_is_configurable(folder: Path) -> None:
    seen = monitor(folder, 1.18, "  share_counts: warn\n")
    assert seen["drift:share"] == ("fail", 0.5) and seen["verdict"][0] == "retrain"
    seen = monitor(folder, 1.18, "  share_counts: warn\n  max_share: 0.5\n")
    assert seen["drift:share"] == ("pass", 0.5) and seen["verdict"][0] == "ok"


def test_a_failed_column_still_retrains(folder: Path) -> None:
    seen = monitor(folder, 1.8)  # the example's own drift: PSI far above psi_fail
    assert seen["drift:income"][0] == "fail" and seen["drift:share"] == ("fail", 0.5)
    assert seen["verdict"][0] == "retrain"


@pytest.mark.parametrize(
    ("extra", "message"),
    [("  max_share: 1.5\n", "max_share"), ("  share_counts: all\n", "share_counts")],
)
def test_bad_share_keys_are_refused_by_name(folder: Path, extra: str, message: str) -> None:
    (folder / "bad.yaml").write_text(MONITOR + extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_live_config(folder / "bad.yaml")
