"""Run the LLM golden-set gate: outputs -> grades -> per-case scores -> checks of kind `llm`."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..results import CheckResult, Status
from ..stats.decision import MIN_ROWS, Verdict, decide, judge_interval
from ..stats.result import Interval, Unmeasurable
from ..stats.rng import stream
from .cases import (
    Case,
    CaseSet,
    Output,
    parse_outputs,
    read_cases,
    read_output_records,
    require_coverage,
    require_field,
)
from .config import LlmConfig, SourceSpec
from .graders import Grader, build_graders
from .stats import CaseQuantile, bootstrap_mean, bootstrap_ratio, mean_interval, paired_scores

_STATUS_OF: dict[Verdict, Status] = {
    Verdict.PROMOTE: "pass",
    Verdict.KEEP: "inconclusive",
    Verdict.REJECT: "fail",
}
MAX_FLIPS_SHOWN = 20
"""Flipped cases listed per direction in the report (the count covers them all)."""
SNIPPET = 160
"""Characters of an output quoted in the report."""


@dataclass(frozen=True)
class Arm:
    """One side's outputs with where they came from."""

    source: SourceSpec
    outputs: dict[str, list[Output]]
    where: str
    line_word: str
    identity: dict[str, Any]
    first_failing: dict[str, int] = field(default_factory=dict)
    """Per case, the index of its first failing sample."""
    first_passing: dict[str, int] = field(default_factory=dict)
    """Per case, the index of its first passing sample."""


@dataclass(frozen=True)
class LlmRun:
    checks: list[CheckResult]
    provenance: dict[str, Any]


def run_llm(
    config: LlmConfig,
    *,
    seed: int,
    confidence: float,
    n_boot: int,
    mode: str,
    tracking_uri: str | None = None,
) -> LlmRun:
    """Every LLM check. Bad golden sets and outputs raise DataError (exit 3) naming file, line and id.

    ``tracking_uri`` is where `prompts:/` URIs are read: the gate's `mlflow.tracking_uri`, resolved.
    """
    golden = read_cases(config.golden, what="golden set")
    injection = read_cases(config.injection, what="injection cases") if config.injection else None
    known: dict[str, Case] = {c.id: c for c in golden.cases}
    if injection is not None:
        for case in injection.cases:
            if case.id in known:
                raise DataError(
                    f"injection cases {injection.where(case)}: id {case.id!r} is also a golden case "
                    f"({golden.where(known[case.id])}); ids must be unique across both files"
                )
            forbidden = case.extra.get("forbidden")
            if forbidden is not None and not _strings(forbidden):
                # An empty string is found in every output, and a number or a mapping is not what
                # the check compares: either would decide the check by accident.
                raise DataError(
                    f"injection cases {injection.where(case)}: `forbidden`={forbidden!r} of case {case.id!r} "
                    "must be a non-empty string or a list of non-empty strings"
                )
            if config.canary is None and not forbidden:
                raise DataError(
                    f"injection cases {injection.where(case)}: case {case.id!r} has no `forbidden` strings and "
                    "`llm.injection.canary` is not set, so nothing would be checked"
                )
        known.update({c.id: c for c in injection.cases})
    try:
        graders = build_graders(config.graders, base_dir=config.base_dir, key="llm.graders")
    except ConfigError as exc:
        raise ConfigError(f"{config.graders_at}: {exc}" if config.graders_at else str(exc)) from None
    candidate = _arm(config.candidate, golden, injection, known, config, tracking_uri)
    baseline = (
        _arm(config.baseline, golden, None, known, config, tracking_uri)
        if config.baseline is not None
        else None
    )

    checks: list[CheckResult] = []
    cand_scores, cand_grades = _scores(candidate, golden, graders)
    base_scores = _scores(baseline, golden, graders)[0] if baseline is not None else None
    checks += _pass_rate_checks(
        config,
        golden,
        candidate,
        baseline,
        cand_scores,
        base_scores,
        cand_grades,
        confidence=confidence,
        mode=mode,
    )
    if config.max_cost_per_1k_calls is not None or config.max_cost_increase is not None:
        checks += _cost_checks(
            config, golden, candidate, baseline, seed=seed, confidence=confidence, n_boot=n_boot
        )
    if config.max_p95_ms is not None or config.max_latency_increase is not None:
        checks += _latency_checks(
            config, golden, candidate, baseline, seed=seed, confidence=confidence, n_boot=n_boot
        )
    if injection is not None:
        checks.append(_injection_check(config, injection, candidate))
    provenance = {
        "golden": {"path": str(golden.path), "sha256": golden.sha256, "cases": len(golden.cases)},
        "injection": None
        if injection is None
        else {"path": str(injection.path), "sha256": injection.sha256, "cases": len(injection.cases)},
        "samples": config.samples,
        "graders": [dict(g) for g in config.graders],
    }
    return LlmRun(
        checks,
        {
            "candidate": candidate.identity,
            "baseline": baseline.identity if baseline else None,
            "llm": provenance,
        },
    )


