"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

Built from the JSON report alone, so ``mlgate report --format html`` can render
any report after the fact. Every figure of the JSON is in the page: the tables
show them rounded, and "Every figure" at the end lists each check's JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from ..extras import install_hint
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
.s-inconclusive{color:#6e7781}.note{color:#59636e}.s-mismatch,.s-unreadable{color:#cf222e;font-weight:600}
figure{margin:.8rem 0}svg{max-width:100%;height:auto}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:12px}
ul.details{margin:0;padding-left:1.1rem}details>summary{cursor:pointer;margin:.4rem 0}
"""


def _e(value: Any) -> str:
    return escape("—" if value is None else str(value))


def _status(status: Any) -> str:
    return f'<span class="s-{_e(status)}">{_e(status)}</span>'


def _table(headers: Sequence[str], body: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
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


_KNOWN_KINDS = (
    *("comparison", "threshold", "fairness", "drift", "validation", "regression", "llm", "deepchecks"),
)
"""Kinds with a section of their own; any other kind is listed by the generic "Other checks" rows."""
_STATUS_ORDER = ("error", "fail", "warn", "inconclusive", "pass")


def render(report: Mapping[str, Any]) -> str:
    checks: list[Mapping[str, Any]] = list(report.get("checks") or [])
    decision = str(report.get("decision", ""))
    prov = report.get("provenance") or {}
    figures: Mapping[str, Any] = report.get("plots") or {}
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
        parts.append(f"<p class=note>Plots need matplotlib: {_e(install_hint('plots'))}.</p>")

    parts.append(_checks_section(checks))

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
                    "Each metric on its own axes. Left: the candidate (blue, with its interval when a floor "
                    "or ceiling is set, dotted red) and the baseline (orange). Right: Δ with its interval, "
                    "signed so that right is better; shaded: the band where the gate keeps; left of the red "
                    "dashes the candidate is worse than the margin allows, right of the green dashes it is "
                    "better by the required gain.",
                )
            )
        parts.append(_metric_table(compared))
        parts.append("</section>")

    if figures:
        parts.append(_models_section(figures, drawing))
        rows_ = figures.get("slices") or []
        if rows_:
            parts.append("<section><h2>Performance by slice</h2>")
            parts.append(
                "<p class=note>The configured metrics within each level of the `slices:` and fairness "
                "columns (many-valued numbers in quantile bins). Shown for context: the gate does not judge "
                "slices. Green: the candidate is better on the whole interval; red: worse.</p>"
            )
            if drawing:
                parts.append(_figure(plots.slices(rows_), "Dots: the value; whiskers: its interval."))
            table = _slice_table(rows_)
            parts.append(
                "<p class=note>Δ in the table is candidate − baseline in the metric's own units and "
                "direction; the figure flips lower-is-better metrics so that right is always better.</p>"
            )
            # A long table would bury the sections below it: past a screenful it is folded.
            parts.append(
                table
                if len(rows_) <= 12
                else f"<details><summary>Every slice ({len(rows_)} rows)</summary>{table}</details>"
            )
            parts.append("</section>")
        disagreements = figures.get("disagreements") or []
        if disagreements:
            parts.append("<section><h2>Rows where the models disagree most</h2>")
            parts.append(_disagreement_table(figures, disagreements))
            parts.append("</section>")

    fair = by_kind.get("fairness", [])
    if fair:
        parts.append("<section><h2>Fairness by group</h2>")
        for check in fair:
            parts.append(f"<h3>{_e(check.get('id'))}: {_status(check.get('status'))}</h3>")
            parts.append(f"<p>{_e(check.get('message'))}</p>")
            if drawing:
                parts.append(
                    _figure(
                        plots.fairness(check), "Dots: the value; whiskers: its interval (candidate blue)."
                    )
                )
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

    deep = by_kind.get("deepchecks", [])
    if deep:
        parts.append("<section><h2>deepchecks</h2>")
        parts.append(_deepchecks_table(deep))
        parts.append("</section>")

    # Every other kind (operational, properties, and kinds added later) gets the same generic rows.
    others = [c for k, v in by_kind.items() if k not in _KNOWN_KINDS for c in v]
    if others:
        names = sorted({str(c.get("kind")) for c in others})
        heading = (
            "Operational and property checks"
            if set(names) <= {"operational", "properties"}
            else ("Other checks (" + ", ".join(names) + ")")
        )
        parts.append(f"<section><h2>{_e(heading)}</h2>")
        parts.append(_violations_table(others))
        parts.append("</section>")

    lineage = _lineage_section(prov)
    if lineage:
        parts.append(lineage)
    parts.append("<section><h2>Provenance</h2>")
    # What the lineage section shows as tables would be unreadable here as flattened lists of records.
    shown = [
        (k, v) for k, v in _flatten("", prov) if not lineage or (k != "dvc" and not k.endswith(".datasets"))
    ]
    parts.append(_table(["field", "value"], [[_e(k), _e(v)] for k, v in shown]))
    parts.append("</section>")

    parts.append("<section><h2>Every figure</h2><p class=note>Each check as it is in the JSON report.</p>")
    for check in checks:
        parts.append(
            f"<details><summary>{_e(check.get('id'))}</summary><pre>{_e(json.dumps(check, indent=1))}</pre></details>"
        )
    parts.append("</section></main></body></html>")
    return "\n".join(parts) + "\n"


def _checks_section(checks: Sequence[Mapping[str, Any]]) -> str:
    """What needs a look first; the full table folded below it."""
    counts: dict[str, int] = {}
    for c in checks:
        counts[str(c.get("status"))] = counts.get(str(c.get("status")), 0) + 1
    order = [s for s in _STATUS_ORDER if s in counts] + sorted(set(counts) - set(_STATUS_ORDER))
    tally = " · ".join(f"{_status(s)} {counts[s]}" for s in order)
    parts = ["<section><h2>Checks</h2>", f"<p>{len(checks)} checks: {tally or 'none'}</p>"]
    attention = [c for c in checks if c.get("status") != "pass"]
    if attention:
        parts.append(
            _table(
                ["check", "status", "why"],
                [[_e(c.get("id")), _status(c.get("status")), _e(c.get("message"))] for c in attention],
            )
        )
    table = _table(HEADERS, [[_e(c) for c in r] for r in rows(checks)])
    parts.append(f"<details><summary>Every check ({len(checks)})</summary>{table}</details></section>")
    return "".join(parts)


def _models_section(figures: Mapping[str, Any], drawing: bool) -> str:
    """The per-row views of both models: curves, matrices, score distributions, residuals."""
    task = figures.get("task")
    models = figures.get("models") or {}
    roles = [r for r in ("candidate", "baseline") if isinstance(models.get(r), Mapping)]
    parts = ["<section><h2>The two models, row by row</h2>"]
    if task == "binary":
        if drawing:
            parts.append(
                _figure(
                    plots.binary_curves(figures),
                    "Candidate blue, baseline orange. Areas and average precision are from the full "
                    "curves; calibration dots grow with the rows in their bin; dotted: chance and perfect "
                    "calibration.",
                )
            )
        summary = [
            [_e(r), _e(fmt(models[r].get("auc"))), _e(fmt(models[r].get("average_precision")))]
            for r in roles
            if "auc" in models[r]
        ]
        if summary:
            parts.append(_table(["model", "ROC AUC", "average precision"], summary, (1, 2)))
    if task in ("binary", "multiclass") and drawing:
        parts.append(
            _figure(
                plots.confusions(figures),
                "Counts; the colour is the share of the true class (each row), so the diagonal is recall.",
            )
        )
    if task == "multiclass":
        parts.append(_per_class_table(figures))
        if drawing:
            parts.append(_figure(plots.per_class(figures), "Candidate blue, baseline orange."))
            parts.append(
                _figure(
                    plots.calibration(figures),
                    "How often the predicted class is right against the probability given to it.",
                )
            )
    if task in ("binary", "multiclass") and drawing:
        parts.append(
            _figure(
                plots.score_distributions(figures),
                "Each line is one true class, as a share of that class: well separated lines are a "
                "model that ranks well.",
            )
        )
    if task == "regression":
        if drawing:
            parts.append(
                _figure(
                    plots.regression(figures),
                    "Left: a sample of rows and the mean actual in bins of the prediction (on the dotted "
                    "diagonal when unbiased). Middle and right: residuals, actual − predicted.",
                )
            )
        parts.append(_residual_table(figures))
    parts.append("</section>")
    return "".join(parts)


def _per_class_table(figures: Mapping[str, Any]) -> str:
    models = figures.get("models") or {}
    roles = [r for r in ("candidate", "baseline") if (models.get(r) or {}).get("per_class")]
    if not roles:
        return ""
    classes = [str(c) for c in figures.get("classes") or []]
    first = models[roles[0]]["per_class"]
    headers = ["class", "support"] + [f"{m} ({r})" for r in roles for m in ("precision", "recall", "F1")]
    body = []
    for k, support in enumerate(first.get("support") or []):
        row = [_e(classes[k] if k < len(classes) else k), _e(support)]
        for r in roles:
            pc = models[r]["per_class"]
            row += [_e(fmt(_at(pc.get(m), k))) for m in ("precision", "recall", "f1")]
        body.append(row)
    return _table(headers, body, tuple(range(1, len(headers))))


def _at(values: Any, k: int) -> Any:
    return values[k] if isinstance(values, list) and k < len(values) else None


def _residual_table(figures: Mapping[str, Any]) -> str:
    res = figures.get("residuals") or {}
    levels = res.get("quantile_levels") or []
    wanted = [0.05, 0.25, 0.5, 0.75, 0.95]
    picks = [min(range(len(levels)), key=lambda i: abs(levels[i] - q)) for q in wanted] if levels else []
    body = []
    for role, r in (res.get("models") or {}).items():
        quantiles = r.get("quantiles") or []
        body.append(
            [_e(role)]
            + [_e(fmt(_at(quantiles, i))) for i in picks]
            + [_e(r.get("below")), _e(r.get("above"))]
        )
    if not body:
        return ""
    heads = [f"q{levels[i]:.2f}" for i in picks]
    return _table(
        ["residuals", *heads, "below the plot", "above the plot"], body, tuple(range(1, len(heads) + 3))
    )


def _slice_table(rows_: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for r in rows_:
        ci = r.get("ci") or r.get("candidate_ci") or [None, None]
        body.append(
            [
                _e(r.get("column")),
                _e(r.get("level")),
                _e(r.get("n")),
                _e(r.get("metric")),
                _e(fmt(r.get("candidate"))),
                _e(fmt(r.get("baseline"))),
                _e(fmt(r.get("delta"))),
                _e(f"[{fmt(_at(ci, 0))}, {fmt(_at(ci, 1))}]") if r.get("note") is None else "—",
                _e(
                    r.get("note")
                    or (f"on a seeded sample of {fmt(r['sampled'])} rows" if r.get("sampled") else "")
                ),
            ]
        )
    return _table(
        ["column", "level", "n", "metric", "candidate", "baseline", "Δ", "interval", "note"],
        body,
        (2, 4, 5, 6),
    )


def _short(text: Any) -> Any:
    """A data value as text, a long decimal rounded as the tables round numbers (the JSON keeps it whole)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return text
    return fmt(number) if "." in str(text) and math.isfinite(number) else text


