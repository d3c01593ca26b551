"""Markdown rendering of a JSON report: the job summary and the sticky PR comment.

Every value taken from the data or from the report (check ids, column names,
messages, the mode, the seed, versions, model names) goes through ``text`` or
``code``. A report can come from an untrusted pull-request job (the
``workflow_run`` pattern), and a column name comes from whoever made the data:
neither may add markup, links, images, raw HTML or mentions to GitHub's page,
break the table, or print a line that the Actions runner would take for a
workflow command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .table import HEADERS, rows, visible

_ICON = {"promote": "✅", "pass": "✅", "keep": "⏸️", "reject": "❌"}
_ZWJ = "\u200d"
"""After ``@`` (and ``#`` before a digit): GitHub's mention and issue-reference filters need them contiguous."""
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Markup wherever it stands: escapes, code spans, emphasis, strikethrough, table cells, math,
# headings (and `##[`, the runner's old command prefix, which `#` escaped can never spell).
_ALWAYS = frozenset("\\`*~|$#")
_LIST_MARKER = re.compile(r"(\d{1,9})([.)])")
_PLAIN_CODE = re.compile(r"[\w .,:;+=/()\[\]{}%'\"!?^-]+")


def text(value: Any) -> str:
    """Inline Markdown that reads exactly as ``value``, with control characters shown as ``\\n``."""
    src = visible(str(value))
    out: list[str] = []
    for i, ch in enumerate(src):
        before = src[i - 1] if i else ""
        after = src[i + 1] if i + 1 < len(src) else ""
        if ch in _ENTITY:
            out.append(_ENTITY[ch])
        elif ch in _ALWAYS:
            out.append("\\" + ch + (_ZWJ if ch == "#" and after.isdigit() else ""))
        elif ch == "@":
            out.append("@" + _ZWJ)
        elif (
            (ch == "_" and not (before.isalnum() and after.isalnum()))  # intraword `_` is no emphasis
            or (ch == "(" and before == "]")  # `[x](url)` and `![x](url)`: no link, no image
            or (ch == "." and before in "wW")  # `www.` autolinks
            or (ch == ":" and after == "/")  # `https://` autolinks
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _lead(md: str) -> str:
    """Markdown that starts a paragraph or a list item: no heading, list, quote, break or link definition."""
    md = md.lstrip(" ")
    marker = _LIST_MARKER.match(md)
    if marker:
        return marker.group(1) + "\\" + md[marker.end(1) :]
    if md[:1].isascii() and not md[:1].isalnum() and md[:1] not in ("\\", "&", "`", ""):
        return "\\" + md
    return md


def code(value: Any) -> str:
    """A code span when ``value`` is plain; otherwise ``text``, as no escape works inside a code span."""
    raw = str(value)
    if _PLAIN_CODE.fullmatch(raw) and raw.strip() == raw:
        return f"`{raw}`"
    return text(raw) or "—"


def render(report: Mapping[str, Any]) -> str:
    decision = report["decision"]
    prov = report.get("provenance", {})
    cand = (prov.get("candidate") or {}).get("name", "candidate")
    base = (prov.get("baseline") or {}).get("name", "none")
    analysis = report.get("analysis") or "gate"
    title = "mlgate" if analysis == "gate" else f"mlgate {text(analysis)}"
    word = str(report.get("verdict") or decision)
    out = [
        f"## {_ICON.get(decision, '')} {title}: {text(word.upper())}",
        "",
        _lead(text(report.get("summary", ""))),
        "",
        f"Candidate **{text(cand)}** vs baseline **{text(base)}** · mode {code(report['mode'])} · "
        f"{report['confidence']:.0%} intervals · seed {code(report['seed'])} · "
        f"fail-on {code(report['fail_on'])}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    out += ["| " + " | ".join(text(c) for c in row) + " |" for row in rows(report["checks"])]
    notes = [c for c in report["checks"] if c["status"] != "pass"]
    if notes:
        out += ["", "<details><summary>Why</summary>", ""]
        out += [f"- {_lead(code(c['id']))}: {text(c['message'])}" for c in notes]
        out += ["", "</details>"]
    if any(c.get("kind") == "llm" for c in report["checks"]):
        from ..llm.report import markdown_lines

        out += markdown_lines(report["checks"], text)
    data = prov.get("data") or {}
    out += [
        "",
        f"<sub>data sha256 {code(str(data.get('sha256', ''))[:12])} · config sha256 "
        f"{code(str((prov.get('config') or {}).get('sha256', ''))[:12])} · "
        f"git {code(str(prov.get('git_sha') or '—')[:12])} · "
        f"mlgate {text((prov.get('versions') or {}).get('mlgate', '?'))}</sub>",
        "",
    ]
    lineage = _lineage(prov)
    if lineage:
        out += [f"<sub>{' · '.join(lineage)}</sub>", ""]
    return "\n".join(out)


def _lineage(prov: Mapping[str, Any]) -> list[str]:
    """Which tracked data the gate read (DVC) and which data each MLflow model was trained on."""
    parts = []
    for record in prov.get("dvc") or []:
        remote = f", remote {text(record.get('remote'))}" if record.get("remote") else ""
        parts.append(
            f"DVC {text(record.get('role'))} md5 {code(str(record.get('md5') or '?')[:12])} "
            f"({text(record.get('status'))}{remote})"
        )
    for role in ("candidate", "baseline"):
        for dataset in (prov.get(role) or {}).get("datasets") or []:
            parts.append(
                f"{role} trained on {text(dataset.get('name'))} "
                f"{code(str(dataset.get('digest') or '?')[:12])} ({text(dataset.get('context') or 'input')})"
            )
    return parts
