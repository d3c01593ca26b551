"""The report's `plots` section and the HTML figures drawn from it (issue 18, item 8).

Curve numbers are checked against scikit-learn; each task's page is rendered from the
JSON alone and read back in headless Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser import dom, screenshot
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from pytest_mlgate.cli import main
from pytest_mlgate.figures import MAX_SLICE_LEVELS, TOP_ROWS
from pytest_mlgate.report import html, plots
from pytest_mlgate.report.validate import read_report
from pytest_mlgate.stats import curves

# --- the numbers, against scikit-learn ---------------------------------------------------------


def _binary(n: int, seed: int, ties: bool = False) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = 1 / (1 + np.exp(-(0.9 * (2 * y - 1) + rng.normal(0, 1.2, n))))
    return y, np.round(score, 2) if ties else score


def _on_curve(
    xs: list[float], ys: list[float], ref_x: np.ndarray[Any, Any], ref_y: np.ndarray[Any, Any]
) -> bool:
    reference = {(round(float(a), 12), round(float(b), 12)) for a, b in zip(ref_x, ref_y, strict=True)}
    return all((round(a, 12), round(b, 12)) in reference for a, b in zip(xs, ys, strict=True))


@pytest.mark.parametrize(("n", "ties"), [(300, False), (20_000, False), (5_000, True)])
def test_roc_and_pr_points_lie_on_sklearns_curves_and_the_areas_match(n: int, ties: bool) -> None:
    y, score = _binary(n, seed=n, ties=ties)
    out = curves.roc_pr(y, score)
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    assert _on_curve(out["roc"]["fpr"], out["roc"]["tpr"], fpr, tpr)
    assert (out["roc"]["fpr"][0], out["roc"]["tpr"][0]) == (0.0, 0.0)
    assert (out["roc"]["fpr"][-1], out["roc"]["tpr"][-1]) == (1.0, 1.0)
    precision, recall, thresholds = precision_recall_curve(y, score, drop_intermediate=False)
    assert _on_curve(out["pr"]["recall"], out["pr"]["precision"], recall, precision)
    # Each kept PR point carries its own threshold: sklearn's precision at that threshold.
    at = dict(zip(thresholds.tolist(), precision[:-1].tolist(), strict=True))
    assert all(
        at[t] == pytest.approx(p, abs=1e-12)
        for t, p in zip(out["pr"]["threshold"], out["pr"]["precision"], strict=True)
    )
    assert out["auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert out["average_precision"] == pytest.approx(average_precision_score(y, score), abs=1e-12)
    assert len(out["roc"]["fpr"]) <= curves.MAX_CURVE_POINTS + 2
    assert len(out["pr"]["recall"]) <= curves.MAX_CURVE_POINTS + 2
    if n > 1000 and not ties:
        # Thinned evenly along the curve: no stretch of it is left without points.
        steps = np.diff(np.asarray(out["roc"]["fpr"]) + np.asarray(out["roc"]["tpr"]))
        assert steps.max() < 3 * 2 / curves.MAX_CURVE_POINTS


def test_one_class_has_no_roc_curve() -> None:
    assert curves.roc_pr(np.ones(50, dtype=np.intp), np.linspace(0, 1, 50)) == {}


def test_calibration_bins_match_sklearn_edges_included() -> None:
    y, score = _binary(3000, seed=3)
    score[:40] = np.repeat([0.1, 0.2, 0.5, 1.0], 10)  # values on the edges go to the lower bin, as in sklearn
    # Every edge (0.3 and 0.7 are not 3 * 0.1 and 7 * 0.1 in floating point) and its neighbours.
    edges = np.linspace(0.0, 1.0, 11)
    score[100:133] = np.concatenate([edges, np.nextafter(edges, 2.0), np.nextafter(edges, -1.0)]).clip(0, 1)
    score[40:50] = 0.0
    out = curves.calibration(y, score)
    observed, predicted = calibration_curve(y, score, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(out["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(out["predicted"], predicted, atol=1e-12)
    assert sum(out["count"]) == y.size


def test_confusion_and_per_class_match_sklearn_with_an_unpredicted_class() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 900)
    pred = np.where(rng.random(900) < 0.7, y, rng.integers(0, 3, 900))  # class 3 predicted only when right
    pred[pred == 3] = 0  # … and then never: its precision is undefined (0, as sklearn's zero_division)
    matrix = curves.confusion(y, pred, 4)
    assert matrix == confusion_matrix(y, pred, labels=range(4)).tolist()
    ours = curves.per_class(matrix)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(ours["precision"], p, atol=1e-12)
    np.testing.assert_allclose(ours["recall"], r, atol=1e-12)
    np.testing.assert_allclose(ours["f1"], f, atol=1e-12)
    assert ours["support"] == s.tolist()


def test_top_differences_are_the_largest_in_order_ties_by_row() -> None:
    diff = np.array([0.5, 0.9, 0.1, 0.9, 0.7, 0.5, 0.5])
    assert curves.top_differences(diff, 4).tolist() == [1, 3, 4, 0]
    big = np.random.default_rng(5).random(100_000)
    assert curves.top_differences(big, 10).tolist() == np.argsort(-big, kind="stable")[:10].tolist()


def test_residual_quantiles_and_histogram_account_for_every_row() -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(0, 1, 2000)
    pred = {"candidate": y + rng.normal(0, 0.5, 2000), "baseline": y + rng.standard_t(2, 2000)}
    out = curves.residuals(y, pred)
    for name, p in pred.items():
        m = out["models"][name]
        np.testing.assert_allclose(m["quantiles"], np.quantile(y - p, out["quantile_levels"]), atol=1e-12)
        assert sum(m["counts"]) + m["below"] + m["above"] == 2000


# --- through the gate: three tasks, the JSON section, the page ------------------------------


def _binary_project(root: Path, n: int = 1500) -> Path:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "y": y,
            "region": rng.choice(["north", "south", "east"], n),
            "age": rng.normal(40, 12, n).round(1),
            "cand": 1 / (1 + np.exp(-(1.3 * (2 * y - 1) + rng.normal(0, 1.2, n)))),
            "base": 1 / (1 + np.exp(-(0.9 * (2 * y - 1) + rng.normal(0, 1.2, n)))),
        }
    )
    return _write(root, frame, "task: binary\ncandidate: {column: cand}\nbaseline: {column: base}\n"
                  "metrics:\n  roc_auc: {margin: 0.01}\n  accuracy: {margin: 0.01}\nslices: [region, age]\n")  # fmt: skip


def _multiclass_project(root: Path, n: int = 1200) -> Path:
    rng = np.random.default_rng(8)
    names = ["bird", "cat", "dog"]
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame({"y": [names[i] for i in y], "region": rng.choice(["a", "b"], n)})
    for role, strength in (("c", 1.8), ("b", 1.2)):
        logits = rng.normal(0, 1, (n, 3))
        logits[np.arange(n), y] += strength
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        for j, name in enumerate(names):
            frame[f"{role}_{name}"] = probs[:, j]
    columns = {r: "{" + ", ".join(f"{c}: {r}_{c}" for c in names) + "}" for r in ("c", "b")}
    return _write(root, frame, f"task: multiclass\ncandidate: {{columns: {columns['c']}}}\n"
                  f"baseline: {{columns: {columns['b']}}}\nmetrics:\n  accuracy: {{margin: 0.01}}\n"
                  "  log_loss: {margin: 0.01}\nslices: [region]\n")  # fmt: skip


def _regression_project(root: Path, n: int = 1200) -> Path:
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, n)
    y = 30 + 10 * x + rng.normal(0, 3, n)
    frame = pd.DataFrame(
        {
            "y": y,
            "store": rng.choice(["a", "b"], n),
            "key": [f"order-{i:05d}" for i in range(n)],
            "cand": 30 + 10 * x + rng.normal(0, 1, n),
            "base": 28 + 8 * x,
        }
    )
    return _write(root, frame, "task: regression\ncandidate: {column: cand}\nbaseline: {column: base}\n"
                  "data: {path: holdout.csv, target: y, id: key}\n"
                  "metrics:\n  rmse: {margin: 0.1}\n  r2: {margin: 0.01}\nslices: [store]\n")  # fmt: skip


def _write(root: Path, frame: pd.DataFrame, config: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "holdout.csv", index=False)
    data = "" if "\ndata:" in config else "data: {path: holdout.csv, target: y}\n"
    (root / "mlgate.yaml").write_text(data + config, encoding="utf-8")
    return root / "mlgate.yaml"


_PROJECTS = {"binary": _binary_project, "multiclass": _multiclass_project, "regression": _regression_project}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], Path, pd.DataFrame]]:
    """Each task's gate run (no HTML here: drawing is the slow part, left to the slow tier)."""
    out = {}
    for task, make in _PROJECTS.items():
        root = tmp_path_factory.mktemp(task)
        config = make(root)
        assert main(["gate", "-c", str(config), "-o", str(root / "r.json"), "--no-log"]) == 0, task
        out[task] = (read_report(root / "r.json"), root / "r.json", pd.read_csv(root / "holdout.csv"))
    return out