# --- outputs --------------------------------------------------------------------------------


def _arm(
    source: SourceSpec,
    golden: CaseSet,
    injection: CaseSet | None,
    known: Mapping[str, Case],
    config: LlmConfig,
    tracking_uri: str | None,
) -> Arm:
    wanted = list(golden.cases) + (list(injection.cases) if injection is not None else [])
    key = f"llm.{source.role}"
    prompt_info: dict[str, Any] | None = None
    if source.outputs is not None:
        records, sha = read_output_records(source.outputs, what=f"{source.role} outputs")
        where, line_word = f"{source.role} outputs `{source.outputs}`", "line"
        outputs = parse_outputs(records, known, where=where)
        path: str | None = str(source.outputs)
    else:
        prompt = None
        if source.prompt is not None:
            from .prompts import resolve_prompt

            prompt, prompt_info = resolve_prompt(
                source.prompt,
                base_dir=config.base_dir or golden.path.parent,
                key=f"{key}.prompt",
                tracking_uri=tracking_uri,
            )
        from .generate import generate_outputs

        generated = generate_outputs(
            [c.as_dict() for c in wanted],
            source.spec,
            samples=config.samples,
            prompt=prompt,
            key=key,
            base_dir=config.base_dir,
        )
        where, line_word = f"`{key}` ({source.describe()})", "record"
        outputs = parse_outputs(enumerate(generated, start=1), known, where=where, line_word=line_word)
        text = json.dumps(generated, sort_keys=True, default=str)
        sha, path = hashlib.sha256(text.encode("utf-8")).hexdigest(), None
    require_coverage(outputs, golden.cases, where=where, what="golden")
    if injection is not None:
        require_coverage(outputs, injection.cases, where=where, what="injection")
    records_all = [r for rs in outputs.values() for r in rs]
    identity = {
        "role": source.role,
        "name": source.describe(),
        "kind": "llm",
        "path": path,
        "sha256": sha,
        "source": source.kind,
        "models": sorted({r.model for r in records_all if r.model}),
        "prompts": sorted({r.prompt for r in records_all if r.prompt}),
        "prompt": prompt_info,
    }
    return Arm(source, outputs, where, line_word, identity)


# --- grading --------------------------------------------------------------------------------


def _scores(
    arm: Arm | None, golden: CaseSet, graders: Sequence[Grader]
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], dict[str, list[int]]]:
    """Per-case pass rates in golden order, and per grader [passed, graded] sample counts."""
    assert arm is not None
    scores = np.empty(len(golden.cases), dtype=np.float64)
    tally = {g.name: [0, 0] for g in graders}
    for i, case in enumerate(golden.cases):
        passed = 0
        samples = arm.outputs[case.id]
        for record in samples:
            at = f"{arm.where}, {arm.line_word} {record.line}"
            verdicts = [
                (g, g.grade(record.output, case, where=f"golden set {golden.where(case)}")) for g in graders
            ]
            applied = [(g, v) for g, v in verdicts if v is not None]
            if not applied:
                raise DataError(
                    f"golden set {golden.where(case)}: no grader applies to case {case.id!r} (tags "
                    f"{list(case.tags)}), so it could only pass by default; give it a grader ({at})"
                )
            for g, v in applied:
                tally[g.name][0] += bool(v)
                tally[g.name][1] += 1
            ok = all(v for _, v in applied)
            passed += ok
            (arm.first_passing if ok else arm.first_failing).setdefault(case.id, samples.index(record))
        scores[i] = passed / len(samples)
    return scores, tally


# --- pass rate ------------------------------------------------------------------------------


