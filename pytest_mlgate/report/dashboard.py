"""The dashboard: past gates and monitor runs over time, on one static page.

One report says whether this candidate may ship; a row of them says where the
model is going. The page is built from JSON reports alone (a folder of them,
or the ones the gate logged to MLflow), each checked against the report
schema first: a report that cannot be read is named, never half-drawn.

The x axis is the order of the runs, not the calendar, so that three gates on
one afternoon do not sit on top of each other; each tick says when it was.
Like the report, the page is one file: inline CSS and SVG, no scripts.
"""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import DataError
from . import plots
from .html import _e, _table

Order = Literal["time", "name"]

_DECISION_COLOUR = {
    "promote": plots._GREEN,
    "pass": plots._GREEN,
    "keep": plots._GREY,
    "reject": plots._RED,
}
_MAX_LINES = 8
"""Features drawn per drift figure; the table below it lists every one."""

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:76rem;
padding:0 1rem;color:#1f2328}
h1{font-size:1.8rem;margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.decision{display:inline-block;padding:.05rem .5rem;border-radius:.4rem;color:#fff;font-weight:600}
.promote,.pass{background:#1a7f37}.keep{background:#6e7781}.reject{background:#cf222e}
.s-pass{color:#1a7f37}.s-fail,.s-error{color:#cf222e;font-weight:600}.s-warn{color:#9a6700}
.s-inconclusive{color:#6e7781}.note{color:#59636e}
figure{margin:.4rem 0}svg{width:100%;height:auto}details{margin:.2rem 0 .8rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(34rem,1fr));gap:0 1.5rem}
.grid h3{margin:.8rem 0 0}td.at{white-space:nowrap}
"""


@dataclass(frozen=True)
class Entry:
    """One past run: where its report came from, when it ran, and the report itself."""

    source: str
    at: str | None
    """ISO 8601 (UTC): the gate's time, or the end of a monitor's window."""
    label: str
    report: Mapping[str, Any]

    @property
    def analysis(self) -> str:
        return str(self.report.get("analysis") or "gate")

    @property
    def word(self) -> str:
        return str(self.report.get("verdict") or self.report.get("decision"))


@dataclass(frozen=True)
class Loaded:
    entries: tuple[Entry, ...]
    skipped: tuple[str, ...]
    """Why each source that could not be read was left out (with ``skip_bad``)."""


# --- reading -----------------------------------------------------------------------------------


def from_folder(
    folder: Path, *, pattern: str = "*.json", skip_bad: bool = False, order: Order = "time"
) -> Loaded:
    """Every report in ``folder`` matching ``pattern``, oldest first.

    A live report is placed at the end of its log window; a gate report, which
    carries no clock (the same inputs give the same bytes), at its file's
    modification time. ``order="name"`` sorts by file name instead, for reports
    copied without their times.
    """
    if not folder.is_dir():
        raise DataError(f"report folder `{folder}` does not exist or is not a folder")
    paths = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not paths:
        raise DataError(f"report folder `{folder}` holds no file matching `{pattern}`")
    entries: list[Entry] = []
    skipped: list[str] = []
    for path in paths:
        report = _read(path, skip_bad, skipped)
        if report is None:
            continue
        window_end = _window_end(report)
        at = window_end or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
        entries.append(Entry(str(path), at, _label(report, path.stem), report))
    if order == "name":
        entries.sort(key=lambda e: Path(e.source).name)
    else:
        entries.sort(key=lambda e: (_instant(e.at), Path(e.source).name))
    return _nonempty(Loaded(tuple(entries), tuple(skipped)), f"`{folder}`")


def from_mlflow(tracking: str, name: str, *, skip_bad: bool = False) -> Loaded:
    """The reports the gate logged for each version of ``name``, by the version's ``mlgate.*`` tags.

    Each version's report is the artifact under ``mlgate/`` on its run whose
    sha256 is the version's ``mlgate.report_sha256`` tag: a report rewritten
    after the gate tagged the version is not the one that decided, and is named
    as such.
    """
    from ..registry.connect import client, failure, redact
    from ..registry.publish import REPORT_ARTIFACT_DIR

    c = client(tracking)
    try:
        versions = c.search_model_versions(f"name='{name}'")
    except Exception as exc:
        raise failure(exc, tracking, f"listing the versions of `{name}`") from None
    gated = [v for v in versions if (v.tags or {}).get("mlgate.report_sha256")]
    if not gated:
        raise DataError(
            f"no version of `{name}` on `{redact(tracking)}` carries an `mlgate.report_sha256` tag: "
            "run `mlgate gate` with an MLflow candidate (and mlflow.log on) first"
        )
    entries: list[Entry] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlgate-dashboard-") as tmp:
        for mv in sorted(gated, key=lambda v: int(v.version)):
            tags, run_id = mv.tags or {}, str(mv.run_id)
            where = f"`{name}` v{mv.version} (run {mv.run_id})"
            try:
                files = [
                    f.path
                    for f in c.list_artifacts(run_id, REPORT_ARTIFACT_DIR)
                    if not f.is_dir and f.path.endswith(".json")
                ]
            except Exception as exc:
                raise failure(exc, tracking, f"listing the report artifacts of {where}") from None
            wanted = tags["mlgate.report_sha256"]
            matching = None
            for artifact in files:
                try:
                    local = Path(c.download_artifacts(run_id, artifact, str(Path(tmp) / mv.version)))
                except Exception as exc:
                    raise failure(exc, tracking, f"downloading `{artifact}` of {where}") from None
                # Other JSON files may sit beside the report; only the tagged bytes are the report.
                if hashlib.sha256(local.read_bytes()).hexdigest() == wanted:
                    matching = (artifact, local)
                    break
            if matching is None:
                _bad(
                    f"{where}: no report artifact under `{REPORT_ARTIFACT_DIR}/` has the sha256 its "
                    f"`mlgate.report_sha256` tag names ({wanted[:12]}...)",
                    skip_bad,
                    skipped,
                )
                continue
            found = _read(matching[1], skip_bad, skipped, name=f"{where} artifact `{matching[0]}`")
            if found is None:
                continue
            at = tags.get("mlgate.gated_at") or None
            entries.append(Entry(where, at, f"v{mv.version}", found))
    entries.sort(key=lambda e: (_instant(e.at), e.label))
    return _nonempty(Loaded(tuple(entries), tuple(skipped)), f"`{name}`")


def _read(
    path: Path, skip_bad: bool, skipped: list[str], *, name: str | None = None
) -> dict[str, Any] | None:
    from .validate import read_report

    try:
        return read_report(path)
    except DataError as exc:
        _bad(str(exc) if name is None else f"{name}: {exc}", skip_bad, skipped)
        return None


def _bad(message: str, skip_bad: bool, skipped: list[str]) -> None:
    if not skip_bad:
        raise DataError(f"{message} (pass --skip-bad to leave it out of the dashboard)")
    skipped.append(message)


def _nonempty(loaded: Loaded, where: str) -> Loaded:
    if not loaded.entries:
        raise DataError(f"no readable report in {where}: all {len(loaded.skipped)} were left out")
    return loaded


def _window_end(report: Mapping[str, Any]) -> str | None:
    window = ((report.get("provenance") or {}).get("data") or {}).get("window") or {}
    end = window.get("end") if isinstance(window, Mapping) else None
    return end if isinstance(end, str) and end else None


def _instant(at: str | None) -> float:
    """Seconds since the epoch; an unreadable time sorts first rather than failing the page."""
    if not at:
        return -math.inf
    try:
        parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return -math.inf
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _label(report: Mapping[str, Any], fallback: str) -> str:
    candidate = (report.get("provenance") or {}).get("candidate") or {}
    version = candidate.get("version") if isinstance(candidate, Mapping) else None
    if report.get("analysis", "gate") == "gate" and version:
        return f"v{version}"
    return fallback


# --- series ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    index: int
    value: float
    low: float | None
    high: float | None
    status: str


@dataclass(frozen=True)
class Series:
    check_id: str
    title: str
    axis: str
    points: tuple[Point, ...]
    lines: tuple[tuple[str, float, str], ...]
    """Reference lines: (name, value, colour)."""


def series(entries: Sequence[Entry], keep: Callable[[Mapping[str, Any]], bool]) -> list[Series]:
    """One series per check id (in the order first seen) over the runs whose report has it."""
    found: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, entry in enumerate(entries):
        for check in entry.report.get("checks") or []:
            if keep(check):
                found.setdefault(str(check.get("id")), []).append((i, check))
    out = []
    for check_id, items in found.items():
        points, last = [], items[-1][1]
        for i, check in items:
            point = _point(i, check)
            if point is not None:
                points.append(point)
        kind = last.get("kind")
        lines: tuple[tuple[str, float, str], ...]
        if kind == "comparison":
            limits = last.get("threshold") or {}
            lines = (
                ("−margin", -_num(limits.get("margin"), 0.0), plots._RED),
                ("gain", _num(limits.get("gain"), 0.0), plots._GREEN),
            )
            axis = f"Δ {last.get('metric')}, up is better"
        elif kind == "drift":
            limits = last.get("threshold") or {}
            lines = tuple(
                (key, float(limits[key]), colour)
                for key, colour in (("psi_warn", plots._AMBER), ("psi_fail", plots._RED))
                if _finite(limits.get(key))
            )
            axis = "PSI"
        else:
            limits = last.get("threshold") or {}
            lines = tuple(
                (key, float(limits[key]), colour)
                for key, colour in (("min", plots._RED), ("max", plots._RED))
                if _finite(limits.get(key))
            )
            axis = str(last.get("metric"))
        out.append(Series(check_id, check_id, axis, tuple(points), lines))
    return out


def _point(index: int, check: Mapping[str, Any]) -> Point | None:
    """A comparison's Δ is turned so that up is better, as the gate decides it; others as measured."""
    kind = check.get("kind")
    value = check.get("delta") if kind == "comparison" else check.get("value")
    if not _finite(value):
        return None
    sign = -1.0 if kind == "comparison" and check.get("higher_is_better") is False else 1.0
    assert value is not None
    ci = check.get("ci")
    low = high = None
    if isinstance(ci, list) and len(ci) == 2 and all(_finite(x) for x in ci):
        low, high = sorted(sign * float(x) for x in ci)
    return Point(index, sign * float(value), low, high, str(check.get("status")))


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _num(x: Any, default: float) -> float:
    return float(x) if _finite(x) else default


def _is_kpi(check: Mapping[str, Any]) -> bool:
    return bool((check.get("details") or {}).get("kpi"))


def _model_metric(check: Mapping[str, Any]) -> bool:
    return check.get("kind") in ("comparison", "threshold") and not _is_kpi(check)


def _feature_drift(check: Mapping[str, Any]) -> bool:
    return check.get("kind") == "drift" and check.get("metric") == "psi"


# --- drawing -----------------------------------------------------------------------------------


def _ticks(entries: Sequence[Entry]) -> list[str]:
    return [f"{e.label}\n{(e.at or '')[:10]}" for e in entries]


@plots._styled
def _metric_figure(item: Series, entries: Sequence[Entry]) -> str | None:
    if not item.points:
        return None
    figure = plots._figure(6.0, 2.6)
    axes = figure.add_subplot()
    xs = [p.index for p in item.points]
    axes.plot(xs, [p.value for p in item.points], color=plots._BLUE, linewidth=1, zorder=1)
    for p in item.points:
        colour = plots._STATUS_COLOUR.get(p.status, plots._GREY)
        if p.low is not None and p.high is not None:
            axes.errorbar(
                [p.index], [p.value], yerr=[[p.value - p.low], [p.high - p.value]],
                fmt="o", color=colour, capsize=4, zorder=2,
            )  # fmt: skip
        else:
            axes.plot([p.index], [p.value], "o", color=colour, zorder=2)
    for name, value, colour in item.lines:
        axes.axhline(value, color=colour, linestyle="--", linewidth=1, label=name)
    if item.lines:
        axes.legend(loc="best", fontsize=7)
    axes.set_xticks(range(len(entries)), _ticks(entries), fontsize=7)
    axes.set_xlim(-0.5, len(entries) - 0.5)
    axes.set_ylabel(item.axis)
    axes.set_title(item.title)
    return plots._svg(figure, f"{item.title} over the runs, with intervals")


@plots._styled
def _drift_figure(items: Sequence[Series], entries: Sequence[Entry]) -> str | None:
    drawn = sorted(items, key=lambda s: -max((p.value for p in s.points), default=0.0))[:_MAX_LINES]
    drawn = [s for s in drawn if s.points]
    if not drawn:
        return None
    figure = plots._figure(14.0, 4.0)
    axes = figure.add_subplot()
    for item in drawn:
        axes.plot(
            [p.index for p in item.points], [p.value for p in item.points], marker="o",
            linewidth=1, label=item.check_id.removeprefix("drift:"),
        )  # fmt: skip
    lines = {name: (value, colour) for s in drawn for name, value, colour in s.lines}
    for name, (value, colour) in lines.items():
        axes.axhline(value, color=colour, linestyle="--", linewidth=1)
        axes.annotate(name, (len(entries) - 0.5, value), fontsize=7, color=colour, ha="right", va="bottom")
    axes.set_xticks(range(len(entries)), _ticks(entries), fontsize=7)
    axes.set_xlim(-0.5, len(entries) - 0.5)
    axes.set_ylabel("PSI against the reference")
    axes.legend(loc="upper left", fontsize=7, ncols=2)
    axes.set_title("Drift by feature")
    return plots._svg(figure, "PSI by feature over the runs, against the warn and fail levels")


@plots._styled
def _decision_figure(entries: Sequence[Entry]) -> str:
    analyses = list(dict.fromkeys(e.analysis for e in entries))
    figure = plots._figure(14.0, 0.5 * len(analyses) + 1.4)
    axes = figure.add_subplot()
    for i, entry in enumerate(entries):
        decision = str(entry.report.get("decision"))
        y = analyses.index(entry.analysis)
        axes.plot([i], [y], "s", markersize=11, color=_DECISION_COLOUR.get(decision, plots._GREY))
        axes.annotate(entry.word, (i, y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=7)
    axes.set_yticks(range(len(analyses)), analyses)
    axes.set_ylim(-0.6, len(analyses) - 0.3)
    axes.set_xticks(range(len(entries)), _ticks(entries), fontsize=7)
    axes.set_xlim(-0.5, len(entries) - 0.5)
    axes.set_title("Decisions: green promote or pass, grey keep, red reject")
    return str(plots._svg(figure, "Decision of each run, in order"))


# --- the page ----------------------------------------------------------------------------------


def _when(at: str | None) -> str | None:
    """``2026-09-21 14:13Z``: to the minute, in UTC, as the x axis shows the date."""
    if _instant(at) == -math.inf:
        return at
    assert at is not None
    return datetime.fromtimestamp(_instant(at), UTC).strftime("%Y-%m-%d %H:%MZ")


def _short(source: str) -> str:
    """A file's name (the full path is the cell's title); an MLflow source as it is."""
    return Path(source).name if source.endswith(".json") else source


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def _series_table(item: Series, entries: Sequence[Entry]) -> str:
    body = [
        [
            _e(entries[p.index].label),
            _e(_when(entries[p.index].at)),
            _fmt(p.value),
            "—" if p.low is None else f"[{_fmt(p.low)}, {_fmt(p.high)}]",
            f'<span class="s-{_e(p.status)}">{_e(p.status)}</span>',
        ]
        for p in item.points
    ]
    return _table(["run", "at", item.axis, "interval", "status"], body, numeric=(2, 3))


def _figure(svg: str | None, caption: str) -> str:
    return "" if svg is None else f"<figure>{svg}<figcaption class=note>{_e(caption)}</figcaption></figure>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def render(loaded: Loaded, *, title: str = "mlgate dashboard") -> str:
    """The page for ``loaded.entries`` (oldest first); figures need the ``plots`` extra, tables do not."""
    entries = list(loaded.entries)
    drawing = plots.available()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        f"<p class=note>{len(entries)} run(s), oldest first, from {_e(_when(entries[0].at))} to "
        f"{_e(_when(entries[-1].at))}. "
        "Each point is one run; whiskers are its interval; the colour is the check's status "
        "(green pass, red fail, amber warn, grey inconclusive).</p>",
    ]
    if loaded.skipped:
        parts.append(f"<p><strong>{len(loaded.skipped)} report(s) left out:</strong></p><ul>")
        parts += [f"<li>{_e(reason)}</li>" for reason in loaded.skipped]
        parts.append("</ul>")
    if not drawing:
        parts.append("<p class=note>Figures need matplotlib: pip install 'pytest-mlgate[plots]'.</p>")
    parts.append("</header><main>")

    parts.append('<section id="decisions"><h2>Decisions</h2>')
    if drawing:
        parts.append(_figure(_decision_figure(entries), "One square per run, in the order they ran."))
    rows = []
    for i, entry in enumerate(entries):
        decision = str(entry.report.get("decision"))
        rows.append(
            [
                str(i + 1),
                _e(_when(entry.at)),
                _e(entry.analysis),
                _e(entry.label),
                f'<span class="decision {_e(decision)}">{_e(entry.word.upper())}</span>',
                _e(entry.report.get("summary")),
                f'<span title="{_e(entry.source)}">{_e(_short(entry.source))}</span>',
            ]
        )
    parts.append(_table(["#", "at", "analysis", "run", "decision", "summary", "source"], rows, numeric=(0,)))
    parts.append("</section>")

    sections: list[tuple[str, str, Callable[[Mapping[str, Any]], bool], str]] = [
        (
            "metrics",
            "Model metrics",
            _model_metric,
            "Comparisons show Δ candidate − baseline, turned so that up is better, against the margin "
            "(red) and the required gain (green); limits show the value against its min or max.",
        ),
        ("kpis", "Business metrics (monitor KPIs)", _is_kpi, "Each KPI against its limits."),
    ]
    for anchor, heading, keep, caption in sections:
        found = series(entries, keep)
        if not found:
            continue
        parts.append(f'<section id="{anchor}"><h2>{_e(heading)}</h2><p class=note>{_e(caption)}</p>')
        parts.append('<div class="grid">')
        for item in found:
            parts.append(f'<div><h3 id="{anchor}-{_slug(item.check_id)}">{_e(item.check_id)}</h3>')
            if drawing:
                parts.append(_figure(_metric_figure(item, entries), item.axis))
            parts.append(f"<details><summary>figures</summary>{_series_table(item, entries)}</details></div>")
        parts.append("</div></section>")

    drift = series(entries, _feature_drift)
    if drift:
        parts.append('<section id="drift"><h2>Drift</h2>')
        if drawing:
            shown = min(len(drift), _MAX_LINES)
            parts.append(
                _figure(
                    _drift_figure(drift, entries),
                    f"The {shown} feature(s) that drifted most, of {len(drift)}; dashes: warn and fail levels.",
                )
            )
        body = []
        for item in drift:
            by_run = {p.index: p for p in item.points}
            cells = [_e(item.check_id.removeprefix("drift:"))]
            for i in range(len(entries)):
                p = by_run.get(i)
                cells.append("" if p is None else f'<span class="s-{_e(p.status)}">{_fmt(p.value)}</span>')
            body.append(cells)
        head = ["feature"] + [f"#{i + 1} {e.label}" for i, e in enumerate(entries)]
        parts.append(_table(head, body, numeric=tuple(range(1, len(entries) + 1))))
        parts.append("</section>")

    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
