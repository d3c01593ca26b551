"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

Built from the JSON report alone, so ``mlgate report --format html`` can render
any report after the fact. Every figure of the JSON is in the page: the tables
show them rounded, and "Every figure" at the end lists each check's JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from . import plots
from .table import HEADERS, fmt, rows

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1f2328}
h1{font-size:1.8rem;margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.decision{display:inline-block;padding:.2rem .7rem;border-radius:.4rem;color:#fff;font-weight:600}
.promote,.decision.pass{background:#1a7f37}.keep{background:#6e7781}.reject{background:#cf222e}
.s-pass{color:#1a7f37}.s-fail,.s-error{color:#cf222e;font-weight:600}.s-warn{color:#9a6700}
.s-inconclusive{color:#6e7781}.note{color:#59636e}
figure{margin:.8rem 0}svg{max-width:100%;height:auto}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:12px}
"""


def _e(value: Any) -> str:
    return escape("—" if value is None else str(value))


def _status(status: Any) -> str:
    return f'<span class="s-{_e(status)}">{_e(status)}</span>'


def _table(headers: Sequence[str], body: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    lines = []
    for row in body:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _figure(svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f"<figure>{svg}<figcaption class=note>{_e(caption)}</figcaption></figure>"


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key, item in value.items():
            out += _flatten(f"{prefix}.{key}" if prefix else str(key), item)
        return out
    if isinstance(value, list):
        return [(prefix, ", ".join(map(str, value)))]
    return [(prefix, "—" if value is None else str(value))]


def render(report: Mapping[str, Any]) -> str:
    checks: list[Mapping[str, Any]] = list(report.get("checks") or [])
    decision = str(report.get("decision", ""))
    prov = report.get("provenance") or {}
    drawing = plots.available()
    analysis = str(report.get("analysis") or "gate")
    title = "mlgate" if analysis == "gate" else f"mlgate {analysis}"
    word = str(report.get("verdict") or decision)
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for check in checks:
        by_kind.setdefault(str(check.get("kind")), []).append(check)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} report: {_e(word.upper())}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        f'<h1>{_e(title)} <span class="decision {_e(decision)}">{_e(word.upper())}</span></h1>',
        f"<p>{_e(report.get('summary'))}</p>",
        f"<p class=note>Candidate <strong>{_e((prov.get('candidate') or {}).get('name'))}</strong> vs baseline "
        f"<strong>{_e((prov.get('baseline') or {}).get('name', 'none'))}</strong> · mode {_e(report.get('mode'))} · "
        f"{_e(report.get('confidence'))} confidence · seed {_e(report.get('seed'))} · "
        f"fail-on {_e(report.get('fail_on'))} · schema {_e(report.get('schema_version'))}</p>",
        "</header><main>",
    ]
    if not drawing:
        parts.append("<p class=note>Plots need matplotlib: pip install 'pytest-mlgate[plots]'.</p>")

    parts += ["<section><h2>Every check</h2>", _table(HEADERS, [[_e(c) for c in r] for r in rows(checks)])]
    parts.append("</section>")

    if analysis != "gate":
        parts.append(_live_section(analysis, report.get("details") or {}, checks))

    if by_kind.get("llm"):
        from ..llm.report import html_section

        parts.append(html_section(checks, _table, _e))

    compared = by_kind.get("comparison", []) + by_kind.get("threshold", [])
    if compared:
        parts.append("<section><h2>Metrics</h2>")
        if drawing:
            parts.append(
                _figure(
                    plots.comparisons(compared),
                    "Shaded: the band where the gate keeps. Left of the red dashes the candidate is worse "
                    "than the margin allows; right of the green dashes it is better by the required gain.",
                )
            )
        parts.append(_metric_table(compared))
        parts.append("</section>")

    fair = by_kind.get("fairness", [])
    if fair:
        parts.append("<section><h2>Fairness by group</h2>")
        for check in fair:
            parts.append(f"<h3>{_e(check.get('id'))}: {_status(check.get('status'))}</h3>")
            parts.append(f"<p>{_e(check.get('message'))}</p>")
            if drawing:
                parts.append(_figure(plots.fairness(check), "Dots: the value; whiskers: its interval."))
            parts.append(_group_table(check))
        parts.append("</section>")

    drift = by_kind.get("drift", [])
    if drift:
        parts.append("<section><h2>Drift</h2>")
        if drawing:
            parts.append(
                _figure(plots.drift_overview(drift), "Bars coloured by status; dashes: warn and fail.")
            )
        parts.append(_drift_table(drift))
        if drawing:
            for check in drift:
                if check.get("status") in ("warn", "fail"):
                    parts.append(
                        _figure(plots.histogram(check), f"{check.get('id')}: {check.get('message')}")
                    )
        parts.append("</section>")

    validation = by_kind.get("validation", [])
    if validation:
        parts.append("<section><h2>Data validation</h2>")
        parts.append(_violations_table(validation))
        parts.append("</section>")

    golden = by_kind.get("regression", [])
    if golden:
        parts.append("<section><h2>Golden cases</h2>")
        failed = [c for c in golden if c.get("status") != "pass"]
        parts.append(f"<p>{len(golden) - len(failed)} of {len(golden)} golden checks pass.</p>")
        parts.append(_violations_table(failed or golden))
        parts.append("</section>")

    others = [c for k, v in by_kind.items() if k in ("operational", "properties") for c in v]
    if others:
        parts.append("<section><h2>Operational and property checks</h2>")
        parts.append(_violations_table(others))
        parts.append("</section>")

    parts.append("<section><h2>Provenance</h2>")
    parts.append(_table(["field", "value"], [[_e(k), _e(v)] for k, v in _flatten("", prov)]))
    parts.append("</section>")

    parts.append("<section><h2>Every figure</h2><p class=note>Each check as it is in the JSON report.</p>")
    for check in checks:
        parts.append(
            f"<details><summary>{_e(check.get('id'))}</summary><pre>{_e(json.dumps(check, indent=1))}</pre></details>"
        )
    parts.append("</section></main></body></html>")
    return "\n".join(parts) + "\n"


def _metric_table(checks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for c in checks:
        ci = c.get("ci") or [None, None]
        body.append(
            [
                _e(c.get("id")),
                _status(c.get("status")),
                _e(fmt(c.get("value"))),
                _e(fmt(c.get("baseline"))),
                _e(fmt(c.get("delta"))),
                _e(f"[{fmt(ci[0])}, {fmt(ci[1])}]"),
                _e(c.get("n")),
                _e(c.get("method")),
                _e(c.get("message")),
            ]
        )
    return _table(
        ["check", "status", "candidate", "baseline", "Δ", "interval", "n", "method", "why"],
        body,
        (2, 3, 4, 6),
    )


def _group_table(check: Mapping[str, Any]) -> str:
    body = []
    for g in (check.get("details") or {}).get("groups", []):
        cand_ci = g.get("candidate_ci") or [None, None]
        base_ci = g.get("baseline_ci") or [None, None]
        body.append(
            [
                _e(g.get("group")),
                _e(g.get("n")),
                _e(fmt(g.get("candidate"))),
                _e(f"[{fmt(cand_ci[0])}, {fmt(cand_ci[1])}]"),
                _e(fmt(g.get("baseline"))),
                _e(f"[{fmt(base_ci[0])}, {fmt(base_ci[1])}]"),
                _e(g.get("status")),
            ]
        )
    return _table(["group", "n", "candidate", "interval", "baseline", "interval", "status"], body, (1, 2, 4))


def _drift_table(checks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for c in checks:
        d = c.get("details") or {}
        limits = c.get("threshold") or {}
        body.append(
            [
                _e(c.get("id")),
                _status(c.get("status")),
                _e(fmt(c.get("value"))),
                _e(fmt(d.get("js"))),
                _e(fmt(d.get("w1"))),
                _e(fmt(c.get("pvalue"))),
                _e(", ".join(f"{k} {fmt(v)}" for k, v in limits.items() if v is not None)),
                _e(c.get("message")),
            ]
        )
    return _table(["check", "status", "PSI", "JS", "W1/σ", "BH p", "levels", "why"], body, (2, 3, 4, 5))


def _violations_table(checks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for c in checks:
        details = c.get("details") or {}
        shown = details.get("violations", details)
        body.append(
            [
                _e(c.get("id")),
                _status(c.get("status")),
                _e(c.get("message")),
                f"<code>{_e(json.dumps(shown, default=str)[:2000])}</code>" if shown else "—",
            ]
        )
    return _table(["check", "status", "message", "details"], body)


def _live_section(analysis: str, details: Mapping[str, Any], checks: Sequence[Mapping[str, Any]]) -> str:
    """What a live analysis adds: the canary's steps, the requests a shadow disagrees on, the rest flat."""
    parts = [f"<section><h2>{_e(analysis.capitalize())}</h2>"]
    steps = details.get("steps") or []
    if steps:
        parts.append(
            _table(
                ["step", "from", "until", "verdict", "score", "canary requests", "control requests", "why"],
                [
                    [
                        _e(s.get("name")),
                        _e(s.get("start")),
                        _e(s.get("end")),
                        _e(s.get("verdict")),
                        _e(fmt(s.get("score"))),
                        _e(fmt((s.get("requests") or {}).get("canary"))),
                        _e(fmt((s.get("requests") or {}).get("control"))),
                        _e(s.get("reason")),
                    ]
                    for s in steps
                ],
                (4, 5, 6),
            )
        )
    for check in checks:
        rows_ = (check.get("details") or {}).get("top_disagreements") or []
        if rows_:
            columns = list(dict.fromkeys(k for row in rows_ for k in row))
            parts.append(f"<h3>Requests where the two differ most ({_e(check.get('id'))})</h3>")
            parts.append(_table(columns, [[_e(fmt(row.get(c))) for c in columns] for row in rows_]))
    rest = {k: v for k, v in details.items() if k != "steps"}
    if rest:
        parts.append(_table(["figure", "value"], [[_e(k), _e(v)] for k, v in _flatten("", rest)]))
    parts.append("</section>")
    return "".join(parts)