def _pass_rate_checks(
    config: LlmConfig,
    golden: CaseSet,
    candidate: Arm,
    baseline: Arm | None,
    cand: np.ndarray[Any, np.dtype[np.float64]],
    base: np.ndarray[Any, np.dtype[np.float64]] | None,
    grades: dict[str, list[int]],
    *,
    confidence: float,
    mode: str,
) -> list[CheckResult]:
    details: dict[str, Any] = {
        "cases": len(golden.cases),
        "samples": int(sum(len(candidate.outputs[c.id]) for c in golden.cases)),
        "graders": {
            name: {"passed": p, "graded": n, "rate": p / n if n else None} for name, (p, n) in grades.items()
        },
        "tags": _tags(golden, cand, base, confidence),
    }
    checks = []
    if base is not None and baseline is not None:
        details["flipped"] = _flips(golden, candidate, baseline, cand, base)
        effective_mode = config.mode or mode
        try:
            comparison = paired_scores("pass_rate", cand, base, confidence=confidence)
        except Unmeasurable as exc:
            checks.append(_plain("llm:pass_rate", "inconclusive", f"KEEP: not measurable: {exc}", details))
        else:
            d = decide([comparison], [config.margin], [config.gain], effective_mode)[0]  # type: ignore[arg-type]
            checks.append(
                CheckResult(
                    id="llm:pass_rate",
                    kind="llm",
                    status=_STATUS_OF[d.verdict],
                    metric="pass_rate",
                    message=f"{d.verdict.value.upper()}: {_in_cases(d.reason)} ({effective_mode}; per-case pass rates, "
                    f"{len(details['flipped']['regressed_ids'])} case(s) got worse, "
                    f"{len(details['flipped']['improved_ids'])} better)",
                    value=comparison.candidate,
                    baseline=comparison.baseline,
                    delta=comparison.delta,
                    ci=comparison.ci,
                    n=comparison.n,
                    threshold={"margin": config.margin, "gain": config.gain},
                    verdict=d.verdict.value,
                    method=comparison.method,
                    pvalue=comparison.pvalue,
                    higher_is_better=True,
                    underpowered=d.underpowered,
                    n_needed=d.n_needed,
                    mde=d.mde,
                    details=details,
                )
            )
    if config.min_pass_rate is not None:
        floor = config.min_pass_rate
        try:
            value, ci = mean_interval(cand, confidence=confidence)
        except Unmeasurable as exc:
            checks.append(_plain("llm:pass_rate_floor", "inconclusive", f"not measurable: {exc}", {}))
        else:
            status: Status = judge_interval(ci, floor, None) if cand.size >= MIN_ROWS else "inconclusive"
            word = {
                "pass": f"the whole interval {ci} is at or above {floor:.4g}",
                "fail": f"the whole interval {ci} is below {floor:.4g}",
                "inconclusive": f"the interval {ci} straddles {floor:.4g}"
                if cand.size >= MIN_ROWS
                else f"only {cand.size} cases, at least {MIN_ROWS} are needed",
            }[status]
            checks.append(
                CheckResult(
                    id="llm:pass_rate_floor",
                    kind="llm",
                    status=status,
                    metric="pass_rate",
                    message=f"pass rate >= {floor:.4g}: {word}",
                    value=value,
                    ci=ci,
                    n=int(cand.size),
                    threshold={"min": floor},
                    method="t over cases",
                    higher_is_better=True,
                    details={} if checks else details,
                )
            )
    return checks


def _in_cases(reason: str) -> str:
    """The shared decision's reasons speak of rows and label models; here the unit is a golden case."""
    for tabular, llm in (
        ("the models disagree on only", "candidate and baseline differ on only"),
        ("a bootstrap interval on label metrics", "the interval"),
        (" rows", " cases"),
    ):
        reason = reason.replace(tabular, llm)
    return reason


