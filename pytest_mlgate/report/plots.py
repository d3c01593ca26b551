"""The HTML report's figures, drawn from the JSON report alone, as inline SVG.

matplotlib is the ``plots`` extra and is imported here only. Figures are built
on ``matplotlib.figure.Figure`` (no pyplot, no global backend state), with text
kept as text and a fixed hash salt, so the same report gives the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from ..errors import ConfigError

_GREEN, _RED, _AMBER, _GREY, _BLUE = "#1a7f37", "#cf222e", "#bf8700", "#8c959f", "#0969da"
_STATUS_COLOUR = {"pass": _GREEN, "fail": _RED, "error": _RED, "warn": _AMBER, "inconclusive": _GREY}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "mlgate",
    "font.size": 9,
    # Labels are column, group and metric names from the data: text between two `$` must stay
    # text, not mathtext (`$\frac{$` would not parse) nor LaTeX from a user's matplotlibrc.
    "text.parse_math": False,
    "text.usetex": False,
}
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _styled(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """Draw under our style in an rc_context, so the user's own matplotlib settings stay as they were."""

    @functools.wraps(draw)
    def styled(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            import matplotlib
        except ImportError:
            raise ConfigError("plots need matplotlib: pip install 'pytest-mlgate[plots]'") from None
        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)

    return styled


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Any, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Inline in HTML, SVG may not carry RDF metadata, and ids must be unique across figures.
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns:(?:dc|cc|rdf)="[^"]*"', "", svg)
    prefix = "f" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    # An accessible name for the figure, as screen readers and the HTML checker expect.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@_styled
def comparisons(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """Each metric's Δ with its interval, oriented so right is better, against the margin band."""
    rows = [c for c in checks if c.get("kind") == "comparison" and _finite(c.get("delta")) and c.get("ci")]
    if not rows:
        return None
    figure = _figure(7.0, 0.55 * len(rows) + 1.0)
    axes = figure.add_subplot()
    for i, check in enumerate(rows):
        sign = 1.0 if check.get("higher_is_better", True) else -1.0
        low, high = sorted(sign * float(x) for x in check["ci"])
        delta = sign * float(check["delta"])
        limits = check.get("threshold") or {}
        margin = float(limits.get("margin") or 0.0)
        gain = float(limits.get("gain") or 0.0)
        axes.fill_betweenx([i - 0.4, i + 0.4], -margin, gain, color="#ddf4ff", zorder=0)
        axes.plot([-margin, -margin], [i - 0.4, i + 0.4], color=_RED, linewidth=1, linestyle="--")
        axes.plot([gain, gain], [i - 0.4, i + 0.4], color=_GREEN, linewidth=1, linestyle="--")
        colour = _STATUS_COLOUR.get(str(check.get("status")), _GREY)
        axes.errorbar([delta], [i], xerr=[[delta - low], [high - delta]], fmt="o", color=colour, capsize=4)
    axes.axvline(0, color=_GREY, linewidth=0.8)
    axes.set_yticks(range(len(rows)), [str(c.get("metric")) for c in rows])
    axes.invert_yaxis()
    axes.set_xlabel("Δ candidate − baseline, signed so that right is better (interval whiskers)")
    axes.set_title("Metric deltas against the margin (red dashes) and the required gain (green)")
    return _svg(figure, "Metric deltas with intervals against the margin band")


@_styled
def fairness(check: Mapping[str, Any]) -> str | None:
    """Per-group values with intervals, candidate and baseline side by side."""
    groups = [g for g in (check.get("details") or {}).get("groups", []) if _finite(g.get("candidate"))]
    if not groups:
        return None
    figure = _figure(7.0, 0.5 * len(groups) + 1.2)
    axes = figure.add_subplot()
    for i, group in enumerate(groups):
        for offset, side, colour in ((-0.15, "candidate", _BLUE), (0.15, "baseline", _GREY)):
            value, ci = group.get(side), group.get(f"{side}_ci")
            if not _finite(value) or not ci:
                continue
            low, high = float(ci[0]), float(ci[1])
            axes.errorbar(
                [value], [i + offset], xerr=[[value - low], [high - value]], fmt="o", color=colour,
                capsize=3, label=side if i == 0 else None,
            )  # fmt: skip
    axes.set_yticks(range(len(groups)), [f"{g.get('group')} (n={g.get('n')})" for g in groups])
    axes.invert_yaxis()
    axes.set_xlabel(str(check.get("metric")))
    axes.legend(loc="best")
    axes.set_title(f"{check.get('metric')} by group")
    return _svg(figure, f"{check.get('metric')} by group, candidate and baseline, with intervals")


@_styled
def drift_overview(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """PSI by feature against the warn and fail levels."""
    rows = [
        c for c in checks if c.get("kind") == "drift" and c.get("metric") == "psi" and _finite(c.get("value"))
    ]
    if not rows:
        return None
    figure = _figure(7.0, 0.4 * len(rows) + 1.2)
    axes = figure.add_subplot()
    names = [str(c["id"]).removeprefix("drift:") for c in rows]
    colours = [_STATUS_COLOUR.get(str(c.get("status")), _GREY) for c in rows]
    axes.barh(range(len(rows)), [float(c["value"]) for c in rows], color=colours)
    limits = rows[0].get("threshold") or {}
    for key, colour in (("psi_warn", _AMBER), ("psi_fail", _RED)):
        if _finite(limits.get(key)):
            axes.axvline(float(limits[key]), color=colour, linestyle="--", linewidth=1, label=key)
    axes.set_yticks(range(len(rows)), names)
    axes.invert_yaxis()
    axes.set_xlabel("PSI against the reference")
    axes.legend(loc="best")
    axes.set_title("Drift by feature")
    return _svg(figure, "PSI by feature against the warn and fail levels")


@_styled
def histogram(check: Mapping[str, Any]) -> str | None:
    """Reference and current bin shares, overlaid."""
    hist = (check.get("details") or {}).get("histogram") or {}
    bins, ref, cur = hist.get("bins"), hist.get("reference"), hist.get("current")
    if not bins or not ref or not cur:
        return None
    figure = _figure(7.0, 2.6)
    axes = figure.add_subplot()
    x = range(len(bins))
    axes.bar(x, ref, width=0.9, color=_GREY, alpha=0.6, label="reference")
    axes.bar(x, cur, width=0.5, color=_BLUE, alpha=0.8, label="current")
    axes.set_xticks(list(x), bins, rotation=45, ha="right")
    axes.set_ylabel("share of rows")
    axes.legend(loc="best")
    name = str(check.get("id", "")).removeprefix("drift:")
    axes.set_title(f"{name}: reference and current distributions")
    return _svg(figure, f"{name}: reference and current distributions overlaid")