@pytest.fixture(scope="module")
def pages(gated: dict[str, Any]) -> dict[str, Path]:
    """Each task's page, drawn by `mlgate report` from the JSON report alone."""
    out = {}
    for task, (_, path, _) in gated.items():
        page = path.with_suffix(".html")
        assert main(["report", str(path), "--format", "html", "-o", str(page)]) == 0
        out[task] = page
    return out


def test_the_binary_section_matches_sklearn_on_the_gates_own_rows(gated: dict[str, Any]) -> None:
    report, _, frame = gated["binary"]
    section = report["plots"]
    version = tuple(int(part) for part in report["schema_version"].split("."))
    assert version >= (1, 6) and section["task"] == "binary" and section["rows"] == len(frame)
    y = frame["y"].to_numpy()
    for role, column in (("candidate", "cand"), ("baseline", "base")):
        m = section["models"][role]
        assert m["auc"] == pytest.approx(roc_auc_score(y, frame[column]), abs=1e-12)
        # The gate's own AUC check and the curve agree.
        check = next(c for c in report["checks"] if c["id"] == "compare:roc_auc")
        assert m["auc"] == pytest.approx(check["value" if role == "candidate" else "baseline"], abs=1e-12)
        assert m["confusion"] == confusion_matrix(y, frame[column] >= 0.5).tolist()
        observed, _ = calibration_curve(y, frame[column], n_bins=10)
        np.testing.assert_allclose(m["calibration"]["observed"], observed, atol=1e-12)
        assert np.asarray(m["scores"]).sum(axis=1).tolist() == np.bincount(y).tolist()