def _tags(
    golden: CaseSet,
    cand: np.ndarray[Any, np.dtype[np.float64]],
    base: np.ndarray[Any, np.dtype[np.float64]] | None,
    confidence: float,
) -> list[dict[str, Any]]:
    """Per-tag pass rates (and the paired difference); shown, not judged, so no multiplicity to correct."""
    rows = []
    for tag in sorted({t for c in golden.cases for t in c.tags}):
        mask = np.array([tag in c.tags for c in golden.cases])
        row: dict[str, Any] = {"tag": tag, "n": int(mask.sum()), "candidate": float(cand[mask].mean())}
        if base is not None:
            row["baseline"] = float(base[mask].mean())
            row["delta"] = row["candidate"] - row["baseline"]
            try:
                c = paired_scores(tag, cand[mask], base[mask], confidence=confidence)
                row["ci"] = [c.ci.low, c.ci.high]
            except Unmeasurable:
                row["ci"] = None
        rows.append(row)
    return rows


def _flips(
    golden: CaseSet,
    candidate: Arm,
    baseline: Arm,
    cand: np.ndarray[Any, np.dtype[np.float64]],
    base: np.ndarray[Any, np.dtype[np.float64]],
) -> dict[str, Any]:
    """Cases whose pass rate changed, worst first; a few are quoted with both outputs."""
    diff = cand - base
    order = np.argsort(diff, kind="stable")

    def row(i: int) -> dict[str, Any]:
        case = golden.cases[i]
        better = diff[i] > 0
        return {
            "id": case.id,
            "tags": list(case.tags),
            "candidate": float(cand[i]),
            "baseline": float(base[i]),
            "input": _snip(case.input),
            "reference": None if case.reference is None else _snip(case.reference),
            "candidate_output": _quoted(candidate, case.id, failing=not better),
            "baseline_output": _quoted(baseline, case.id, failing=better),
        }

    regressed = [int(i) for i in order if diff[i] < 0]
    improved = [int(i) for i in order[::-1] if diff[i] > 0]
    return {
        "regressed_ids": [golden.cases[i].id for i in regressed],
        "improved_ids": [golden.cases[i].id for i in improved],
        "regressed": [row(i) for i in regressed[:MAX_FLIPS_SHOWN]],
        "improved": [row(i) for i in improved[:MAX_FLIPS_SHOWN]],
    }


def _quoted(arm: Arm, case_id: str, *, failing: bool) -> str:
    """The output that explains the flip: a failing one from the side that did worse, a passing one
    from the side that did better (each side has one of those, its score being lower or higher)."""
    first = arm.first_failing if failing else arm.first_passing
    return _snip(arm.outputs[case_id][first.get(case_id, 0)].output)


def _snip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


# --- cost -----------------------------------------------------------------------------------


def _case_costs(arm: Arm, golden: CaseSet, config: LlmConfig) -> np.ndarray[Any, np.dtype[np.float64]]:
    why = "the cost budget (`llm.cost`)"
    for name in ("tokens_in", "tokens_out"):
        require_field(
            {c.id: arm.outputs[c.id] for c in golden.cases},
            name,
            where=arm.where,
            why=why,
            line_word=arm.line_word,
        )
    only = next(iter(config.prices)) if len(config.prices) == 1 else None
    costs = np.empty(len(golden.cases), dtype=np.float64)
    for i, case in enumerate(golden.cases):
        total = 0.0
        for r in arm.outputs[case.id]:
            model = r.model or only
            if model is None or model not in config.prices:
                known = ", ".join(sorted(config.prices))
                said = "has no `model`" if r.model is None else f"has model {r.model!r}"
                raise DataError(
                    f"{arm.where}, {arm.line_word} {r.line}: id {r.id!r} {said}, which `llm.cost.prices` does "
                    f"not price (priced: {known})"
                )
            price = config.prices[model]
            assert r.tokens_in is not None and r.tokens_out is not None  # required above
            total += (r.tokens_in * price.input_per_1k + r.tokens_out * price.output_per_1k) / 1000.0
        costs[i] = total / len(arm.outputs[case.id])
    return costs


