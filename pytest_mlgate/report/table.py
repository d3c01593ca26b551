"""The metric table shared by the terminal, Markdown and assertion messages."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

HEADERS = ("check", "status", "value", "baseline", "Δ (cand − base)", "interval", "n", "limit")
"""``value`` is the candidate's metric for comparisons, PSI for drift, the disparity for fairness."""


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def visible(text: str) -> str:
    """``text`` with control, format and line-separator characters shown as ``\\n``, ``\\x1b``, ``\\u202e``.

    A column name is data: a CR, an ANSI escape or a bidi override in it must not move
    the cursor, start a line or reorder what a reviewer reads.
    """
    # ascii() spells them the way Python source would: \r, \x1b, \u202e, \U000e0001.
    return "".join(
        ascii(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def _inert(ch: str) -> bool:
    """Characters the runner trims, or that its culture-aware matching skips, before ``::`` or ``##[``."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Me", "Zl", "Zp", "Zs")


def term(value: Any) -> str:
    """One value from the data or a report, made safe for one line of a CI log.

    The Actions runner reads every stdout and stderr line for workflow commands: a line
    that starts with ``::`` (after leading whitespace) or holds ``##[`` anywhere. So no
    value may break the line, and ``[`` after ``#`` is shown as ``\\[``.
    """
    return defuse_brackets(visible(str(value)), "\\[")


def defuse_brackets(text: str, bracket: str) -> str:
    """``text`` with each ``[`` that follows a ``#`` (skipping what the runner skips) spelled ``bracket``."""
    out: list[str] = []
    solid = ""  # the last character the runner would not skip
    for ch in text:
        out.append(bracket if ch == "[" and solid == "#" else ch)
        if not _inert(ch):
            solid = ch
    return "".join(out)


def guard_line(line: str) -> str:
    """A line that would reach the runner as ``::command`` gets a visible ``\\`` in front."""
    head = next((c for c in line if not _inert(c)), "")
    return "\\" + line if head == ":" else line


def safe_lines(text: Any) -> str:
    """Text of several lines, some from the data, for a terminal or a CI log: no line is a command."""
    return "\n".join(guard_line(term(line)) for line in _LINE_BREAK.split(str(text)))


def fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x == 0:
            return "0"
        if x.is_integer() and 1e3 <= abs(x) < 1e15:
            return f"{int(x):,}"
        if abs(x) >= 1e4 or abs(x) < 1e-3:
            return f"{x:.2e}"
        return f"{x:.4f}"
    return str(x)


def fmt_delta(x: Any) -> str:
    return "—" if x is None else ("+" if x > 0 else "") + fmt(x)


def limit_text(check: Mapping[str, Any]) -> str:
    t = check.get("threshold") or {}
    parts = []
    if check.get("kind") == "comparison":
        if t.get("margin"):
            parts.append(f"m={fmt(t['margin'])}")
        if t.get("gain"):
            parts.append(f"g={fmt(t['gain'])}")
        return ", ".join(parts) or "m=0"
    kind = check.get("kind")
    if kind == "drift":
        if "max_share" in t:
            return f"share ≤ {fmt(t['max_share'])}"
        if "psi_warn" not in t:
            return f"psi < {fmt(t.get('psi_fail'))}"
        return f"psi {fmt(t.get('psi_warn'))}/{fmt(t.get('psi_fail'))}"
    if kind == "fairness":
        if t.get("max_difference") is not None:
            parts.append(f"diff ≤ {fmt(t['max_difference'])}")
        if t.get("min_ratio") is not None:
            parts.append(f"ratio ≥ {fmt(t['min_ratio'])}")
        if t.get("max_regression") is not None and check.get("baseline") is not None:
            parts.append(f"growth ≤ {fmt(t['max_regression'])}")
        return ", ".join(parts)
    if kind == "deepchecks":
        # deepchecks states its limit in the condition's own words ("drift score < 0.2").
        return str((check.get("details") or {}).get("condition") or "")
    if kind == "validation" and t.get("alpha") is not None:
        return f"p ≥ {fmt(t['alpha'])}"
    if kind == "validation" and t.get("min") is None and t.get("max") is None:
        violations = (check.get("details") or {}).get("violations") or []
        return f"{len(violations)} violation(s)" if violations else "contract"
    if t.get("min") is not None:
        parts.append(f"≥ {fmt(t['min'])}")
    if t.get("max") is not None:
        parts.append(f"≤ {fmt(t['max'])}")
    return ", ".join(parts)


def rows(checks: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """One row per check, from the JSON form of the checks."""
    out: list[tuple[str, ...]] = []
    for c in checks:
        ci = c.get("ci")
        interval = (
            "—"
            if not ci
            else f"[{fmt_delta(ci[0]) if c['kind'] == 'comparison' else fmt(ci[0])}, "
            + (f"{fmt_delta(ci[1]) if c['kind'] == 'comparison' else fmt(ci[1])}]")
        )
        status = c["status"] + (" (underpowered)" if c.get("underpowered") else "")
        out.append(
            (
                c["id"],
                status,
                fmt(c.get("value")),
                fmt(c.get("baseline")),
                fmt_delta(c.get("delta")),
                interval,
                fmt(c.get("n")),
                limit_text(c),
            )
        )
    return out


def plain(table_rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS) -> str:
    table_rows = [[term(cell) for cell in r] for r in table_rows]
    widths = [
        max(len(h), *(len(r[i]) for r in table_rows)) if table_rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return guard_line("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in table_rows)])
