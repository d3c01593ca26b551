"""Canary, shadow, A/B and monitoring from prediction logs with known effects (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from live_logs import example_project, generators

from pytest_mlgate.cli import main
from pytest_mlgate.errors import ConfigError
from pytest_mlgate.live import run_analysis
from pytest_mlgate.live.config import load_live_config

make_logs = generators()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = example_project(tmp_path_factory.mktemp("live"))
    assert main(["profile", str(root / "logs" / "reference.csv"), "-o", str(root / "profile.json")]) == 0
    return root


def run(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    report = project / f"out-{args[0]}.json"
    code = main([*args, "-o", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def live_config(tmp_path: Path, text: str, log: pd.DataFrame | None = None, name: str = "log.csv") -> Path:
    if log is not None:
        log.to_csv(tmp_path / name, index=False)
    path = tmp_path / "live.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CANARY = """
logs: {path: log.csv, columns: {arm: model_version}}
canary:
  control: 1
  canary: 2
  min_requests: 1000
  metrics:
    error_rate: {max_increase: 0.01, critical: true}
    latency_p95: {max_relative_increase: 0.2}
"""


# --- the three commands on the example logs -------------------------------------------------


def test_a_canary_with_three_times_the_errors_rolls_back(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run(project, "canary", "-c", str(project / "canary.yaml"))
    assert code == 1
    assert (report["analysis"], report["verdict"], report["decision"]) == ("canary", "rollback", "reject")
    error = next(c for c in report["checks"] if c["id"] == "canary:error_rate")
    assert error["status"] == "fail" and error["ci"][0] > 0.01  # the whole interval is beyond the allowance
    assert report["summary"].startswith("ROLLBACK: critical metric error_rate failed")
    assert "verdict: ROLLBACK" in capsys.readouterr().out


def test_an_equal_canary_promotes(project: Path) -> None:
    code, report = run(
        project,
        "canary",
        "-c",
        str(project / "canary.yaml"),
        "--logs",
        str(project / "logs" / "canary-good.csv"),
    )
    assert code == 0
    assert report["verdict"] == "promote" and report["details"]["score"] == 100
    assert {c["status"] for c in report["checks"]} == {"pass"}


def test_a_shadow_with_two_percent_disagreement_reports_it_and_names_the_rows(project: Path) -> None:
    code, report = run(project, "shadow", "-c", str(project / "shadow.yaml"))
    assert code == 0 and report["verdict"] == "promote"
    agreement = next(c for c in report["checks"] if c["id"] == "shadow:agreement")
    assert agreement["details"]["disagreements"] == 100  # exactly the 2% of 5,000 the generator flipped
    log = pd.read_csv(project / "logs" / "shadow.csv")
    wide = log.pivot(index="request_id", columns="model_version", values="prediction")
    flipped = set(wide.index[wide[1] != wide[2]])
    named = [row["request_id"] for row in agreement["details"]["top_disagreements"]]
    assert len(named) == 10 and set(named) <= flipped
    assert named[0] in agreement["message"] and "100 of 5,000 requests (2.00%)" in agreement["message"]
    assert {c["id"] for c in report["checks"]} >= {"shadow:accuracy", "shadow:roc_auc"}


def test_an_ab_test_with_a_lift_promotes_and_a_broken_split_is_invalid(project: Path) -> None:
    code, report = run(project, "abtest", "-c", str(project / "abtest.yaml"))
    assert code == 0 and report["verdict"] == "promote"
    conversion = next(c for c in report["checks"] if c["id"] == "abtest:conversion")
    assert conversion["ci"][0] > 0.005  # the pre-registered minimum effect
    code, report = run(
        project,
        "abtest",
        "-c",
        str(project / "abtest.yaml"),
        "--logs",
        str(project / "logs" / "abtest-srm.csv"),
    )
    assert code == 1 and (report["verdict"], report["decision"]) == ("invalid", "reject")
    srm = report["checks"][0]
    assert srm["id"] == "abtest:sample_ratio" and srm["status"] == "fail" and srm["pvalue"] < 1e-6
    assert "SAMPLE RATIO MISMATCH" in report["summary"]


def test_monitor_asks_for_retraining_after_drift_and_is_quiet_before(project: Path) -> None:
    code, report = run(
        project, "monitor", "-c", str(project / "monitor.yaml"), "--now", "2026-12-07T00:00:00Z"
    )
    assert code == 1 and report["verdict"] == "retrain"
    assert next(c for c in report["checks"] if c["id"] == "drift:income")["status"] == "fail"
    code, report = run(
        project, "monitor", "-c", str(project / "monitor.yaml"), "--now", "2026-12-03T00:00:00Z"
    )
    assert (code, report["verdict"]) == (0, "ok"), report["summary"]
    quality = report["checks"][0]
    assert quality["id"] == "monitor:quality:accuracy" and quality["details"]["labelled"] > 1000


def test_monitor_waits_for_labels_and_says_so(project: Path) -> None:
    # The last day's labels have not arrived: a window within that day has none, so quality cannot pass.
    config = project / "quality-only.yaml"
    text = (project / "monitor.yaml").read_text(encoding="utf-8").replace("reference: profile.json", "")
    config.write_text(text, encoding="utf-8")
    code, report = run(
        project, "monitor", "-c", str(config), "--now", "2026-12-07T00:00:00Z", "--days", "0.9"
    )
    assert code == 1 and report["verdict"] == "alert"
    assert report["checks"][0]["status"] == "inconclusive"
    assert "waiting for labels: 0 of" in report["checks"][0]["message"]


def test_each_command_writes_json_markdown_and_html(project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(main_output(["schema", "report"]))
    for command, config in (("canary", "canary.yaml"), ("shadow", "shadow.yaml"), ("abtest", "abtest.yaml")):
        md, page = project / f"{command}.md", project / f"{command}.html"
        _code, report = run(
            project, command, "-c", str(project / config), "--markdown", str(md), "--html", str(page)
        )
        jsonschema.validate(report, schema)
        word = report["verdict"].upper()
        assert md.read_text(encoding="utf-8").startswith(
            "## "
        ) and f"mlgate {command}: {word}" in md.read_text(encoding="utf-8")
        assert f"mlgate {command} <span" in page.read_text(encoding="utf-8")
        assert report["provenance"]["candidate"]["kind"] == "arm"


def main_output(argv: list[str]) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv) == 0
    return buffer.getvalue()


# --- statistical claims, by simulation ------------------------------------------------------


def _canary_verdicts(tmp_path: Path, seeds: range, canary_error: float, n: int = 6000) -> list[str]:
    from pytest_mlgate.live import canary

    config = load_live_config(live_config(tmp_path, CANARY))
    verdicts = []
    for seed in seeds:
        log = make_logs.canary(n=n, canary_error=canary_error, control_error=0.02, seed=seed)
        log["timestamp"] = pd.to_datetime(log["timestamp"], utc=True)
        log = log.rename(columns={"model_version": "arm"})
        window = canary.Window("window", None, None, {"1": canary.ArmTotals(), "2": canary.ArmTotals()})
        for arm, totals in window.arms.items():
            totals.add(log[log["arm"] == arm], ("error", "latency_ms"))
        assert config.canary is not None
        verdicts.append(
            canary._judge_window(config, config.canary, window, ("error", "latency_ms"), False).verdict
        )
    return verdicts


@pytest.mark.slow
def test_an_equal_canary_never_rolls_back_in_at_least_95_percent_of_seeds(tmp_path: Path) -> None:
    verdicts = _canary_verdicts(tmp_path, range(100), canary_error=0.02)
    # The issue asks for at most 5% rollbacks; the true rate is far lower (a rollback needs the
    # whole interval past +1 point of errors, or past +20% at p95), so 100 fixed seeds show none.
    assert verdicts.count("rollback") / len(verdicts) <= 0.05, verdicts
    assert set(verdicts) <= {"promote", "continue"}
    assert verdicts.count("promote") > 75  # and it is not just stuck on continue


@pytest.mark.slow
def test_a_canary_with_three_times_the_errors_rolls_back_at_every_seed(tmp_path: Path) -> None:
    assert set(_canary_verdicts(tmp_path, range(30), canary_error=0.06)) == {"rollback"}


@pytest.mark.slow
def test_the_sample_ratio_check_rarely_cries_wolf_and_catches_a_51_49_split() -> None:
    from pytest_mlgate.stats.twosample import sample_ratio

    rng = np.random.default_rng(11)
    false_alarms = sum(
        sample_ratio(rng.multinomial(20_000, [0.5, 0.5]), [1, 1]).pvalue < 0.001 for _ in range(1000)
    )
    caught = sum(
        sample_ratio(rng.multinomial(60_000, [0.51, 0.49]), [1, 1]).pvalue < 0.001 for _ in range(200)
    )
    assert false_alarms <= 5  # expected 1 at alpha 0.001
    assert caught >= 170  # a 51/49 split over 60,000 units: power about 0.95


# --- steps, streaming, peeking --------------------------------------------------------------


def test_successive_steps_each_get_their_window_and_a_bad_step_rolls_back(tmp_path: Path) -> None:
    # Steps judge with always-valid intervals by default, each at a third of alpha: an equal first
    # step needs more traffic than one fixed look would to show the error rate within +1 point.
    first = make_logs.canary(n=40_000, canary_error=0.02, seed=21)
    second = make_logs.canary(n=4000, canary_error=0.08, seed=22)
    second["timestamp"] = (pd.to_datetime(second["timestamp"]) + pd.Timedelta(hours=6)).dt.strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    second["request_id"] = "b" + second["request_id"]
    text = (
        CANARY
        + "  steps:\n    '5%': {until: '2026-11-30T06:00:00Z'}\n    '25%': {until: '2026-11-30T12:00:00Z'}\n    '100%': {until: '2026-11-30T18:00:00Z'}\n"
    )
    path = live_config(tmp_path, text, pd.concat([first, second]))
    report = run_analysis("canary", load_live_config(path))
    steps = report.details["steps"]
    assert [(s["name"], s["verdict"]) for s in steps] == [("5%", "promote"), ("25%", "rollback")]
    assert report.details["steps_without_data"] == ["100%"]
    assert report.verdict == "rollback" and report.summary.startswith("ROLLBACK: step 25%")
    only_first = live_config(tmp_path, text, first)
    report = run_analysis("canary", load_live_config(only_first))
    assert report.verdict == "promote" and "advance to 25%" in report.summary


def test_below_the_minimum_data_a_canary_continues(tmp_path: Path) -> None:
    path = live_config(tmp_path, CANARY, make_logs.canary(n=600, canary_error=0.02, seed=3))
    report = run_analysis("canary", load_live_config(path))
    assert report.verdict == "continue" and "minimum-data rule" in report.summary


def test_a_parquet_log_streamed_in_small_chunks_gives_the_same_report(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    log = make_logs.canary(n=5000, seed=9)
    csv = run_analysis("canary", load_live_config(live_config(tmp_path, CANARY, log)))
    log.to_parquet(tmp_path / "log.parquet", index=False)
    text = CANARY.replace("path: log.csv", "path: log.parquet, chunk_rows: 777")
    parquet = run_analysis("canary", load_live_config(live_config(tmp_path, text)))
    assert [c.to_dict() for c in csv.checks] == [c.to_dict() for c in parquet.checks]


def test_an_early_look_at_an_ab_test_warns_and_continues(tmp_path: Path) -> None:
    log = make_logs.abtest(users=4000, seed=5)
    text = """