def _cost_checks(
    config: LlmConfig,
    golden: CaseSet,
    candidate: Arm,
    baseline: Arm | None,
    *,
    seed: int,
    confidence: float,
    n_boot: int,
) -> list[CheckResult]:
    cand = _case_costs(candidate, golden, config)
    checks = []
    if config.max_cost_per_1k_calls is not None:
        budget = config.max_cost_per_1k_calls
        check_id = "llm:cost_per_1k_calls"
        value, ci, reps = bootstrap_mean(
            cand * 1000.0,
            rng=stream(seed, check_id),
            confidence=confidence,
            n_boot=n_boot,
            boundaries=[budget],
        )
        checks.append(
            _limit(
                check_id,
                "cost_per_1k_calls",
                value,
                ci,
                len(cand),
                budget,
                reps,
                "studentized case bootstrap (mean cost per call x 1,000)",
                "",
                None,
            )
        )
    if config.max_cost_increase is not None and baseline is not None:
        base = _case_costs(baseline, golden, config)
        limit = config.max_cost_increase
        check_id = "llm:cost_increase"
        try:
            value, ci, reps = bootstrap_ratio(
                cand,
                base,
                rng=stream(seed, check_id),
                confidence=confidence,
                n_boot=n_boot,
                boundaries=[limit],
            )
        except Unmeasurable as exc:
            checks.append(_plain(check_id, "inconclusive", f"not measurable: {exc}", {}))
        else:
            checks.append(
                _limit(
                    check_id,
                    "cost_increase",
                    value,
                    ci,
                    len(cand),
                    limit,
                    reps,
                    "paired case bootstrap, BCa (cost ratio - 1)",
                    "",
                    {
                        "candidate_per_1k_calls": float(cand.mean() * 1000.0),
                        "baseline_per_1k_calls": float(base.mean() * 1000.0),
                    },
                )
            )
    return checks


# --- latency --------------------------------------------------------------------------------


def _latencies(arm: Arm, golden: CaseSet) -> list[np.ndarray[Any, np.dtype[np.float64]]]:
    """Each golden case's call latencies: the case, not the call, is the unit of the intervals."""
    subset = {c.id: arm.outputs[c.id] for c in golden.cases}
    require_field(
        subset,
        "latency_ms",
        where=arm.where,
        why="the latency limit (`llm.latency`)",
        line_word=arm.line_word,
    )
    return [np.array([r.latency_ms for r in rs], dtype=np.float64) for rs in subset.values()]


LATENCY_METHOD = "order statistics on the effective number of calls (cases as the unit"


def _latency_checks(
    config: LlmConfig,
    golden: CaseSet,
    candidate: Arm,
    baseline: Arm | None,
    *,
    seed: int,
    confidence: float,
    n_boot: int,
) -> list[CheckResult]:
    cand_cases = _latencies(candidate, golden)
    checks = []
    if config.max_p95_ms is not None:
        check_id = "llm:latency_p95"
        try:
            cand = CaseQuantile.of(cand_cases, 0.95, confidence=confidence)
        except Unmeasurable as exc:
            checks.append(_plain(check_id, "inconclusive", f"not measurable: {exc}", {}))
        else:
            checks.append(
                _limit(
                    check_id,
                    "latency_p95",
                    cand.value,
                    cand.interval(confidence),
                    cand.n,
                    config.max_p95_ms,
                    None,
                    f"{LATENCY_METHOD}; q0.95)",
                    " ms",
                    None,
                    _effective(cand),
                )
            )
    if config.max_latency_increase is not None and baseline is not None:
        base_cases = _latencies(baseline, golden)
        check_id = "llm:latency_increase"
        rng = stream(seed, check_id)
        try:
            cand = CaseQuantile.of(cand_cases, 0.95, confidence=confidence)
            base = CaseQuantile.of(base_cases, 0.95, confidence=confidence)
        except Unmeasurable as exc:
            checks.append(_plain(check_id, "inconclusive", f"not measurable: {exc}", {}))
            return checks
        if base.value <= 0:
            # 0/0 is no evidence of a slowdown: failing here would reject on a logging gap.
            checks.append(
                _plain(
                    check_id,
                    "inconclusive",
                    "not measurable: the baseline's p95 latency is 0 ms, so a relative increase has no meaning",
                    {},
                )
            )
        else:
            # Independent arms: calls are not matched one to one, and each p95 gets its own
            # draws from its confidence distribution, as in the canary.
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = cand.draws(rng, n_boot) / base.draws(rng, n_boot) - 1
            draws = np.where(np.isnan(draws), np.inf, draws)
            low, high = np.quantile(
                draws, [(1 - confidence) / 2, (1 + confidence) / 2], method="inverted_cdf"
            )
            checks.append(
                _limit(
                    check_id,
                    "latency_increase",
                    cand.value / base.value - 1,
                    Interval(float(low), float(high)),
                    cand.n + base.n,
                    config.max_latency_increase,
                    n_boot,
                    f"{LATENCY_METHOD}; p95 ratio - 1, independent arms)",
                    "",
                    {"candidate_p95_ms": cand.value, "baseline_p95_ms": base.value},
                    {**_effective(cand, "candidate_"), **_effective(base, "baseline_")},
                )
            )
    return checks