def _disagreement_table(figures: Mapping[str, Any], rows_: Sequence[Mapping[str, Any]]) -> str:
    regression = figures.get("task") == "regression"
    columns = list(dict.fromkeys(k for r in rows_ for k in (r.get("values") or {})))

    def shown(r: Mapping[str, Any], role: str) -> str:
        score = r.get(f"{role}_score")
        label = r.get(role)
        if regression or score is None:
            return str(fmt(label))
        return f"{label} ({fmt(score)})"

    how = (
        "|candidate − baseline|"
        if regression
        else "the gap in predicted probability (multiclass: total variation), or a changed label"
    )
    ids = any("id" in r for r in rows_)
    body = [
        [_e(r.get("row"))] + ([_e(r.get("id"))] if ids else [])
        + [_e(fmt(r.get("actual"))), _e(shown(r, "candidate")), _e(shown(r, "baseline")),
           _e(fmt(r.get("difference")))]
        + [_e(_short((r.get("values") or {}).get(c))) for c in columns]
        for r in rows_
    ]  # fmt: skip
    brackets = {
        "binary": " The predicted label, with P(positive) in brackets.",
        "multiclass": " The predicted label, with the probability given to it in brackets.",
    }.get(str(figures.get("task")), "")
    note = (
        f"<p class=note>Ranked by {_e(how)}; row: the data row (0 = the first row after the header)."
        f"{brackets}</p>"
    )
    heads = ["row", *(["id"] if ids else []), "actual", "candidate", "baseline", "difference", *columns]
    return note + _table(heads, body, (0, heads.index("difference")))


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


