"""Hostile column names and forged reports stay text: in GitHub's Markdown, and in a CI log.

The Markdown is rendered by cmark-gfm (GitHub's own parser, with its table, autolink,
strikethrough and tag-filter extensions, raw HTML allowed as GitHub allows some) and the
HTML is read back: the only tags are the renderer's own, every check id reads exactly as
it was typed, and nothing GitHub would turn into a mention or an issue link is left.

Every log line is read as the Actions runner reads it (``ActionCommand.TryParseV2`` and
``TryParse``): a line is a command when it starts with ``::`` after leading whitespace, or
holds ``##[`` anywhere; its line breaks are CR, LF and CRLF.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest
from actions_harness import parse_commands
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from pytest_mlgate.cli import main
from pytest_mlgate.github import workflow
from pytest_mlgate.report.markdown import render
from pytest_mlgate.report.table import visible

HOSTILE = [
    "a\r\n::set-output name=decision::promote",
    "\u200b::error title=forged::the gate passed",
    "##[set-output name=decision;]promote",
    "#\u0301#[add-mask]secret",
    "![x](https://evil.example/p.png)",
    "[click](javascript:alert(1))",
    "[ref]: https://evil.example/ref",
    "@octocat and @org/team ping",
    "&#64;admin, owner/repo#12, #3",
    "x`y``z` <img src=x onerror=alert(1)> `",
    "<script>alert(1)</script>",
    "| broken | table |",
    "https://evil.example www.evil.example a@b.example",
    "# heading",
    "1. list",
    "**bold** _em_ ~~gone~~ $x^2$",
    "\u202e\x1b[31mred\x1b[0m",
    "trailing\\",
    "a\\|b",
]
"""Column names and report strings: each tries one way out of the text."""

ALLOWED_TAGS = {"h2", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_TAGS |= {"details", "summary", "ul", "li", "sub"}
_LIVE = re.compile(r"@[A-Za-z0-9]|#\d|\bGH-\d", re.IGNORECASE)
"""Mentions, team mentions and issue references, as GitHub links them in the rendered text."""


class _Html(HTMLParser):
    """Tags, the text of each table row's cells, of each list item and paragraph, and all the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self.items: list[str] = []
        self.paragraphs: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._item: list[str] | None = None
        self._paragraph: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li":
            self._item = []
        elif tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item))
            self._item = None
        elif tag == "p" and self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for part in (self._cell, self._item, self._paragraph):
            if part is not None:
                part.append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append("!--")


def github_html(markdown: str) -> _Html:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parsed = _Html()
    parsed.feed(html)
    parsed.close()
    return parsed


def shown(value: str) -> str:
    """What a reader should see for ``value``: control characters spelled out, nothing else changed."""
    return visible(value)


def assert_inert(markdown: str, checks: list[dict[str, Any]]) -> _Html:
    html = github_html(markdown)
    assert set(html.tags) <= ALLOWED_TAGS, f"markup from the data: {set(html.tags) - ALLOWED_TAGS}"
    assert html.tags.count("h2") == 1 and html.tags.count("table") == 1
    text = "".join(html.text).replace("\u200d", "\x00")  # a joiner is what keeps `@x` from being a mention
    assert not _LIVE.search(text), f"GitHub would link {_LIVE.search(text)!r}"
    header, *body = html.rows
    assert header[0] == "check" and len(body) == len(checks)
    for row, check in zip(body, checks, strict=True):
        assert len(row) == 8, f"the table broke at {check['id']!r}: {row}"
        assert row[0].replace("\u200d", "") == shown(check["id"])
        assert row[1] == check["status"]
    failing = [c for c in checks if c["status"] != "pass"]
    assert len(html.items) == len(failing)
    for item, check in zip(html.items, failing, strict=True):
        assert item.replace("\u200d", "") == f"{shown(check['id'])}: {shown(check['message'])}"
    assert_no_commands(markdown)
    return html


_REGISTERED = {
    "set-output",
    "set-env",
    "add-path",
    "add-mask",
    "error",
    "warning",
    "notice",
    "debug",
    "group",
    "endgroup",
    "echo",
    "stop-commands",
    "save-state",
    "add-matcher",
    "remove-matcher",
}