def test_multiclass_confusion_per_class_and_top_label_calibration(gated: dict[str, Any]) -> None:
    report, _, frame = gated["multiclass"]
    section = report["plots"]
    assert section["classes"] == ["bird", "cat", "dog"]
    y = frame["y"].map({"bird": 0, "cat": 1, "dog": 2}).to_numpy()
    probs = frame[["c_bird", "c_cat", "c_dog"]].to_numpy()
    pred = probs.argmax(axis=1)
    m = section["models"]["candidate"]
    assert m["confusion"] == confusion_matrix(y, pred).tolist()
    np.testing.assert_allclose(m["per_class"]["f1"], precision_recall_fscore_support(y, pred)[2], atol=1e-12)
    observed, predicted = calibration_curve(pred == y, probs.max(axis=1), n_bins=10)
    np.testing.assert_allclose(m["calibration"]["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(m["calibration"]["predicted"], predicted, atol=1e-12)
    accuracy = next(c for c in report["checks"] if c["id"] == "compare:accuracy")
    assert np.trace(m["confusion"]) / len(frame) == pytest.approx(accuracy["value"], abs=1e-12)


def test_regression_residuals_sample_and_disagreements(gated: dict[str, Any]) -> None:
    report, _, frame = gated["regression"]
    section = report["plots"]
    residual = frame["y"] - frame["cand"]
    levels = section["residuals"]["quantile_levels"]
    np.testing.assert_allclose(
        section["residuals"]["models"]["candidate"]["quantiles"], np.quantile(residual, levels), atol=1e-9
    )
    sample = section["sample"]
    assert len(sample["row"]) == 400 and sample["row"] == sorted(set(sample["row"]))
    np.testing.assert_allclose(
        sample["actual"], frame["y"].to_numpy()[sample["row"]], rtol=1e-5
    )  # 6 digits kept
    gap = (frame["cand"] - frame["base"]).abs().to_numpy()
    rows = section["disagreements"]
    assert [r["row"] for r in rows] == np.argsort(-gap, kind="stable")[:TOP_ROWS].tolist()
    assert [r["id"] for r in rows] == [frame["key"][r["row"]] for r in rows]  # `data.id` names each row
    assert rows[0]["difference"] == pytest.approx(gap.max()) and rows[0]["values"] == {
        "store": frame["store"][rows[0]["row"]]
    }


def test_slices_hold_each_level_with_an_interval(gated: dict[str, Any]) -> None:
    report, _, frame = gated["binary"]
    rows = report["plots"]["slices"]
    region = [r for r in rows if r["column"] == "region" and r["metric"] == "accuracy"]
    assert sorted(r["level"] for r in region) == ["east", "north", "south"]
    for r in region:
        part = frame[frame["region"] == r["level"]]
        assert r["n"] == len(part)
        assert r["candidate"] == pytest.approx(((part["cand"] >= 0.5) == part["y"]).mean(), abs=1e-12)
        assert r["ci"][0] < r["delta"] < r["ci"][1]
    ages = [r for r in rows if r["column"] == "age" and r["metric"] == "roc_auc"]
    assert 2 <= len(ages) <= MAX_SLICE_LEVELS and sum(r["n"] for r in ages) == len(frame)  # quantile bins


def test_a_missing_slice_column_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _regression_project(tmp_path, n=200)
    config.write_text(
        config.read_text(encoding="utf-8").replace("slices: [store]", "slices: [stor]"), encoding="utf-8"
    )
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "r.json"), "--no-log"]) == 3
    err = capsys.readouterr().err
    assert "`slices`: column `stor` is not in the data file `holdout.csv`; did you mean `store`?" in err
    text = config.read_text(encoding="utf-8").replace("slices: [stor]", "slices: [store]")
    config.write_text(text.replace("id: key", "id: ky"), encoding="utf-8")
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "r.json"), "--no-log"]) == 3
    err = capsys.readouterr().err
    assert "`data.id`: column `ky` is not in the data file `holdout.csv`; did you mean `key`?" in err
    config.write_text(text.replace("slices: [store]", "slices: store"), encoding="utf-8")
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "r.json"), "--no-log"]) == 2
    assert "slices" in capsys.readouterr().err


