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
from ..extras import install_hint

_GREEN, _RED, _AMBER, _GREY, _BLUE = "#1a7f37", "#cf222e", "#bf8700", "#8c959f", "#0969da"
_ORANGE = "#bc4c00"
"""The baseline in every figure that draws both models; the candidate is always blue."""
_ROLE_COLOUR = {"candidate": _BLUE, "baseline": _ORANGE}
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
            raise ConfigError(f"plots need matplotlib: {install_hint('plots')}") from None
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


def _oriented(check: Mapping[str, Any]) -> tuple[float, float, float]:
    """Δ and its interval signed so that right is better."""
    sign = 1.0 if check.get("higher_is_better", True) is not False else -1.0
    low, high = sorted(sign * float(x) for x in check["ci"])
    return sign * float(check["delta"]), low, high


def _drawable(c: Mapping[str, Any]) -> bool:
    ci = c.get("ci")
    return isinstance(ci, list) and len(ci) == 2 and all(_finite(x) for x in ci)


@_styled
def comparisons(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """One row per metric, each on its own axes: the two models' values, and Δ against the margin band.

    Metrics live on different scales (an R² of 0.8 next to an RMSE of 40): one shared axis
    would flatten all but the largest, so every metric gets its own.
    """
    metrics: dict[str, dict[str, Mapping[str, Any]]] = {}
    for c in checks:
        if c.get("kind") in ("comparison", "threshold") and _finite(c.get("value")):
            metrics.setdefault(str(c.get("metric")), {})[str(c.get("kind"))] = c
    if not metrics:
        return None
    figure = _figure(7.6, 0.95 * len(metrics) + 0.7)
    grid = figure.subplots(len(metrics), 2, squeeze=False, gridspec_kw={"width_ratios": [1, 1.3]})
    for row, (name, kinds) in enumerate(metrics.items()):
        left, right = grid[row]
        compared, floor = kinds.get("comparison"), kinds.get("threshold")
        main = compared or floor
        assert main is not None
        points = [("candidate", main.get("value"), floor if floor is not None and _drawable(floor) else None)]
        if compared is not None and _finite(compared.get("baseline")):
            points.append(("baseline", compared.get("baseline"), None))
        for i, (role, raw, with_ci) in enumerate(points):
            value, err = float(raw or 0.0), None
            if with_ci is not None:
                low, high = sorted(float(x) for x in with_ci["ci"])
                err = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
            left.errorbar([value], [i], xerr=err, fmt="o", color=_ROLE_COLOUR[role], capsize=3)
        limits = (floor or {}).get("threshold") or {}
        for key in ("min", "max"):
            if _finite(limits.get(key)):
                left.axvline(float(limits[key]), color=_RED, linestyle=":", linewidth=1)
        left.set_yticks(range(len(points)), [p[0] for p in points])
        left.set_ylim(len(points) - 0.5, -0.5)
        left.set_ylabel(name, rotation=0, ha="right", va="center", fontweight="bold")
        left.margins(x=0.25)
        if compared is not None and _drawable(compared) and _finite(compared.get("delta")):
            delta, low, high = _oriented(compared)
            limits = compared.get("threshold") or {}
            margin = float(limits.get("margin") or 0.0)
            gain = float(limits.get("gain") or 0.0)
            right.axvspan(-margin, gain, color="#ddf4ff", zorder=0)
            right.axvline(-margin, color=_RED, linewidth=1, linestyle="--")
            right.axvline(gain, color=_GREEN, linewidth=1, linestyle="--")
            right.axvline(0, color=_GREY, linewidth=0.8)
            colour = _STATUS_COLOUR.get(str(compared.get("status")), _GREY)
            right.errorbar(
                [delta], [0], xerr=[[delta - low], [high - delta]], fmt="o", color=colour, capsize=4
            )
            right.margins(x=0.15)
        else:
            right.text(
                0.5, 0.5, "no comparison", ha="center", va="center", color=_GREY, transform=right.transAxes
            )
            right.set_xticks([])
        right.set_yticks([])
    grid[0][0].set_title("value (dotted: floor or ceiling)")
    grid[0][1].set_title("Δ, right is better; band: keep")
    return _svg(figure, "Metric deltas with intervals against the margin band")


def _role_names(plots: Mapping[str, Any]) -> list[str]:
    return [r for r in ("candidate", "baseline") if isinstance((plots.get("models") or {}).get(r), Mapping)]


@_styled
def binary_curves(plots: Mapping[str, Any]) -> str | None:
    """ROC, precision-recall and reliability of both models, side by side."""
    models = plots.get("models") or {}
    roles = [r for r in _role_names(plots) if models[r].get("roc")]
    if not roles:
        return None
    figure = _figure(10.5, 3.6)
    roc, pr, cal = figure.subplots(1, 3)
    for role in roles:
        m, colour = models[role], _ROLE_COLOUR[role]
        roc.plot(m["roc"]["fpr"], m["roc"]["tpr"], color=colour, label=f"{role} AUC {_num(m.get('auc'))}")
        curve = m.get("pr") or {}
        pr.plot(
            curve.get("recall", []), curve.get("precision", []), color=colour,
            label=f"{role} AP {_num(m.get('average_precision'))}", drawstyle="steps-post",
        )  # fmt: skip
        _reliability(cal, m.get("calibration"), role, colour)
    roc.plot([0, 1], [0, 1], color=_GREY, linestyle=":", linewidth=1)
    roc.set(
        xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.02)
    )
    prevalence = models[roles[0]].get("prevalence")
    if _finite(prevalence):
        pr.axhline(float(prevalence), color=_GREY, linestyle=":", linewidth=1, label="no skill")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    cal.set(xlabel="mean predicted probability", ylabel="observed positive rate", title="Calibration")
    for axes in (roc, pr, cal):
        axes.legend(loc="lower right" if axes is not pr else "lower left", fontsize=8)
        axes.set_aspect("equal")
    return _svg(figure, "ROC, precision-recall and calibration curves of both models")