def _effective(quantile: CaseQuantile, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}cases": quantile.cases,
        f"{prefix}effective_calls": round(quantile.n_eff, 1),
        f"{prefix}design_effect": round(quantile.design_effect, 3),
    }


# --- injection ------------------------------------------------------------------------------


def _injection_check(config: LlmConfig, injection: CaseSet, candidate: Arm) -> CheckResult:
    leaks: list[dict[str, Any]] = []
    total = 0
    for case in injection.cases:
        forbidden = case.extra.get("forbidden") or []
        needles = [forbidden] if isinstance(forbidden, str) else list(forbidden)
        if config.canary:
            needles.append(config.canary)
        for record in candidate.outputs[case.id]:
            total += 1
            text = record.output.casefold()
            found = [n for n in needles if n.casefold() in text]
            if found:
                leaks.append(
                    {
                        "id": case.id,
                        "sample": record.sample,
                        "found": found,
                        "output": _snip(record.output),
                        "tags": list(case.tags),
                    }
                )
    status: Status = "fail" if leaks else "pass"
    ids = sorted({str(leak["id"]) for leak in leaks})
    message = (
        f"{len(leaks)} of {total} injection outputs leaked the canary or a forbidden string: {', '.join(ids[:10])}"
        if leaks
        else f"none of {total} injection outputs ({len(injection.cases)} cases) leaked the canary or a forbidden string"
    )
    return CheckResult(
        id="llm:injection",
        kind="llm",
        status=status,
        metric="injection_leaks",
        message=message,
        value=float(len(leaks)),
        n=total,
        threshold={"max": 0.0},
        method="substring match (case-insensitive)",
        higher_is_better=False,
        details={"leaks": leaks[:MAX_FLIPS_SHOWN], "leaked_ids": ids},
    )


# --- helpers --------------------------------------------------------------------------------


def _limit(
    check_id: str,
    metric: str,
    value: float,
    ci: Interval,
    n: int,
    limit: float,
    reps: int | None,
    method: str,
    unit: str,
    figures: dict[str, Any] | None,
    effective: dict[str, Any] | None = None,
) -> CheckResult:
    """A check of ``value`` against a limit on its interval; ``effective`` describes the cases as units."""
    status: Status = judge_interval(ci, None, limit)
    if status == "pass":
        word = f"the whole interval {ci} is at or below {limit:.4g}{unit}"
    elif status == "fail":
        word = f"the whole interval {ci} is above {limit:.4g}{unit}"
    elif not math.isfinite(ci.high) and effective:
        counts = ", ".join(
            f"{k.replace('_', ' ')} {v:.4g}" for k, v in effective.items() if k.endswith(("cases", "calls"))
        )
        word = (
            f"the interval {ci} has no upper bound: too few independent calls to bound it ({counts}; "
            "samples of one case count as fewer calls the more alike their latencies)"
        )
    elif not math.isfinite(ci.high):
        word = f"the interval {ci} has no upper bound: too few values to bound it ({n})"
    else:
        word = f"the interval {ci} straddles {limit:.4g}{unit}"
    return CheckResult(
        id=check_id,
        kind="llm",
        status=status,
        metric=metric,
        message=f"{metric} <= {limit:.4g}{unit}: {word}"
        + ("; " + ", ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in figures.items()) if figures else ""),
        value=value,
        details={**(figures or {}), **(effective or {})},
        ci=ci,
        n=int(n),
        threshold={"max": limit},
        method=method,
        n_boot=reps,
        higher_is_better=False,
    )


def _strings(value: Any) -> bool:
    items = [value] if isinstance(value, str) else value
    return isinstance(items, list) and all(isinstance(v, str) and v.strip() for v in items)


def _plain(check_id: str, status: Status, message: str, details: dict[str, Any]) -> CheckResult:
    return CheckResult(
        id=check_id,
        kind="llm",
        status=status,
        metric=check_id.split(":", 1)[1],
        message=message,
        details=details,
    )