def test_the_section_stays_small_on_many_rows(tmp_path: Path) -> None:
    config = _binary_project(tmp_path, n=60_000)
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "r.json"), "--no-log"]) == 0
    report = read_report(tmp_path / "r.json")
    assert len(json.dumps(report["plots"])) < 120_000
    assert len(report["plots"]["disagreements"]) == TOP_ROWS


_FIGURES = {
    "binary": [
        "ROC, precision-recall and calibration curves of both models",
        "Confusion matrices of both models side by side",
        "Score distributions by true class, per model",
        "Metrics by slice with intervals",
    ],
    "multiclass": [
        "Confusion matrices of both models side by side",
        "F1 by class for both models",
        "Top-label calibration of both models",
        "Metrics by slice with intervals",
    ],
    "regression": [
        "Predicted against actual and the residuals of both models",
        "Metrics by slice with intervals",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("task", list(_PROJECTS))
def test_each_tasks_page_in_chromium_has_its_figures(pages: dict[str, Path], task: str) -> None:
    page = pages[task]
    source = page.read_text(encoding="utf-8")
    labels = dom(page).split('aria-label="')[1:]
    for figure in _FIGURES[task] + ["Metric deltas with intervals against the margin band"]:
        assert any(label.startswith(figure + '"') for label in labels), figure
    assert "Rows where the models disagree most" in source and "Performance by slice" in source
    assert "http://" not in source.replace("http://www.w3.org/", "") and "https://" not in source
    assert 'href="data:' not in source  # vectors only, no embedded raster


@pytest.mark.slow
def test_the_multiclass_screenshot_draws_both_models(pages: dict[str, Path], tmp_path: Path) -> None:
    from matplotlib.image import imread

    png = imread(screenshot(pages["multiclass"], tmp_path / "page.png", height=2400))
    pixels = (png[..., :3] * 255).round().astype(int).reshape(-1, 3)
    blue = (np.abs(pixels - [9, 105, 218]).sum(axis=1) < 40).sum()
    orange = (np.abs(pixels - [188, 76, 0]).sum(axis=1) < 40).sum()
    assert blue > 2000 and orange > 2000, (blue, orange)  # the F1 bars of each model, at least


def test_each_metric_gets_its_own_axes() -> None:
    checks = [
        {"id": "compare:rmse", "kind": "comparison", "metric": "rmse", "status": "pass", "value": 40.0,
         "baseline": 44.0, "delta": -4.0, "ci": [-6.0, -2.0], "higher_is_better": False, "threshold": {"margin": 1.0}},
        {"id": "compare:r2", "kind": "comparison", "metric": "r2", "status": "pass", "value": 0.81,
         "baseline": 0.8, "delta": 0.01, "ci": [0.004, 0.016], "higher_is_better": True, "threshold": {"margin": 0.0}},
    ]  # fmt: skip
    svg = plots.comparisons(checks)
    assert svg is not None
    # Two panels per metric (values, Δ): the R² delta is not squashed on the RMSE's axis.
    assert len(re.findall(r'id="f[0-9a-f]{8}-axes_[0-9]+"', svg)) == 4


def test_details_are_text_the_full_table_is_folded_and_unknown_kinds_render() -> None:
    checks = [
        {"id": "validation:x", "kind": "validation", "status": "fail", "metric": "contract",
         "message": "`x` has 16% of values outside range [0, None]",
         "details": {"violations": [{"rule": "max_out_of_range_fraction", "observed": 0.16, "limit": 0.0,
                                     "text": "`x` has 16% of values outside range [0, None]", "rows": [11, 13]}]}},
        {"id": "scan:toxicity", "kind": "bias_scan", "status": "warn", "metric": "toxicity", "message": "2 of 50 flagged",
         "details": {"flagged": [{"case": "c-7", "score": 0.91}], "grader": "rules"}},
    ]  # fmt: skip
    page = html.render({"decision": "reject", "summary": "REJECT", "checks": checks, "provenance": {}})
    before_appendix = page.split("<h2>Every figure</h2>")[0]
    assert "{&quot;rule&quot;" not in before_appendix  # raw JSON only in the folded appendix
    assert "rule max_out_of_range_fraction; observed 0.1600; limit 0; rows 11, 13" in page
    assert (
        "<h2>Other checks (bias_scan)</h2>" in page
        and "case c-7; score 0.9100" in page
        and "grader: rules" in page
    )
    checks_section = page.split("<h2>Checks</h2>")[1].split("</section>")[0]
    assert "<details><summary>Every check (2)</summary><table>" in checks_section


def test_a_hand_made_plots_section_that_breaks_a_figure_is_exit_3(
    gated: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads(json.dumps(gated["binary"][0]))
    report["plots"]["slices"] = "region"
    path = tmp_path / "wrong-shape.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", str(path), "--format", "html"]) == 3
    assert '`$.plots.slices`="region" must be a list' in capsys.readouterr().err
    report["plots"]["slices"] = []
    report["plots"]["models"]["candidate"]["roc"] = {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 1.0]}
    path = tmp_path / "uneven.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", str(path), "--format", "html"]) == 3
    assert f"report file `{path}` is malformed: ValueError" in capsys.readouterr().err