def _reliability(axes: Any, cal: Any, role: str, colour: str) -> None:
    if not isinstance(cal, Mapping) or not cal.get("predicted"):
        return
    axes.plot([0, 1], [0, 1], color=_GREY, linestyle=":", linewidth=1)
    count = [float(c) for c in cal.get("count") or []]
    largest = max(count) if count else 1.0
    sizes = [12 + 60 * c / largest for c in count] if len(count) == len(cal["predicted"]) else 20
    axes.plot(cal["predicted"], cal["observed"], color=colour, linewidth=1.2, label=role)
    axes.scatter(cal["predicted"], cal["observed"], s=sizes, color=colour, zorder=3)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)


@_styled
def calibration(plots: Mapping[str, Any]) -> str | None:
    """Top-label reliability (multiclass): confidence of the predicted class against its accuracy."""
    models = plots.get("models") or {}
    roles = [r for r in _role_names(plots) if models[r].get("calibration")]
    if not roles:
        return None
    figure = _figure(4.2, 3.8)
    axes = figure.add_subplot()
    for role in roles:
        _reliability(axes, models[role]["calibration"], role, _ROLE_COLOUR[role])
    axes.set(xlabel="confidence of the predicted class", ylabel="share predicted right", title="Calibration")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_aspect("equal")
    return _svg(figure, "Top-label calibration of both models")


@_styled
def score_distributions(plots: Mapping[str, Any]) -> str | None:
    """Per model, the score's distribution within each true class (a share of the class, so sizes compare)."""
    models = plots.get("models") or {}
    roles = [r for r in _role_names(plots) if models[r].get("scores")]
    classes = [str(c) for c in plots.get("classes") or []]
    if not roles:
        return None
    binary = plots.get("task") == "binary"
    figure = _figure(10.5, 2.9)
    panels = figure.subplots(1, len(roles), squeeze=False, sharey=True)[0]
    palette = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a", "#e16f24", "#1b7c83"]
    for axes, role in zip(panels, roles, strict=True):
        rows = models[role]["scores"]
        bins = len(rows[0]) if rows else 1
        edges = [i / bins for i in range(bins + 1)]
        for k, counts in enumerate(rows[:8]):
            total = sum(counts)
            if not total:
                continue
            name = classes[k] if k < len(classes) else str(k)
            colour = ([_GREY, "#8250df"] if binary else palette)[k % (2 if binary else len(palette))]
            axes.stairs([c / total for c in counts], edges, color=colour, linewidth=1.4, label=f"true {name}")
        axes.set(xlim=(0, 1), title=role)
        axes.set_xlabel("P(positive)" if binary else "probability given to the true class")
        axes.legend(loc="upper center", fontsize=8, ncols=min(len(rows), 4))
    panels[0].set_ylabel("share of the class")
    return _svg(figure, "Score distributions by true class, per model")


