"""The gate end to end for each task and source kind, through `load_config` + `run_gate`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score, roc_auc_score

from pytest_mlgate.config import load_config
from pytest_mlgate.errors import ConfigError
from pytest_mlgate.gate import run_gate

SCHEMA = json.loads((Path(__file__).parents[1] / "pytest_mlgate/schemas/report.schema.json").read_text())


def _checks(report: object) -> dict[str, object]:
    data = report.to_dict()  # type: ignore[attr-defined]
    jsonschema.validate(data, SCHEMA)
    return {c["id"]: c for c in data["checks"]}


def test_regression_gate_with_all_regression_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=8_000)
    frame = pd.DataFrame(
        {"y": y, "cand": y + rng.normal(0, 0.5, y.size), "base": y + rng.normal(0, 0.8, y.size)}
    )
    frame.to_parquet(tmp_path / "holdout.parquet")
    (tmp_path / "mlgate.yaml").write_text(
        "task: regression\nn_boot: 300\ndata: {path: holdout.parquet, target: y}\n"
        "candidate: {column: cand}\nbaseline: {column: base}\n"
        "metrics: {mae: {margin: 0.01}, mse: {margin: 0.01}, rmse: {margin: 0.01}, r2: {margin: 0.01, min: 0.5}}\n"
    )
    report = run_gate(load_config(tmp_path / "mlgate.yaml"))
    checks = _checks(report)
    assert report.decision == "promote"
    assert checks["compare:r2"]["value"] == pytest.approx(r2_score(y, frame["cand"]))  # type: ignore[index]
    assert checks["compare:mse"]["delta"] < 0  # type: ignore[index,operator]
    assert checks["threshold:r2"]["status"] == "pass"  # type: ignore[index]


def test_multiclass_gate_with_probability_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    classes = ["setosa", "versicolor", "virginica"]
    y = rng.integers(0, 3, 6_000)

    def proba(strength: float) -> np.ndarray:
        logits = rng.normal(0, 1, (y.size, 3))
        logits[np.arange(y.size), y] += strength
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    worse, better = proba(0.5), proba(2.0)
    frame = pd.DataFrame({"species": np.array(classes)[y]})
    for i, c in enumerate(classes):
        frame[f"cand_{c}"], frame[f"base_{c}"] = worse[:, i], better[:, i]
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    cand = {c: f"cand_{c}" for c in classes}
    base = {c: f"base_{c}" for c in classes}
    (tmp_path / "mlgate.yaml").write_text(
        "task: multiclass\nn_boot: 300\ndata: {path: holdout.csv, target: species}\n"
        f"candidate: {{columns: {json.dumps(cand)}}}\nbaseline: {{columns: {json.dumps(base)}}}\n"
        "metrics: {accuracy: {margin: 0.01}, f1_macro: {margin: 0.01}, roc_auc_ovr: {margin: 0.01}, log_loss: {}}\n"
    )
    report = run_gate(load_config(tmp_path / "mlgate.yaml"))
    checks = _checks(report)
    assert report.decision == "reject"
    assert {c["status"] for c in checks.values()} == {"fail"}  # type: ignore[index]
    expected = roc_auc_score(y, worse, multi_class="ovr")
    assert checks["compare:roc_auc_ovr"]["value"] == pytest.approx(expected)  # type: ignore[index]


def test_skops_models_and_pyproject_config_and_user_metric(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4_000, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 1, 4_000) > 0).astype(int)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(label=y)
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    features = frame[["a", "b", "c"]]
    sio.dump(LogisticRegression().fit(features, y), tmp_path / "cand.skops")
    # Production knows only `a`: same pipeline shape, the other weights zeroed.
    base = LogisticRegression().fit(features, y)
    base.coef_[0, 1:] = 0.0
    sio.dump(base, tmp_path / "base.skops")
    (tmp_path / "metrics_mod.py").write_text(
        "import numpy as np\n\ndef balanced(y, p):\n    return float(np.mean([np.mean(p[y == k] == k) for k in (0, 1)]))\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mlgate]\ntask = "binary"\nn_boot = 300\n'
        '[tool.mlgate.data]\npath = "holdout.csv"\ntarget = "label"\nfeatures = ["a", "b", "c"]\n'
        '[tool.mlgate.candidate]\nmodel = "cand.skops"\n[tool.mlgate.baseline]\nmodel = "base.skops"\n'
        "[tool.mlgate.metrics.roc_auc]\nmargin = 0.01\n"
        '[tool.mlgate.metrics.balanced]\ncallable = "metrics_mod:balanced"\nmargin = 0.01\n'
    )
    report = run_gate(load_config(tmp_path / "pyproject.toml"))
    checks = _checks(report)
    assert report.decision == "promote"
    assert checks["compare:balanced"]["method"] == "paired row bootstrap"  # type: ignore[index]
    assert report.provenance["candidate"]["sha256"]


def test_limits_on_user_metrics_are_rejected_at_config_time(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: x.csv, target: y}\ncandidate: {column: c}\n"
        "metrics: {mine: {callable: 'mod:fn', min: 0.5}}\n"
    )
    with pytest.raises(ConfigError, match=r"`metrics\.mine\.min`"):
        load_config(tmp_path / "mlgate.yaml")


def test_first_run_without_baseline_judges_limits_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 3_000)
    score = 1 / (1 + np.exp(-(2 * (2 * y - 1) + rng.normal(0, 1, y.size))))
    pd.DataFrame({"y": y, "s": score}).to_csv(tmp_path / "h.csv", index=False)
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: h.csv, target: y}\ncandidate: {column: s}\nmetrics: {roc_auc: {min: 0.8}}\n"
    )
    report = run_gate(load_config(tmp_path / "mlgate.yaml"))
    assert report.decision == "promote"
    assert "no baseline" in report.summary
    assert [c.id for c in report.checks] == ["threshold:roc_auc"]


def test_onnx_candidate_against_a_skops_baseline(tmp_path: Path) -> None:
    from skl2onnx import to_onnx

    rng = np.random.default_rng(5)
    x = pd.DataFrame({"a": rng.normal(size=3_000), "b": rng.normal(size=3_000)})
    y = np.where(x["a"] + rng.normal(0, 1, 3_000) > 0, "yes", "no")
    x.assign(label=y).to_csv(tmp_path / "holdout.csv", index=False)
    strong = LogisticRegression().fit(x, y)
    (tmp_path / "cand.onnx").write_bytes(to_onnx(strong, x.to_numpy(np.float32)[:1]).SerializeToString())
    weak = LogisticRegression().fit(x[["b"]].assign(a=0.0)[["a", "b"]], y)
    sio.dump(weak, tmp_path / "base.skops")
    (tmp_path / "mlgate.yaml").write_text(
        "task: binary\npositive_label: 'yes'\nn_boot: 300\ndata: {path: holdout.csv, target: label, features: [a, b]}\n"
        "candidate: {model: cand.onnx}\nbaseline: {model: base.skops}\nmetrics: {roc_auc: {margin: 0.01}}\n"
    )
    report = run_gate(load_config(tmp_path / "mlgate.yaml"))
    (check,) = report.checks
    expected = roc_auc_score(y == "yes", strong.predict_proba(x)[:, 1])
    assert check.value == pytest.approx(expected, abs=1e-5)  # float32 inside ONNX
    assert report.decision == "promote"