logs: {path: log.csv, columns: {unit: user_id}}
abtest:
  control: A
  treatment: B
  planned_units: 15000
  metrics:
    conversion: {column: converted, type: proportion, min_effect: 0.005}
"""
    report = run_analysis("abtest", load_live_config(live_config(tmp_path, text, log)))
    peek = next(c for c in report.checks if c.id == "abtest:planned_sample")
    assert peek.status == "warn" and "PEEKING" in peek.message
    assert report.verdict == "continue" and report.decision == "keep"


# --- bad logs and bad configs ---------------------------------------------------------------


def _bad(tmp_path: Path, log: pd.DataFrame, capsys: pytest.CaptureFixture[str], text: str = CANARY) -> str:
    path = live_config(tmp_path, text, log)
    assert main(["canary", "-c", str(path)]) == 3
    return capsys.readouterr().err


def test_a_missing_column_is_named_with_its_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.canary(n=200).rename(columns={"model_version": "model_versoin"})
    err = _bad(tmp_path, log, capsys)
    assert "no column `model_version` (`logs.columns.arm`)" in err and "did you mean `model_versoin`" in err


def test_an_unknown_arm_is_refused_not_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_logs.canary(n=200)
    log.loc[17, "model_version"] = "3"
    err = _bad(tmp_path, log, capsys)
    assert "row 18" in err and "arm '3' is not one this analysis knows ('1', '2')" in err


def test_timestamps_out_of_order_or_unparseable_name_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.canary(n=200)
    log.loc[[40, 41], "timestamp"] = log.loc[[41, 40], "timestamp"].to_numpy()
    err = _bad(tmp_path, log, capsys)
    assert "row 42" in err and "timestamps go backwards" in err and "`logs.order: any`" in err
    log = make_logs.canary(n=200)
    log.loc[9, "timestamp"] = "yesterday"
    err = _bad(tmp_path, log, capsys)
    assert "row 10" in err and "'yesterday' is not an ISO 8601 timestamp" in err


def test_out_of_order_is_allowed_when_the_config_says_so(tmp_path: Path) -> None:
    log = make_logs.canary(n=3000)
    in_order = run_analysis("canary", load_live_config(live_config(tmp_path, CANARY, log)))
    text = CANARY.replace("path: log.csv,", "path: log.csv, order: any,")
    shuffled = log.sample(frac=1.0, random_state=0)
    report = run_analysis("canary", load_live_config(live_config(tmp_path, text, shuffled)))
    # The same requests in another order: the same sums, so the same figures and verdict.
    assert [c.to_dict() for c in report.checks] == [c.to_dict() for c in in_order.checks]
    assert report.verdict == in_order.verdict == "rollback"


def test_duplicate_request_ids_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_logs.canary(n=200)
    log.loc[120, "request_id"] = log.loc[3, "request_id"]
    err = _bad(tmp_path, log, capsys)
    assert "1 request id(s)" in err and f"{log.loc[3, 'request_id']} (row 4)" in err


def test_an_empty_window_says_what_the_log_spans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = live_config(tmp_path, CANARY, make_logs.canary(n=200))
    assert main(["canary", "-c", str(path), "--since", "2027-01-01"]) == 3
    err = capsys.readouterr().err
    assert "no requests in the window" in err and "the log spans 2026-11-30" in err


def test_a_bad_error_flag_and_a_negative_latency_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.canary(n=200)
    log["error"] = log["error"].astype(object)
    log.loc[5, "error"] = "maybe"
    assert "row 6, column `error`: 'maybe' is not an error flag" in _bad(tmp_path, log, capsys)
    log = make_logs.canary(n=200)
    log.loc[7, "latency_ms"] = -3.0
    assert "row 8, column `latency_ms`: -3.0 is negative" in _bad(tmp_path, log, capsys)


def test_unreadable_and_empty_logs_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = live_config(tmp_path, CANARY)
    (tmp_path / "log.csv").write_text("", encoding="utf-8")
    assert main(["canary", "-c", str(path)]) == 3
    assert "is empty" in capsys.readouterr().err
    (tmp_path / "log.csv").write_text("timestamp,model_version,request_id\n", encoding="utf-8")
    assert main(["canary", "-c", str(path)]) == 3
    assert "has no rows" in capsys.readouterr().err
    (tmp_path / "log.csv").unlink()
    assert main(["canary", "-c", str(path)]) == 3
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("logs: {path: log.csv}\n", "`canary` section is missing"),
        (CANARY.replace("error_rate:", "eror_rate:"), "`canary.metrics.eror_rate` is not a canary metric"),
        (CANARY.replace("max_increase: 0.01", "max_decrease: 0.01"), "`max_decrease` does not apply to it"),
        (CANARY.replace("canary: 2", "canary: 1"), "`canary.canary`=1 must differ from `canary.control`"),
        (CANARY.replace("min_requests: 1000", "min_requests: -1"), "`canary.min_requests`=-1 must be >= 1"),
        (
            "logs: {path: log.csv, columns: {arms: x}}\ncanary: {control: 1, canary: 2}\n",
            "`logs.columns.arms` is not a log column",
        ),
        ("logs: [1, 2]\n", "`logs`=[1, 2] must be an object"),
    ],
)
def test_bad_configs_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = live_config(tmp_path, text, make_logs.canary(n=100))
    assert main(["canary", "-c", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_an_ab_unit_seen_in_both_arms_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_logs.abtest(users=300, seed=1)
    crossed = log.loc[log["arm"] == "B", "user_id"].iloc[0]
    log.loc[log.index[log["arm"] == "A"][0], "user_id"] = crossed  # a B user shows up in A
    text = "logs: {path: log.csv, columns: {unit: user_id}}\nabtest:\n  control: A\n  treatment: B\n  planned_units: 100\n  metrics:\n    conversion: {column: converted, type: proportion, min_effect: 0.01}\n"
    path = live_config(tmp_path, text, log)
    assert main(["abtest", "-c", str(path)]) == 3
    err = capsys.readouterr().err
    assert "1 unit(s) in `user_id` appear in both arms" in err and crossed in err


def test_the_live_config_has_a_json_schema() -> None:
    schema = json.loads(main_output(["schema", "live"]))
    assert schema["title"] == "mlgate-live.yaml" and {"logs", "canary", "shadow", "abtest", "monitor"} <= set(
        schema["properties"]
    )
    with pytest.raises(ConfigError, match="must be a finite number"):
        from pytest_mlgate.config import Key, validate_mapping

        validate_mapping({"x": "a"}, {"x": Key("number", "x")}, {}, "here")


def test_live_reports_render_in_chromium_with_the_verdict_and_the_named_requests(project: Path) -> None:
    from browser import dom, screenshot

    page = project / "shadow-browser.html"
    _, report = run(project, "shadow", "-c", str(project / "shadow.yaml"), "--html", str(page))
    text = dom(page)
    assert "mlgate shadow" in text and "PROMOTE" in text
    for row in report["checks"][1]["details"]["top_disagreements"]:
        assert row["request_id"] in text
    steps_page = project / "canary-browser.html"
    run(project, "canary", "-c", str(project / "canary.yaml"), "--html", str(steps_page))
    text = dom(steps_page)
    assert "mlgate canary" in text and "ROLLBACK" in text and "critical metric error_rate failed" in text
    png = screenshot(steps_page, project / "canary.png", height=1600)
    from matplotlib.image import imread

    pixels = imread(png)[:200]  # the header: the red badge of a rejecting verdict
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 200


def test_json_lines_logs_read_like_csv(tmp_path: Path) -> None:
    log = make_logs.canary(n=3000, seed=12)
    csv = run_analysis("canary", load_live_config(live_config(tmp_path, CANARY, log)))
    log.to_json(tmp_path / "log.jsonl", orient="records", lines=True)
    text = CANARY.replace("path: log.csv", "path: log.jsonl, chunk_rows: 1000")
    lines = run_analysis("canary", load_live_config(live_config(tmp_path, text)))
    assert [c.to_dict() for c in csv.checks] == [c.to_dict() for c in lines.checks]


def test_monitor_judges_kpis_and_alerts_on_an_operational_failure(tmp_path: Path) -> None:
    log = make_logs.production(n=4000, seed=8)
    log["converted"] = (np.random.default_rng(0).random(len(log)) < 0.02).astype(int)
    text = """