@_styled
def confusions(plots: Mapping[str, Any]) -> str | None:
    """Confusion matrices side by side, coloured by the share of each true class (row)."""
    models = plots.get("models") or {}
    roles = [r for r in _role_names(plots) if models[r].get("confusion")]
    if not roles:
        return None
    classes = [str(c)[:16] for c in plots.get("classes") or []]
    k = len(models[roles[0]]["confusion"])
    side = min(2.6 + 0.28 * k, 6.0)
    figure = _figure(side * len(roles) + 0.8, side)
    panels = figure.subplots(1, len(roles), squeeze=False)[0]
    image = None
    for axes, role in zip(panels, roles, strict=True):
        matrix = models[role]["confusion"]
        shares = [[c / (sum(r) or 1) for c in r] for r in matrix]
        # Vector cells (pcolormesh), not imshow: an image would be a raster embedded in the page.
        edges = [i - 0.5 for i in range(k + 1)]
        image = axes.pcolormesh(edges, edges, shares, cmap="Blues", vmin=0, vmax=1)
        axes.set_aspect("equal")
        axes.invert_yaxis()
        if k <= 12:
            for i, r in enumerate(matrix):
                for j, count in enumerate(r):
                    dark = shares[i][j] > 0.55
                    axes.text(j, i, f"{count:,}", ha="center", va="center", fontsize=8,
                              color="white" if dark else "#1f2328")  # fmt: skip
        ticks = classes if len(classes) == k else [str(i) for i in range(k)]
        axes.set_xticks(range(k), ticks, rotation=45 if k > 4 else 0)
        axes.set_yticks(range(k), ticks)
        axes.set(xlabel="predicted", ylabel="true", title=role)
    if image is not None:
        bar = figure.colorbar(image, ax=list(panels), shrink=0.8, label="share of true class")
        bar.solids.set_rasterized(False)  # matplotlib rasterizes the gradient; the page holds vectors only
    return _svg(figure, "Confusion matrices of both models side by side")


@_styled
def per_class(plots: Mapping[str, Any]) -> str | None:
    """F1 by class for both models (multiclass)."""
    models = plots.get("models") or {}
    roles = [r for r in _role_names(plots) if (models[r].get("per_class") or {}).get("f1")]
    classes = [str(c)[:24] for c in plots.get("classes") or []]
    if not roles or plots.get("task") != "multiclass":
        return None
    k = len(models[roles[0]]["per_class"]["f1"])
    figure = _figure(7.0, 0.2 * k * len(roles) + 1.0)
    axes = figure.add_subplot()
    height = 0.8 / len(roles)
    for i, role in enumerate(roles):
        f1 = models[role]["per_class"]["f1"]
        axes.barh(
            [j + i * height for j in range(len(f1))], f1, height=height, color=_ROLE_COLOUR[role], label=role
        )
    axes.set_yticks(
        [j + height * (len(roles) - 1) / 2 for j in range(k)], classes if len(classes) == k else range(k)
    )
    axes.invert_yaxis()
    axes.set(xlim=(0, 1.0), xlabel="F1", title="F1 by class")
    axes.legend(loc="lower right", fontsize=8)
    return _svg(figure, "F1 by class for both models")


