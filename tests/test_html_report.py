"""The HTML report: valid, self-contained, rendered in headless Chromium, every JSON figure in it."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser import dom, screenshot

from pytest_mlgate.cli import main
from pytest_mlgate.report import html, plots

REPO = Path(__file__).resolve().parents[1]
VNU = REPO / "tools" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def write_project(root: Path) -> Path:
    """A gate with everything to draw: comparisons, a biased group, a drifted feature, a broken contract."""
    rng = np.random.default_rng(5)
    n = 3000
    y = rng.integers(0, 2, n)
    group = np.where(rng.random(n) < 0.4, "f", "m")
    base = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(0, 1.5, n))))
    cand = 1 / (1 + np.exp(-(0.5 * (2 * y - 1) + rng.normal(0, 1.5, n)) + 1.5 * (group == "f")))
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"y": y, "g": group, "x": rng.normal(1.0, 1, n), "cand": cand, "base": base})
    frame.to_csv(root / "holdout.csv", index=False)
    reference = pd.DataFrame({"x": rng.normal(0, 1, n), "g": np.where(rng.random(n) < 0.4, "f", "m")})
    reference.to_csv(root / "reference.csv", index=False)
    config = root / "mlgate.yaml"
    config.write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        "candidate: {column: cand, name: retrained}\n"
        "baseline: {column: base, name: production}\n"
        "metrics:\n  roc_auc: {margin: 0.01, min: 0.6}\n  accuracy: {margin: 0.01}\n"
        "drift: {reference: reference.csv, columns: [x, g]}\n"
        "validation:\n  columns:\n    x: {dtype: numeric, min: 0}\n"
        "fairness: {sensitive: [g], metrics: [selection_rate]}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    root = tmp_path_factory.mktemp("html")
    config = write_project(root)
    code = main(
        ["gate", "-c", str(config), "-o", str(root / "r.json"), "--html", str(root / "r.html"), "--no-log"]
    )
    assert code == 1  # rejected: that is the story this page tells
    return json.loads((root / "r.json").read_text(encoding="utf-8")), root / "r.html"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def _numbers(value: Any) -> list[float | int]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    return []


def test_the_page_in_chromium_holds_every_figure_of_the_json(rendered: tuple[dict[str, Any], Path]) -> None:
    report, page = rendered
    parser = _Text()
    parser.feed(dom(page))
    text = " ".join(parser.chunks)
    # The `plots` section's curve points are drawn, not printed; every other figure is in the text.
    figures = {k: v for k, v in report.items() if k != "plots"}
    missing = [x for x in _numbers(figures) if json.dumps(x) not in text and str(x) not in text]
    assert missing == []
    for heading in ("Metrics", "Fairness by group", "Drift", "Data validation", "Provenance", "Every figure"):
        assert heading in text
    assert "REJECT" in text and "retrained" in text and report["provenance"]["data"]["sha256"] in text
    figures = [a.get("aria-label") for tag, a in parser.tags if tag == "svg"]
    assert "Metric deltas with intervals against the margin band" in figures
    assert "selection_rate by group, candidate and baseline, with intervals" in figures
    assert "x: reference and current distributions overlaid" in figures  # the drifted feature
    assert not any(label and label.startswith("g:") for label in figures)  # g did not drift


def test_the_screenshot_shows_the_verdict_and_the_plots(
    rendered: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    from matplotlib.image import imread

    png = imread(screenshot(rendered[1], tmp_path / "page.png"))
    assert png.shape[0] == 3000 and png.shape[1] == 1280
    pixels = (png[..., :3] * 255).round().astype(int).reshape(-1, 3)
    colours = {tuple(p) for p in pixels[::7]}
    assert len(colours) > 50, "the page rendered almost blank"
    top = (png[:150, :, :3] * 255).round().astype(int).reshape(-1, 3)
    assert (np.abs(top - [207, 34, 46]).sum(axis=1) < 30).sum() > 500, "no red REJECT badge at the top"
    blue = (np.abs(pixels - [9, 105, 218]).sum(axis=1) < 40).sum()
    assert blue > 300, "the candidate's points and bars (blue) are not drawn"


def test_the_file_is_valid_html_and_fetches_nothing(rendered: tuple[dict[str, Any], Path]) -> None:
    page = rendered[1]
    if not VNU.is_file():
        pytest.fail("the Nu Html Checker is not installed: `make test` installs it (npm ci in tools/node)")
    done = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "gnu", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    source = page.read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(source)
    assert not [t for t, _ in parser.tags if t in ("script", "link", "img", "iframe", "object")]
    fetched = [v for _, a in parser.tags for k, v in a.items() if k in ("src", "href", "xlink:href") and v]
    assert all(v.startswith("#") for v in fetched), fetched


def test_report_command_renders_html_from_the_json_alone(
    rendered: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    report, page = rendered
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", str(path), "--format", "html", "-o", str(tmp_path / "again.html")]) == 0
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == page.read_text(encoding="utf-8")


def test_golden_failures_and_report_text_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = [
        {"id": "regression:case-1", "kind": "regression", "status": "fail", "metric": "golden",
         "message": "expected <approve>, got <decline>", "details": {"violations": [{"case": "case-1"}]}},
        {"id": "regression:case-2", "kind": "regression", "status": "pass", "metric": "golden", "message": "ok"},
    ]  # fmt: skip
    report = {"decision": "reject", "summary": "REJECT: <b>x</b>", "checks": checks, "provenance": {}}
    page = html.render(report)
    assert "1 of 2 golden checks pass." in page
    assert "expected &lt;approve&gt;, got &lt;decline&gt;" in page and "<b>x</b>" not in page
    monkeypatch.setattr(plots, "available", lambda: False)
    assert "Plots need matplotlib" in html.render(report)


def test_pytest_writes_the_html_with_the_flag_and_its_ini_twin(pytester: pytest.Pytester) -> None:
    write_project(pytester.path)
    result = pytester.runpytest("--mlgate", "--mlgate-no-log", "--mlgate-html", "gate.html")
    result.assert_outcomes(failed=5, passed=1)
    assert re.search(r"html: gate\.html", result.stdout.str())
    assert "<title>mlgate report: REJECT</title>" in (pytester.path / "gate.html").read_text(encoding="utf-8")
    pytester.makeini("[pytest]\nmlgate_html = from-ini.html\nmlgate_no_log = true\n")
    pytester.runpytest("--mlgate")
    assert (pytester.path / "from-ini.html").is_file()


def test_an_unwritable_html_path_is_named(pytester: pytest.Pytester) -> None:
    write_project(pytester.path)
    result = pytester.runpytest("--mlgate", "--mlgate-no-log", "--mlgate-html", "no/such/dir/gate.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*HTML report `no/such/dir/gate.html` cannot be written*"])


def test_drawing_leaves_the_users_matplotlib_settings_alone(rendered: tuple[dict[str, Any], Path]) -> None:
    import matplotlib

    with matplotlib.rc_context({"font.size": 13.0, "svg.fonttype": "path"}):  # a user's own settings
        before = dict(matplotlib.rcParams)
        svg = plots.comparisons(rendered[0]["checks"])
        after = dict(matplotlib.rcParams)
    assert svg is not None and "<text" in svg  # drawn under our style (text kept as text) …
    assert after == before  # … and nothing of it leaked out
