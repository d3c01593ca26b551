"""Model outputs in the LLM report sections are text, never markup: Markdown escaping and the HTML page in Chromium."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import dom
from test_llm_gate import write_llm

from pytest_mlgate.cli import main

HOSTILE = '<img src=x onerror="alert(1)"> | @octocat [click](https://evil.invalid) <script>alert(2)</script>'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("llm-hostile")
    write_llm(directory, cand=0.6, base=0.95)
    rows = [json.loads(line) for line in (directory / "cand.jsonl").read_text().splitlines()]
    rows = [{**r, "output": HOSTILE} if r["output"] == "Probably 7" else r for r in rows]
    (directory / "cand.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["gate", "-c", str(directory / "mlgate.yaml")]) == 1
    return directory / "mlgate-report.json"


def test_markdown_quotes_outputs_without_markup(
    hostile_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["report", str(hostile_report), "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out

    flipped = markdown[markdown.index("LLM cases that flipped") :]
    row = next(line for line in flipped.splitlines() if "alert(1)" in line)
    assert "<img" not in row and "<script>" not in row and "&lt;img" in row
    assert row.count(" | ") == 5  # the output's own `|` is escaped: the table keeps its 6 cells
    assert "@octocat" not in row and "](https" not in row


@pytest.mark.slow
def test_html_page_shows_outputs_as_text_in_chromium(hostile_report: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert main(["report", str(hostile_report), "--format", "html", "-o", str(page)]) == 0

    parsed = _Elements()
    parsed.feed(dom(page))

    assert "img" not in parsed.tags and "script" not in parsed.tags
    text = "".join(parsed.text)
    assert "Cases the candidate got worse on" in text
    assert '<img src=x onerror="alert(1)">' in text  # shown to the reader, as text