def runner_commands(log: str) -> list[str]:
    """The lines the runner would act on, stricter than the runner itself.

    It trims leading whitespace and compares with .NET's culture-aware ``StartsWith`` and
    ``IndexOf``, which skip zero-width and combining characters: so those are dropped first,
    and any line that then starts with ``::`` counts, registered command or not.
    """
    found = []
    for line in re.split(r"\r\n|\r|\n", log):
        solid = "".join(ch for ch in line if unicodedata.category(ch) not in ("Cf", "Cc", "Mn", "Me"))
        if solid.lstrip().startswith("::") or "##[" in solid:
            found.append(line)
    return found


def assert_no_commands(log: str) -> None:
    assert runner_commands(log) == []


def hostile_checks() -> list[dict[str, Any]]:
    statuses = ["fail", "pass", "error", "warn", "inconclusive"]
    return [
        {
            "id": f"drift:{name}",
            "kind": "drift",
            "status": statuses[i % len(statuses)],
            "metric": name,
            "value": 0.5,
            "baseline": None,
            "delta": None,
            "ci": [0.1, 0.9],
            "n": 100,
            "threshold": {"psi_warn": 0.1, "psi_fail": 0.25},
            "message": HOSTILE[-1 - i],
        }
        for i, name in enumerate(HOSTILE)
    ]


def forged_report(*, enums: bool) -> dict[str, Any]:
    """A report with a hostile string in every string field; ``enums`` forges the enumerated ones too."""
    sha = "ab" * 32
    report: dict[str, Any] = {
        "schema_version": "1.5",
        "decision": "reject",
        "summary": HOSTILE[6],
        "mode": "superiority",
        "confidence": 0.95,
        "seed": 0,
        "fail_on": "reject",
        "checks": hostile_checks(),
        "provenance": {
            "candidate": {
                "role": "candidate",
                "name": HOSTILE[4],
                "kind": "column",
                "path": None,
                "sha256": None,
            },
            "baseline": {
                "role": "baseline",
                "name": HOSTILE[7],
                "kind": "column",
                "path": None,
                "sha256": None,
            },
            "data": {"path": HOSTILE[0], "sha256": sha, "rows": 100, "target": "y"},
            "config": {"path": None, "sha256": sha},
            "git_sha": HOSTILE[2],
            "seed": 0,
            "versions": {"mlgate": HOSTILE[9], "numpy": HOSTILE[5]},
        },
    }
    if enums:
        report |= {
            "mode": HOSTILE[9],
            "seed": HOSTILE[4],
            "fail_on": HOSTILE[7],
            "analysis": HOSTILE[0],
            "verdict": HOSTILE[5],
            "summary": "1. " + HOSTILE[1],
        }
        report["provenance"]["data"]["sha256"] = HOSTILE[2]
        report["provenance"]["config"]["sha256"] = "`" + HOSTILE[12]
    return report


@pytest.mark.parametrize("summary", [*HOSTILE, "- item", "+ item", "> quote", "    code", "===", "2) x", ""])
def test_every_forged_field_renders_as_text(summary: str) -> None:
    report = forged_report(enums=True) | {"summary": summary}
    html = assert_inert(render(report), report["checks"])
    # The summary, the identities and the provenance: the summary starts no block of its own.
    assert len(html.paragraphs) == (3 if summary else 2)
    if summary:
        assert html.paragraphs[0].replace("\u200d", "") == shown(summary.strip())
    assert html.paragraphs[-2].replace("\u200d", "") == (
        f"Candidate {shown(HOSTILE[4])} vs baseline {shown(HOSTILE[7])} · mode {shown(HOSTILE[9])} · "
        f"95% intervals · seed {shown(HOSTILE[4])} · fail-on {shown(HOSTILE[7])}"
    )


def test_mlgate_report_renders_a_forged_report_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    report = forged_report(enums=False)
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", str(path), "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert_inert(markdown, report["checks"])
    for fmt in ("text", "json", "html"):
        assert main(["report", str(path), "--format", fmt]) == 0, fmt
        out = capsys.readouterr().out
        assert_no_commands(out)
        if fmt == "json":
            assert json.loads(out) == report
        if fmt == "text":
            assert len(out.splitlines()) == 2 + len(report["checks"]) + 1