def _deepchecks_table(checks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for c in checks:
        d = c.get("details") or {}
        figures = d.get("figures") or {}
        body.append(
            [
                _e(d.get("header") or c.get("metric")),
                _status(c.get("status")),
                _e(d.get("condition") or "—"),
                _e(d.get("more_info") or d.get("not_run") or c.get("message")),
                _e(", ".join(f"{k} {fmt(v)}" for k, v in list(figures.items())[:8]) or "—"),
                _e(d.get("suite")),
            ]
        )
    return _table(["check", "status", "condition", "result", "figures", "suite"], body)


def _violations_table(checks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for c in checks:
        details = c.get("details") or {}
        text = _details_text(details, said=str(c.get("message") or ""))
        body.append([_e(c.get("id")), _status(c.get("status")), _e(c.get("message")), text])
    return _table(["check", "status", "message", "details"], body)


_MAX_ITEMS = 20


def _details_text(details: Any, said: str = "") -> str:
    """A check's free-form details as readable lines: each violation's own sentence, else key: value."""
    if not details:
        return "—"
    if isinstance(details, Mapping) and set(details) == {"violations"}:
        details = details["violations"]
        if not details:
            return "no violations"
    if isinstance(details, list):
        items = [f"<li>{_e(_line(item, said=said))}</li>" for item in details[:_MAX_ITEMS]]
        more = f"<li>… and {len(details) - _MAX_ITEMS} more</li>" if len(details) > _MAX_ITEMS else ""
        return f"<ul class=details>{''.join(items)}{more}</ul>"
    if isinstance(details, Mapping):
        lines = []
        for key, value in list(details.items())[:_MAX_ITEMS]:
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                lines.append(f"<li>{_e(key)}:{_details_text(value)}</li>")
            else:
                lines.append(f"<li>{_e(key)}: {_e(_line(value))}</li>")
        return f"<ul class=details>{''.join(lines)}</ul>"
    return _e(_line(details))


def _line(item: Any, limit: int = 400, said: str = "") -> str:
    """One item as a sentence: its own `text` or `message`, unless the check's message already says it."""
    if isinstance(item, Mapping):
        for key in ("text", "message", "reason"):
            own = item.get(key)
            if isinstance(own, str) and own != said:
                return own[:limit]
        text = "; ".join(f"{k} {_line(v, 80)}" for k, v in item.items() if item.get(k) != said)
    elif isinstance(item, list):
        text = ", ".join(_line(v, 80) for v in item[:_MAX_ITEMS]) + (" …" if len(item) > _MAX_ITEMS else "")
    elif isinstance(item, float):
        text = str(fmt(item))
    else:
        text = "—" if item is None else str(item)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _lineage_section(prov: Mapping[str, Any]) -> str:
    """Which tracked data the gate read (DVC) and which datasets each MLflow model was trained on; else ""."""
    from ..lineage import warnings_of

    records = [r for r in prov.get("dvc") or [] if isinstance(r, Mapping)]
    trained = [
        (str(role), d)
        for role, identity in prov.items()
        if isinstance(identity, Mapping) and isinstance(identity.get("datasets"), list)
        for d in identity["datasets"]
        if isinstance(d, Mapping)
    ]
    if not records and not trained:
        return ""
    parts = ["<section><h2>Data lineage</h2>"]
    # A mismatch does not fail the gate, so the page must say it where a reader looks for the data.
    for line in warnings_of(prov):
        parts.append(f'<p class="s-warn">Warning: {_e(line)}</p>')
    if records:
        parts.append(
            "<p class=note>Inputs tracked by DVC: the version DVC names, checked against the file.</p>"
        )
        body = []
        for r in records:
            remote = r.get("remote")
            if remote and r.get("remote_url"):
                remote = f"{remote} ({r['remote_url']})"
            size = r.get("size")
            body.append(
                [
                    _e(r.get("role")),
                    f"<code>{_e(r.get('tracked_path') or r.get('path'))}</code>",
                    f"<code>{_e(r.get('tracked_by'))}</code>",
                    f"<code>{_e(r.get('md5'))}</code>",
                    _e(None if size is None else f"{size} bytes"),
                    _e(r.get("hash")),
                    _e(remote),
                    _status(r.get("status")),
                    _e(r.get("message") or None),
                ]
            )
        parts.append(
            _table(["role", "file", "tracked by", "md5", "size", "hash", "remote", "status", "check"], body)
        )
    if trained:
        parts.append("<p class=note>Datasets each model's MLflow training run logged.</p>")
        parts.append(
            _table(
                ["model", "dataset", "digest", "source type", "source", "context"],
                [
                    [
                        _e(role),
                        _e(d.get("name")),
                        f"<code>{_e(d.get('digest'))}</code>",
                        _e(d.get("source_type")),
                        _e(d.get("source")),
                        _e(d.get("context")),
                    ]
                    for role, d in trained
                ],
            )
        )
    parts.append("</section>")
    return "".join(parts)