# --- large inputs: binned curves ------------------------------------------------------------


@pytest.mark.parametrize(
    ("bins", "prevalence"), [(64, 0.5), (64, 0.03), (1024, 0.2), (curves.CURVE_BINS, 0.5)]
)
def test_binned_curves_are_exact_points_and_their_areas_within_the_stated_bounds(
    bins: int, prevalence: float
) -> None:
    rng = np.random.default_rng(bins + int(prevalence * 100))
    n = 40_000
    y = (rng.random(n) < prevalence).astype(np.intp)
    score = 1 / (1 + np.exp(-(2.0 * y - 1.0 + rng.normal(0, 1.3, n))))
    out = curves.roc_pr(y, score, exact_rows=1_000, bins=bins, max_error=1.0)
    curve = out["curve"]
    assert curve["method"] == "binned" and curve["bins"] == bins
    auc_error = abs(out["auc"] - roc_auc_score(y, score))
    ap_error = abs(out["average_precision"] - average_precision_score(y, score))
    assert auc_error <= curve["auc_error_bound"] + 1e-12
    assert ap_error <= curve["average_precision_error_bound"] + 1e-12
    if bins == 64:
        # Coarse bins: the areas really differ from the exact ones, so the bounds above are tested.
        assert auc_error > 1e-6 and ap_error > 1e-6
    if bins == curves.CURVE_BINS:
        assert max(curve["auc_error_bound"], curve["average_precision_error_bound"]) < curves.MAX_AREA_ERROR
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    assert _on_curve(out["roc"]["fpr"], out["roc"]["tpr"], fpr, tpr)
    # Each threshold is a bin edge, and "score >= threshold" gives exactly the precision and recall drawn.
    for t, p, r in zip(out["pr"]["threshold"], out["pr"]["precision"], out["pr"]["recall"], strict=True):
        chosen = score >= t
        assert p == pytest.approx(y[chosen].mean(), abs=1e-12)
        assert r == pytest.approx(y[chosen].sum() / y.sum(), abs=1e-12)