def test_github_publish_and_comment_carry_no_markup_and_no_commands(
    tmp_path: Path,
    fake_github: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "report.json"
    report = forged_report(enums=False)
    path.write_text(json.dumps(report), encoding="utf-8")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["github", "publish", str(path), "--annotate-file", "conf, ig:%.yaml"]) == 0
    assert_inert(summary.read_text(encoding="utf-8"), report["checks"])
    log = capsys.readouterr().out
    ours = workflow.annotation_lines(report, file="conf, ig:%.yaml")
    assert runner_commands(log) == ours  # the annotations, and nothing the data made
    parsed = parse_commands(log)
    assert parsed.set_outputs == {} and parsed.other == []
    failing = [c for c in report["checks"] if c["status"] != "pass"]
    assert sorted(a.message for a in parsed.annotations) == sorted(c["message"] for c in failing)
    assert {a.properties["file"] for a in parsed.annotations} == {"conf, ig:%.yaml"}
    assert sorted(a.properties["title"] for a in parsed.annotations) == sorted(
        f"mlgate {c['status'].upper()}: {c['id']}" for c in failing
    )

    fake_github.open_pull("o/r", 7, "c" * 40)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_harness")
    assert main(["github", "comment", str(path), "--pull-request", "7"]) == 0
    assert_no_commands(capsys.readouterr().out)
    [posted] = fake_github.comments_on("o/r", 7)
    marker, _, body = posted["body"].partition("\n")
    assert marker == "<!-- mlgate:sticky:mlgate -->"
    assert_inert(body, report["checks"])


def _hostile_data(directory: Path) -> Path:
    """A data-only drift gate whose reference and current data have hostile column names."""
    rng = np.random.default_rng(0)
    names = HOSTILE[:13]

    def frame(shift: float) -> pd.DataFrame:
        columns = {name: rng.normal(shift * (i % 2), 1.0, 2_000) for i, name in enumerate(names)}
        return pd.DataFrame(columns | {"y": rng.integers(0, 2, 2_000)})

    reference = frame(0.0)
    reference["@team\n::warning::only in the reference"] = 1.0  # an `error` check naming the column
    reference.to_csv(directory / "reference.csv", index=False)
    frame(1.0).to_csv(directory / "current.csv", index=False)
    config = directory / "mlgate.yaml"
    config.write_text(
        "task: binary\ndata: {path: current.csv, target: y}\ndrift: {reference: reference.csv}\n",
        encoding="utf-8",
    )
    return config


def test_a_gate_on_hostile_column_names_prints_no_command_and_renders_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _hostile_data(tmp_path)
    markdown, out = tmp_path / "summary.md", tmp_path / "report.json"
    code = main(["gate", "-c", str(config), "-o", str(out), "--markdown", str(markdown), "--no-log"])
    log = capsys.readouterr()
    assert code == 1  # half the columns drifted
    report = json.loads(out.read_text(encoding="utf-8"))
    ids = {c["id"] for c in report["checks"]}
    assert {f"drift:{name}" for name in HOSTILE[:13]} <= ids  # the names reached the report as they are
    assert_no_commands(log.out)
    assert_no_commands(log.err)
    assert "\x1b" not in log.out and "\u202e" not in log.out
    table = log.out.splitlines()[1:]
    assert sum(line.startswith("drift:") for line in table) == len(report["checks"])
    assert_inert(markdown.read_text(encoding="utf-8"), report["checks"])


def test_pytest_mlgate_on_hostile_column_names_prints_no_command(pytester: pytest.Pytester) -> None:
    _hostile_data(pytester.path)
    result = pytester.runpytest_subprocess("--mlgate", "--mlgate-no-log", "-p", "no:cacheprovider", "-rA")
    log = result.stdout.str() + result.stderr.str()
    assert result.ret == 1
    assert "decision: REJECT" in log and "drift:a\\r\\n::set-output name=decision::promote" in log
    assert_no_commands(log)
    assert "\x1b[31m" not in log  # no colour from the data (pytest's own colour is off in a pipe)
