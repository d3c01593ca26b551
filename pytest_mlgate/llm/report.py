"""The LLM checks' extra sections in the Markdown summary and the HTML page.

Outputs and inputs are a model's or a user's text: every value goes through the
caller's escaping (``text`` for Markdown, ``e`` for HTML), never around it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Escape = Callable[[Any], str]
_SHOWN = 10
"""Flipped cases quoted per direction in the Markdown summary (the JSON keeps more)."""


def _rate(x: Any) -> str:
    return "—" if x is None else f"{float(x):.0%}"


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{float(x):.4g}"


def _interval(ci: Any) -> str:
    if not ci:
        return "—"
    return f"[{_fmt(ci[0])}, {'∞' if ci[1] is None else _fmt(ci[1])}]"


def _pass_rate(checks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for check in checks:
        if check.get("kind") == "llm" and check.get("id") == "llm:pass_rate":
            return check.get("details") or {}
    for check in checks:
        if check.get("kind") == "llm" and check.get("id") == "llm:pass_rate_floor":
            return check.get("details") or {}
    return {}


def _leaks(checks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    for check in checks:
        if check.get("kind") == "llm" and check.get("id") == "llm:injection":
            return list((check.get("details") or {}).get("leaks") or [])
    return []


def markdown_lines(checks: Sequence[Mapping[str, Any]], text: Escape) -> list[str]:
    """Flipped cases, per-tag pass rates and injection leaks, as collapsed Markdown blocks."""
    details = _pass_rate(checks)
    out: list[str] = []
    flipped = details.get("flipped") or {}
    worse, better = flipped.get("regressed") or [], flipped.get("improved") or []
    if worse or better:
        n_worse, n_better = len(flipped.get("regressed_ids") or []), len(flipped.get("improved_ids") or [])
        out += [
            "",
            f"<details><summary>LLM cases that flipped: {n_worse} worse, {n_better} better</summary>",
            "",
            "| case | tags | baseline | candidate | candidate output | baseline output |",
            "|---|---|---|---|---|---|",
        ]
        for row in worse[:_SHOWN] + better[:_SHOWN]:
            cells = [
                text(row.get("id")),
                text(", ".join(row.get("tags") or [])),
                _rate(row.get("baseline")),
                _rate(row.get("candidate")),
                text(row.get("candidate_output", "")),
                text(row.get("baseline_output", "")),
            ]
            out.append("| " + " | ".join(cells) + " |")
        out += ["", "</details>"]
    tags = details.get("tags") or []
    if tags:
        out += [
            "",
            "<details><summary>LLM pass rate by tag (shown, not judged)</summary>",
            "",
            "| tag | cases | baseline | candidate | Δ interval |",
            "|---|---|---|---|---|",
        ]
        for row in tags:
            ci = row.get("ci")
            shown = "—" if not ci or None in ci else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"
            out.append(
                f"| {text(row.get('tag'))} | {row.get('n')} | {_rate(row.get('baseline'))} | "
                f"{_rate(row.get('candidate'))} | {shown} |"
            )
        out += ["", "</details>"]
    leaks = _leaks(checks)
    if leaks:
        out += ["", "<details><summary>Injection leaks</summary>", ""]
        out += [f"- {text(leak.get('id'))}: {text(leak.get('output', ''))}" for leak in leaks[:_SHOWN]]
        out += ["", "</details>"]
    return out


def html_section(
    checks: Sequence[Mapping[str, Any]],
    table: Callable[[Sequence[str], Sequence[Sequence[str]]], str],
    e: Escape,
) -> str:
    """The LLM section of the HTML page, or "" when the gate had no LLM checks."""
    if not any(c.get("kind") == "llm" for c in checks):
        return ""
    details = _pass_rate(checks)
    parts = ["<section><h2>LLM golden set</h2>"]
    check_rows = [
        [
            e(c.get("id")),
            e(c.get("status")),
            e(_fmt(c.get("value"))),
            e(_fmt(c.get("baseline"))),
            e(_interval(c.get("ci"))),
            e(c.get("message")),
        ]
        for c in checks
        if c.get("kind") == "llm"
    ]
    parts.append(table(["check", "status", "candidate", "baseline", "interval", "why"], check_rows))
    graders = details.get("graders") or {}
    if graders:
        body = [
            [e(name), e(g.get("passed")), e(g.get("graded")), e(_rate(g.get("rate")))]
            for name, g in graders.items()
        ]
        parts.append(
            "<h3>Graders (candidate samples)</h3>" + table(["grader", "passed", "graded", "rate"], body)
        )
    tags = details.get("tags") or []
    if tags:
        body = []
        for row in tags:
            ci = row.get("ci")
            shown = "—" if not ci or None in ci else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"
            body.append(
                [
                    e(row.get("tag")),
                    e(row.get("n")),
                    e(_rate(row.get("baseline"))),
                    e(_rate(row.get("candidate"))),
                    e(shown),
                ]
            )
        parts.append(
            "<h3>Pass rate by tag</h3><p class=note>Shown, not judged.</p>"
            + table(["tag", "cases", "baseline", "candidate", "Δ interval"], body)
        )
    flipped = details.get("flipped") or {}
    for key, title in (
        ("regressed", "Cases the candidate got worse on"),
        ("improved", "Cases the candidate got better on"),
    ):
        rows = flipped.get(key) or []
        total = len(flipped.get(f"{key}_ids") or [])
        if not rows:
            continue
        body = [
            [
                e(r.get("id")),
                e(", ".join(r.get("tags") or [])),
                e(_rate(r.get("baseline"))),
                e(_rate(r.get("candidate"))),
                e(r.get("input")),
                e(r.get("reference")),
                e(r.get("baseline_output")),
                e(r.get("candidate_output")),
            ]
            for r in rows
        ]
        more = f" (first {len(rows)} of {total})" if total > len(rows) else f" ({total})"
        parts.append(
            f"<h3>{e(title)}{e(more)}</h3>"
            + table(
                [
                    "case",
                    "tags",
                    "baseline",
                    "candidate",
                    "input",
                    "reference",
                    "baseline output",
                    "candidate output",
                ],
                body,
            )
        )
    leaks = _leaks(checks)
    if leaks:
        body = [
            [e(leak.get("id")), e(", ".join(leak.get("found") or [])), e(leak.get("output"))]
            for leak in leaks
        ]
        parts.append("<h3>Injection leaks</h3>" + table(["case", "leaked", "output"], body))
    parts.append("</section>")
    return "".join(parts)


def terminal_lines(checks: Sequence[Mapping[str, Any]], *, shown: int = 8) -> list[str]:
    """One line naming the flipped cases (and one for injection leaks), for the terminal."""
    flipped = _pass_rate(checks).get("flipped") or {}
    out = []
    worse, better = flipped.get("regressed_ids") or [], flipped.get("improved_ids") or []

    def names(ids: Sequence[Any]) -> str:
        more = f", … {len(ids) - shown} more" if len(ids) > shown else ""
        return ", ".join(str(i) for i in ids[:shown]) + more

    if worse or better:
        parts = [f"{len(worse)} worse ({names(worse)})" if worse else "0 worse"]
        parts.append(f"{len(better)} better ({names(better)})" if better else "0 better")
        out.append("llm cases flipped: " + "; ".join(parts))
    leaked = sorted({str(leak.get("id")) for leak in _leaks(checks)})
    if leaked:
        out.append(f"llm injection leaks: {names(leaked)}")
    return out
