"""Markdown rendering of a JSON report: the job summary and, later, the PR comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .table import HEADERS, rows

_ICON = {"promote": "✅", "keep": "⏸️", "reject": "❌"}


def _cell(text: str) -> str:
    # Reports can come from an untrusted PR job (the workflow_run pattern): keep their text text.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def render(report: Mapping[str, Any]) -> str:
    decision = report["decision"]
    prov = report.get("provenance", {})
    cand = (prov.get("candidate") or {}).get("name", "candidate")
    base = (prov.get("baseline") or {}).get("name", "none")
    analysis = report.get("analysis") or "gate"
    title = "mlgate" if analysis == "gate" else f"mlgate {analysis}"
    word = str(report.get("verdict") or decision)
    out = [
        f"## {_ICON.get(decision, '')} {title}: {_cell(word.upper())}",
        "",
        _cell(report.get("summary", "")),
        "",
        f"Candidate **{_cell(cand)}** vs baseline **{_cell(base)}** · mode `{report['mode']}` · "
        f"{report['confidence']:.0%} intervals · seed `{report['seed']}` · fail-on `{report['fail_on']}`",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows(report["checks"])]
    notes = [c for c in report["checks"] if c["status"] != "pass"]
    if notes:
        out += ["", "<details><summary>Why</summary>", ""]
        out += [f"- `{c['id']}`: {_cell(c['message'])}" for c in notes]
        out += ["", "</details>"]
    data = prov.get("data") or {}
    out += [
        "",
        f"<sub>data sha256 `{str(data.get('sha256', ''))[:12]}` · config sha256 "
        f"`{str((prov.get('config') or {}).get('sha256', ''))[:12]}` · git `{str(prov.get('git_sha') or '—')[:12]}` · "
        f"mlgate {(prov.get('versions') or {}).get('mlgate', '?')}</sub>",
        "",
    ]
    return "\n".join(out)
