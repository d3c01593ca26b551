"""Inputs that look decisive but cannot be measured, and other edges that must fail closed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from pytest_mlgate.cli import main
from pytest_mlgate.config import load_config
from pytest_mlgate.errors import ConfigError
from pytest_mlgate.gate import run_gate
from pytest_mlgate.stats.decision import Verdict, decide
from pytest_mlgate.stats.paired import compare, estimate
from pytest_mlgate.stats.result import Unmeasurable
from pytest_mlgate.stats.rng import stream

RNG = stream(0, "edges")


def test_a_handful_of_disagreements_does_not_promote() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1_000)
    base = np.where(rng.random(1_000) < 0.8, y, 1 - y)
    cand = base.copy()
    wrong = np.flatnonzero(base != y)[:4]
    cand[wrong] = y[wrong]  # the candidate fixes 4 rows, nothing else differs
    result = compare("accuracy", y, cand, base, rng=RNG)
    (d,) = decide([result], [0.0], [0.0])
    assert result.discordant == 4
    assert d.verdict is Verdict.KEEP and "disagree on only 4 rows" in d.reason


def test_mcnemar_must_confirm_an_accuracy_gain() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    base = np.where(rng.random(400) < 0.8, y, 1 - y)
    cand = base.copy()
    fix = np.flatnonzero(base != y)[:14]
    cand[fix] = y[fix]
    spoil = np.flatnonzero(base == y)[:5]
    cand[spoil] = 1 - y[spoil]  # 14 vs 5 discordant: McNemar p ≈ 0.064
    result = compare("accuracy", y, cand, base, rng=RNG)
    (d,) = decide([result], [0.0], [0.0])
    assert result.pvalue is not None and result.pvalue > 0.05
    assert d.verdict is Verdict.KEEP


def test_too_few_rows_never_decide() -> None:
    y = np.array([0, 1, 0, 1, 1])
    result = compare("accuracy", y, y.copy(), 1 - y, rng=RNG)
    (d,) = decide([result], [0.0], [0.0])
    assert d.verdict is Verdict.KEEP and d.underpowered and "only 5 rows" in d.reason


def test_auc_with_one_positive_is_not_measurable() -> None:
    y = np.zeros(500, dtype=int)
    y[0] = 1
    scores = np.linspace(0, 1, 500)
    with pytest.raises(Unmeasurable, match="got 1 and 499"):
        compare("roc_auc", y, scores, scores[::-1].copy(), rng=RNG)


def test_multiclass_auc_floor_is_computed() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 2_000)
    logits = rng.normal(0, 1, (2_000, 3))
    logits[np.arange(2_000), y] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    est = estimate("roc_auc_ovr", y, proba, rng=RNG, n_classes=3)
    assert est.value == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))
    assert est.ci.low < est.value < est.ci.high


def test_macro_average_ignores_classes_nobody_uses_like_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 600)
    cand, base = rng.integers(0, 3, 600), rng.integers(0, 3, 600)
    result = compare("f1_macro", y, cand, base, rng=RNG, n_classes=4)  # class 3 is never seen
    assert result.candidate == pytest.approx(f1_score(y, cand, average="macro"))


def _binary_csv(tmp_path: Path, n: int = 2_000) -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, n)
    score = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1, n))))
    pd.DataFrame({"y": y, "s": score, "b": score[::-1]}).to_csv(tmp_path / "d.csv", index=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlgate.yaml"
    path.write_text(text)
    return path


def test_a_metric_returning_nan_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    _binary_csv(tmp_path)
    (tmp_path / "nanmetric.py").write_text("def score(y, p):\n    return float('nan')\n")
    cfg = load_config(
        _write(
            tmp_path,
            "task: binary\nn_boot: 200\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\n"
            "baseline: {column: b}\nmetrics: {mine: {callable: 'nanmetric:score'}}\n",
        )
    )
    report = run_gate(cfg)
    assert report.checks[0].status == "error" and "undefined" in report.checks[0].message
    assert report.decision == "reject"
    assert report.failed("never")  # errors fail closed whatever fail_on says


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics: {accuracy: {margin: 0.5}, accuracy: {}}\n", "given twice"),
        ("metrics: {roc_auc: {min: 0.9, max: 0.8}}\n", "must be <= `max`"),
        ("labels: [a, b, a]\nmetrics: {accuracy: {min: 0.5}}\n", "must not repeat"),
    ],
)
def test_config_contradictions_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\n" + text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_metrics_without_baseline_or_limits_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\nmetrics: {accuracy: {}}\n",
    )
    with pytest.raises(ConfigError, match="nothing to judge"):
        load_config(path)


def test_a_failed_run_removes_the_previous_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _binary_csv(tmp_path)
    config = _write(
        tmp_path,
        "task: binary\nn_boot: 200\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\n"
        "baseline: {column: b}\nmetrics: {roc_auc: {margin: 0.01}}\n",
    )
    assert main(["gate", "-c", str(config)]) in (0, 1)
    assert (tmp_path / "mlgate-report.json").exists()
    (tmp_path / "d.csv").unlink()
    assert main(["gate", "-c", str(config)]) == 3
    assert not (tmp_path / "mlgate-report.json").exists()
    capsys.readouterr()


def test_repeated_csv_column_names_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.csv").write_text("y,s,s\n1,0.9,0.8\n0,0.1,0.3\n")
    config = _write(
        tmp_path,
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\nmetrics: {accuracy: {min: 0.5}}\n",
    )
    assert main(["gate", "-c", str(config)]) == 3
    assert "repeats column name(s) ['s']" in capsys.readouterr().err


def test_hard_labels_in_a_probability_column_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"y": [0, 1] * 50, "s": [0, 1] * 50}).to_csv(tmp_path / "d.csv", index=False)
    config = _write(
        tmp_path,
        "task: binary\ndata: {path: d.csv, target: y}\ncandidate: {column: s}\nmetrics: {accuracy: {min: 0.5}}\n",
    )
    assert main(["gate", "-c", str(config)]) == 3
    assert "look like labels" in capsys.readouterr().err


def test_malformed_report_is_a_data_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.json").write_text(
        json.dumps({"schema_version": "1.1", "decision": "keep", "checks": [{}]})
    )
    assert main(["report", str(tmp_path / "r.json")]) == 3
    assert "malformed" in capsys.readouterr().err


def test_mcnemar_does_not_block_non_inferiority_at_a_nonzero_margin() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 20_000)
    base = np.where(rng.random(20_000) < 0.85, y, 1 - y)
    cand = base.copy()
    right, wrong = np.flatnonzero(base == y), np.flatnonzero(base != y)
    swap = np.concatenate([rng.choice(right, 200, replace=False), rng.choice(wrong, 200, replace=False)])
    cand[swap] = 1 - cand[swap]  # 200 rows fixed, 200 spoiled: no difference at all
    result = compare("accuracy", y, cand, base, rng=RNG)
    (d,) = decide([result], [0.01], [0.0], "non-inferiority")
    assert result.pvalue is not None and result.pvalue > 0.05
    assert d.verdict is Verdict.PROMOTE