def test_crowded_scores_fall_back_to_the_exact_curve() -> None:
    y, score = _binary(30_000, seed=5, ties=True)  # 101 distinct scores: every bin's pairs count
    out = curves.roc_pr(y, score, exact_rows=1_000, bins=64)
    assert out["curve"] == {"method": "exact"}
    assert out["auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert out["average_precision"] == pytest.approx(average_precision_score(y, score), abs=1e-12)
    assert curves.roc_pr(*_binary(3_000, seed=6))["curve"] == {"method": "exact"}


@pytest.mark.parametrize("bins", [64, curves.CURVE_BINS])
def test_binned_paired_auc_is_delong_on_binned_scores_and_within_its_bound(bins: int) -> None:
    from pytest_mlgate.stats.delong import delong_paired

    rng = np.random.default_rng(bins)
    n = 30_000
    y = rng.integers(0, 2, n)
    cand = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1, n))))
    base = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + rng.normal(0, 1, n))))
    c, b, se, bound = curves.binned_paired_auc(y, cand, base, bins=bins)
    floor = lambda s: np.minimum(np.floor(s * bins), bins - 1) / bins  # noqa: E731
    reference = delong_paired(y, floor(cand), floor(base))
    assert (c, b, se) == pytest.approx((reference.candidate, reference.baseline, reference.se), abs=1e-12)
    assert abs(c - roc_auc_score(y, cand)) <= bound and abs(b - roc_auc_score(y, base)) <= bound
    exact = delong_paired(y, cand, base)
    assert se == pytest.approx(exact.se, rel=0.05 if bins == 64 else 1e-3)


