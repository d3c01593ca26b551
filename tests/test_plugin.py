"""The pytest plugin as a black box, through pytester.

Runs are in-process (pytest.main in this interpreter, with its own plugin manager and a snapshot of
sys.modules): about a second each instead of three to five for a fresh interpreter, which only the
test of what the plugin imports needs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from gate_data import write_config, write_holdout

SCHEMA = json.loads((Path(__file__).parents[1] / "pytest_mlgate/schemas/report.schema.json").read_text())


def _gate(pytester: pytest.Pytester, candidate: str, *args: str, n: int = 20_000) -> pytest.RunResult:
    write_holdout(pytester.path, n=n)
    write_config(pytester.path, candidate)
    return pytester.runpytest_inprocess("--mlgate", "-rs", "-p", "no:cacheprovider", *args)


def _report(pytester: pytest.Pytester) -> dict[str, object]:
    report = json.loads((pytester.path / "mlgate-report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    return report


def test_better_candidate_promotes(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "better")
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*decision: PROMOTE*"])
    assert _report(pytester)["decision"] == "promote"


def test_same_model_twice_keeps(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "same")
    result.assert_outcomes(skipped=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*decision: KEEP*", "*inconclusive*"])
    assert _report(pytester)["decision"] == "keep"


def test_worse_candidate_rejects_and_fails_the_session(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "worse")
    result.assert_outcomes(failed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*compare:roc_auc: FAIL*REJECT*", "*decision: REJECT*"])
    assert "Traceback" not in result.stdout.str()
    assert _report(pytester)["decision"] == "reject"


def test_two_hundred_rows_keep_as_underpowered_with_the_rows_needed(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "slightly", n=200)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*decision: KEEP: UNDERPOWERED*need n ≈*"])
    report = _report(pytester)
    assert report["decision"] == "keep"
    underpowered = [c for c in report["checks"] if c["underpowered"]]  # type: ignore[index,union-attr]
    assert underpowered and all(c["n_needed"] > 200 for c in underpowered)


def test_fail_on_keep_fails_an_inconclusive_gate(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "same", "--mlgate-fail-on", "keep")
    result.assert_outcomes(failed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_fail_on_never_reports_a_rejection_without_failing(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "worse", "--mlgate-fail-on", "never")
    result.assert_outcomes(xfailed=3)
    assert result.ret == 0
    assert _report(pytester)["decision"] == "reject"


def test_ini_twins_enable_the_gate_and_set_seed_and_report(pytester: pytest.Pytester) -> None:
    write_holdout(pytester.path, n=5_000)
    write_config(pytester.path, "better")
    pytester.makeini("[pytest]\nmlgate = true\nmlgate_seed = 7\nmlgate_report = out/gate.json\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["mlgate: seed=7*"])
    report = json.loads((pytester.path / "out/gate.json").read_text())
    assert report["seed"] == 7


def test_checks_are_junit_items_with_their_figures_as_properties(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "better", "--junitxml=junit.xml")
    assert result.ret == 0
    cases = ET.parse(pytester.path / "junit.xml").getroot().findall(".//testcase")
    names = {c.get("name") for c in cases}
    assert names == {"compare:accuracy", "compare:roc_auc", "compare:log_loss"}
    props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
    assert {"mlgate.status", "mlgate.delta", "mlgate.n", "mlgate.verdict"} <= set(props)


def test_same_seed_gives_a_byte_identical_report(pytester: pytest.Pytester) -> None:
    _gate(pytester, "better")
    first = (pytester.path / "mlgate-report.json").read_bytes()
    pytester.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider")
    assert (pytester.path / "mlgate-report.json").read_bytes() == first


def test_plugin_is_inert_without_the_flag(pytester: pytest.Pytester) -> None:
    write_holdout(pytester.path, n=100)
    write_config(pytester.path, "better")
    pytester.makepyfile(
        """
        import sys

        def test_nothing_heavy_was_imported():
            heavy = {"numpy", "scipy", "pandas", "mlflow", "yaml"} & set(sys.modules)
            assert not heavy, heavy
        """
    )
    result = pytester.runpytest_subprocess(  # a fresh interpreter: what it imports is the test
        "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("mlgate: seed=*")
    result.stdout.no_fnmatch_line("*= mlgate =*")
    assert not (pytester.path / "mlgate-report.json").exists()


def test_options_and_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    for flag in ("--mlgate ", "--mlgate-config", "--mlgate-report", "--mlgate-seed", "--mlgate-fail-on"):
        result.stdout.fnmatch_lines([f"*{flag}*"])
    for ini in ("mlgate (bool)", "mlgate_config (string)", "mlgate_report (string)", "mlgate_seed (string)"):
        result.stdout.fnmatch_lines([f"*{ini}*"])
    markers = pytester.runpytest_inprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.mlgate:*"])


def test_assertion_helper_failure_has_verdict_table_and_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np

        def test_gain(mlgate):
            rng = np.random.default_rng(0)
            y = rng.integers(0, 2, 300)
            base = np.where(rng.random(300) < 0.8, y, 1 - y)
            cand = np.where(rng.random(300) < 0.82, y, 1 - y)
            mlgate.assert_better("accuracy", y, cand, base)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "not shown better than the baseline" in out
    result.stdout.fnmatch_lines(["*metric*candidate*baseline*Δ*95% CI*n*", "*accuracy*300*", "*Fix: *"])
    assert "def _assert_comparison" not in out  # __tracebackhide__ keeps our frames out


def test_report_fixture_needs_the_flag(pytester: pytest.Pytester) -> None:
    write_holdout(pytester.path, n=5_000)
    write_config(pytester.path, "better")
    pytester.makepyfile(
        """
        def test_decision(mlgate_report):
            assert mlgate_report.decision == "promote"
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(skipped=1)
    pytester.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_deselected_failing_checks_are_named_because_they_still_decide(pytester: pytest.Pytester) -> None:
    result = _gate(pytester, "worse", "-k", "not roc_auc")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*note: the decision counts checks whose test items were deselected: compare:roc_auc*"]
    )