logs: {path: log.csv, columns: {arm: model_version}}
monitor:
  days: 7
  error_rate: {max: 0.001}
  kpis:
    conversion: {column: converted, type: proportion, min: 0.05}
  retrain_on: [drift]
"""
    report = run_analysis(
        "monitor", load_live_config(live_config(tmp_path, text, log)), now="2026-12-07T00:00:00Z"
    )
    statuses = {c.id: c.status for c in report.checks}
    assert statuses == {"monitor:error_rate": "fail", "kpi:conversion": "fail"}
    assert report.verdict == "alert"  # neither is a kind the config retrains on


def test_the_arms_can_come_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = make_logs.canary(n=3000, canary_error=0.02, seed=4)
    log["model_version"] = log["model_version"].map({"1": "7", "2": "8"})
    path = live_config(tmp_path, CANARY, log)
    assert main(["canary", "-c", str(path)]) == 3  # the config's arms 1 and 2 are not in this log
    assert "is not one this analysis knows ('1', '2')" in capsys.readouterr().err
    assert (
        main(["canary", "-c", str(path), "--control", "7", "--canary", "8", "-o", str(tmp_path / "r.json")])
        == 0
    )
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["provenance"]["candidate"]["version"] == "8"
    assert main(["canary", "-c", str(path), "--control", "8", "--canary", "8"]) == 2
    assert "`--canary`='8' must differ" in capsys.readouterr().err


# --- edges found in review ------------------------------------------------------------------


def test_an_empty_request_id_or_error_flag_is_refused_not_read_as_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.canary(n=200)
    log.loc[11, "request_id"] = None
    assert "row 12, column `request_id`: the request id is empty" in _bad(tmp_path, log, capsys)
    log = make_logs.canary(n=200)
    log["error"] = log["error"].astype(float)
    log.loc[4, "error"] = np.nan
    assert "row 5, column `error`: the error flag is empty" in _bad(tmp_path, log, capsys)


def test_numeric_request_ids_stay_one_id_across_chunks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.canary(n=400, canary_error=0.02)
    log["request_id"] = np.arange(400)
    log.loc[350, "request_id"] = 7  # the same id as row 8, in another chunk
    text = CANARY.replace("path: log.csv,", "path: log.csv, chunk_rows: 100,")
    err = _bad(tmp_path, log, capsys, text)
    assert "appear more than once in the log, e.g. 7 (row 8), 7 (row 351)" in err


def test_json_lines_rows_may_leave_a_key_out(tmp_path: Path) -> None:
    log = make_logs.canary(n=3000, canary_error=0.02, seed=13)
    records = log.to_dict(orient="records")
    for row in records[2000:]:
        del row["latency_ms"]  # a later chunk without the key at all
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    text = CANARY.replace("path: log.csv", "path: log.jsonl, chunk_rows: 1000")
    report = run_analysis("canary", load_live_config(live_config(tmp_path, text)))
    latency = next(c for c in report.checks if c.id == "canary:latency_p95")
    assert latency.details["latency_missing"] == {
        "canary": int((log["model_version"][2000:] == "2").sum()),
        "control": int((log["model_version"][2000:] == "1").sum()),
    }


def test_steps_start_at_since_and_unjudged_traffic_after_the_last_step_is_said(tmp_path: Path) -> None:
    log = make_logs.canary(n=6000, canary_error=0.02, seed=14)  # six hours from midnight
    text = (
        CANARY
        + "  steps:\n    '5%': {until: 2026-11-30T02:00:00Z}\n    '25%': {until: 2026-11-30T04:00:00Z}\n"
    )
    config = load_live_config(live_config(tmp_path, text, log))  # unquoted times: YAML datetimes
    report = run_analysis("canary", config, since="2026-11-30T03:00:00Z")
    assert [s["name"] for s in report.details["steps"]] == ["25%"]
    assert report.details["requests_after_last_step"] > 1500
    assert "requests after the last step's end (2026-11-30T04:00:00+00:00) were not judged" in report.summary


def test_monitor_with_no_latencies_is_inconclusive_and_an_outage_alerts_before_retraining(
    tmp_path: Path,
) -> None:
    log = make_logs.production(n=3000, seed=9)
    log["latency_ms"] = np.nan
    log.loc[::3, "error"] = 1  # an outage: a third of the requests fail
    log["prediction"] = 1 - log["prediction"]  # and the model is wrong
    text = """