@_styled
def regression(plots: Mapping[str, Any]) -> str | None:
    """Predicted against actual, residual distributions, residual quantiles."""
    sample, res = plots.get("sample") or {}, plots.get("residuals") or {}
    models = plots.get("models") or {}
    roles = [r for r in ("candidate", "baseline") if r in sample or r in (res.get("models") or {})]
    if not roles:
        return None
    figure = _figure(10.5, 3.6)
    scatter, hist, quant = figure.subplots(1, 3)
    actual = sample.get("actual") or []
    for role in roles:
        colour = _ROLE_COLOUR[role]
        if len(sample.get(role) or []) == len(actual):
            scatter.scatter(sample[role], actual, s=6, alpha=0.35, color=colour, linewidths=0)
        binned = (models.get(role) or {}).get("binned") or {}
        if binned.get("predicted"):
            scatter.plot(
                binned["predicted"], binned["actual"], color=colour, linewidth=1.6, label=f"{role} (binned)"
            )
        r = (res.get("models") or {}).get(role) or {}
        edges = res.get("edges") or []
        if r.get("counts") and len(edges) == len(r["counts"]) + 1:
            total = sum(r["counts"]) + int(r.get("below") or 0) + int(r.get("above") or 0)
            hist.stairs(
                [c / (total or 1) for c in r["counts"]], edges, color=colour, linewidth=1.4, label=role
            )
        levels = res.get("quantile_levels") or []
        if r.get("quantiles") and len(levels) == len(r["quantiles"]):
            quant.plot(levels, r["quantiles"], color=colour, marker=".", label=role)
    values = [v for v in actual if _finite(v)] + [
        v for role in roles for v in (sample.get(role) or []) if _finite(v)
    ]
    if values:
        low, high = min(values), max(values)
        scatter.plot([low, high], [low, high], color=_GREY, linestyle=":", linewidth=1)
    scatter.set(xlabel="predicted", ylabel="actual", title="Predicted against actual")
    hist.axvline(0, color=_GREY, linewidth=0.8)
    hist.set(xlabel="residual (actual − predicted)", ylabel="share of rows", title="Residuals")
    quant.axhline(0, color=_GREY, linewidth=0.8)
    quant.set(xlabel="quantile", ylabel="residual", title="Residual quantiles")
    for axes in (scatter, hist, quant):
        axes.legend(loc="best", fontsize=8)
    return _svg(figure, "Predicted against actual and the residuals of both models")


@_styled
def slices(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Per metric, each slice's Δ (or the candidate's value) with its interval; right is better for Δ."""
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        compared = _finite(r.get("delta")) and _drawable(r)
        alone = _finite(r.get("candidate")) and _drawable({"ci": r.get("candidate_ci")})
        if compared or alone:
            by_metric.setdefault(str(r.get("metric")), []).append(r)
    if not by_metric:
        return None
    heights = [len(v) for v in by_metric.values()]
    figure = _figure(7.6, 0.28 * sum(heights) + 0.9 * len(heights) + 0.3)
    panels = figure.subplots(len(heights), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for axes, (metric, items) in zip(panels, by_metric.items(), strict=True):
        for i, r in enumerate(items):
            if _finite(r.get("delta")):
                value, low, high = _oriented(r)
                colour = _GREEN if low > 0 else _RED if high < 0 else _GREY
            else:
                value = float(r["candidate"])
                low, high = sorted(float(x) for x in r["candidate_ci"])
                colour = _BLUE
            axes.errorbar([value], [i], xerr=[[max(value - low, 0)], [max(high - value, 0)]], fmt="o",
                          color=colour, capsize=3, markersize=4)  # fmt: skip
        compared = any(_finite(r.get("delta")) for r in items)
        if compared:
            axes.axvline(0, color=_GREY, linewidth=0.8)
        axes.set_yticks(
            range(len(items)), [f"{r.get('column')}={r.get('level')} (n={r.get('n')})" for r in items]
        )
        axes.set_ylim(len(items) - 0.5, -0.5)
        axes.set_title(
            f"{metric}: Δ candidate − baseline, right is better" if compared else f"{metric} (candidate)"
        )
    return _svg(figure, "Metrics by slice with intervals")


def _num(x: Any) -> str:
    return f"{float(x):.3f}" if _finite(x) else "—"


@_styled
def fairness(check: Mapping[str, Any]) -> str | None:
    """Per-group values with intervals, candidate and baseline side by side."""
    groups = [g for g in (check.get("details") or {}).get("groups", []) if _finite(g.get("candidate"))]
    if not groups:
        return None
    figure = _figure(7.0, 0.5 * len(groups) + 1.2)
    axes = figure.add_subplot()
    for i, group in enumerate(groups):
        for offset, side, colour in ((-0.15, "candidate", _BLUE), (0.15, "baseline", _ORANGE)):
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