def test_a_large_slices_auc_uses_every_row_and_says_binned(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlgate import figures
    from pytest_mlgate.config import DataConfig, GateConfig, MetricConfig
    from pytest_mlgate.data import EvalData, Predictions
    from pytest_mlgate.stats.paired import compare
    from pytest_mlgate.stats.rng import stream

    monkeypatch.setattr(figures, "MAX_SLICE_ROWS", 2_000)
    monkeypatch.setattr(figures, "BINNED_SLICE_ROWS", 2_000)
    rng = np.random.default_rng(3)
    n = 12_000
    y = rng.integers(0, 2, n)
    cand = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1, n))))
    base = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + rng.normal(0, 1, n))))
    region = rng.choice(["north", "south"], n)
    config = GateConfig(
        task="binary",
        data=DataConfig(path=Path("x.csv"), target="y"),
        candidate=None,
        baseline=None,
        metrics=(MetricConfig("roc_auc"), MetricConfig("accuracy"), MetricConfig("log_loss")),
        slices=("region",),
    )
    data = EvalData(
        task="binary",
        y=y,
        classes=("0", "1"),
        candidate=Predictions({"role": "candidate"}, labels=(cand >= 0.5).astype(np.intp), scores=cand),
        baseline=Predictions({"role": "baseline"}, labels=(base >= 0.5).astype(np.intp), scores=base),
        data_path=Path("x.csv"),
        data_sha256="",
        frame=pd.DataFrame({"region": region}),
    )
    rows = figures.report_plots(config, data)["slices"]
    assert len(rows) == 6
    for row in rows:
        mine = region == row["level"]
        assert "sampled" not in row
        if row["metric"] != "roc_auc":
            # Cell counts and mean losses are O(n) at any size: every row, the same numbers as the gate's.
            labels = {"accuracy": (cand >= 0.5, base >= 0.5), "log_loss": (cand, base)}[row["metric"]]
            c, b = (
                np.asarray(v, dtype=np.float64 if row["metric"] == "log_loss" else np.intp) for v in labels
            )
            stream_id = f"slice:region={row['level']}:{row['metric']}"
            full = compare(row["metric"], y[mine], c[mine], b[mine], rng=stream(0, stream_id), n_boot=500)
            assert (row["delta"], row["ci"]) == (full.delta, list(full.ci))
            continue
        assert row["binned"]["bins"] == curves.CURVE_BINS
        exact = compare("roc_auc", y[mine], cand[mine], base[mine], rng=stream(0, "x"))
        assert row["delta"] == pytest.approx(exact.delta, abs=2 * row["binned"]["auc_error_bound"] + 1e-12)
        assert row["ci"] == pytest.approx(list(exact.ci), abs=1e-4)


def test_report_plots_false_leaves_the_section_out(tmp_path: Path) -> None:
    config = _binary_project(tmp_path, n=400)
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "a.json"), "--no-log", "--no-plots"]) == 0
    assert "plots" not in read_report(tmp_path / "a.json")
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "report: {plots: false}\n", encoding="utf-8")
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "b.json"), "--no-log"]) == 0
    assert "plots" not in read_report(tmp_path / "b.json")
    config.write_text(text + "report: {plots: true}\n", encoding="utf-8")
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "c.json"), "--no-log"]) == 0
    assert read_report(tmp_path / "c.json")["plots"]["models"]["candidate"]["curve"] == {"method": "exact"}
    config.write_text(text + "report: {plots: nope}\n", encoding="utf-8")
    assert main(["gate", "-c", str(config), "-o", str(tmp_path / "d.json"), "--no-log"]) == 2


def test_pytest_leaves_the_plots_out_with_the_flag_and_its_ini_twin(pytester: pytest.Pytester) -> None:
    _binary_project(pytester.path, n=400)
    pytester.runpytest("--mlgate", "--mlgate-no-log", "--mlgate-no-plots", "--mlgate-report", "b.json")
    assert "plots" not in read_report(pytester.path / "b.json")
    pytester.makeini("[pytest]\nmlgate_no_plots = true\nmlgate_no_log = true\n")
    pytester.runpytest("--mlgate", "--mlgate-report", "c.json")
    assert "plots" not in read_report(pytester.path / "c.json")