logs: {path: log.csv, columns: {arm: model_version}}
monitor:
  days: 7
  quality: {metric: accuracy, min: 0.7}
  error_rate: {max: 0.02}
  latency_p95: {max: 150}
"""
    report = run_analysis(
        "monitor", load_live_config(live_config(tmp_path, text, log)), now="2026-12-07T00:00:00Z"
    )
    statuses = {c.id: c.status for c in report.checks}
    assert statuses["monitor:latency_p95"] == "inconclusive"
    assert statuses["monitor:quality:accuracy"] == "fail" and statuses["monitor:error_rate"] == "fail"
    assert report.verdict == "alert"
    assert (
        "monitor:quality:accuracy" in report.summary
        and "retraining would not fix monitor:error_rate" in report.summary
    )


def test_a_shadow_that_logs_only_scores_is_judged_on_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_logs.shadow(n=1000, seed=5)
    log.loc[log["model_version"] == "2", "prediction"] = np.nan
    text = "logs: {path: log.csv, columns: {arm: model_version}}\nshadow:\n  production: 1\n  shadow: 2\n  metrics: {accuracy: {margin: 0.05}}\n"
    report = run_analysis("shadow", load_live_config(live_config(tmp_path, text, log)))
    assert report.checks[1].details["disagreements"] == 20
    log.loc[log["model_version"] == "2", "score"] = np.nan  # now the shadow's labels are unknown
    log.loc[(log["model_version"] == "2").to_numpy().nonzero()[0][1:], "score"] = 0.3
    path = live_config(tmp_path, text, log)
    assert main(["shadow", "-c", str(path)]) == 3
    assert "the shadow model's label for request" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CANARY.replace(
                "  metrics:\n    error_rate: {max_increase: 0.01, critical: true}\n    latency_p95: {max_relative_increase: 0.2}\n",
                "  metrics: {}\n",
            ),
            "`canary.metrics` is empty",
        ),
        (
            "logs: {path: log.csv}\nabtest:\n  control: A\n  treatment: B\n  planned_units: 10\n  metrics:\n    c: {column: converted, type: proportion, min_effect: 0.01, aggregate: sum}\n",
            "must be max or none for a proportion",
        ),
    ],
)
def test_configs_that_would_mislead_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_live_config(live_config(tmp_path, text))


def test_a_regression_shadow_is_judged_on_its_differences_only_against_a_limit(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 2000
    value = rng.normal(100, 10, n)
    stamps = make_logs._stamps(rng, n, 6)
    rows = [
        pd.DataFrame(
            {
                "timestamp": stamps,
                "model_version": arm,
                "request_id": [f"q{i}" for i in range(n)],
                "prediction": v,
            }
        )
        for arm, v in (("1", value), ("2", value + rng.normal(0, 0.5, n)))
    ]
    log = pd.concat(rows).sort_values("timestamp", kind="stable")
    text = "logs: {path: log.csv, columns: {arm: model_version}}\nshadow: {production: 1, shadow: 2, task: regression}\n"
    report = run_analysis("shadow", load_live_config(live_config(tmp_path, text, log)))
    difference = report.checks[1]
    assert (
        difference.status == "inconclusive" and "set `shadow.max_mean_abs_difference`" in difference.message
    )
    assert report.verdict == "keep"  # nothing said how far apart is too far: never a silent pass
    limited = text.replace("task: regression}", "task: regression, max_mean_abs_difference: 1.0}")
    report = run_analysis("shadow", load_live_config(live_config(tmp_path, limited, log)))
    assert report.checks[1].status == "pass" and report.checks[1].ci.high < 1.0  # mean |N(0, 0.5)| ≈ 0.4
    strict = text.replace("task: regression}", "task: regression, max_mean_abs_difference: 0.1}")
    report = run_analysis("shadow", load_live_config(live_config(tmp_path, strict, log)))
    assert report.checks[1].status == "fail" and report.verdict == "reject"
