"""The `llm:` config section: its keys (for the validator and the JSON Schema) and its parsed form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import Key
from ..errors import ConfigError

_SOURCE = {
    "outputs": Key(
        "string", "JSON lines of output records (id, output, sample, tokens_in, tokens_out, ...)."
    ),
    "function": Key("string", "A local `module:function` that answers one input (see docs/llm.md)."),
    "openai": Key(
        "object",
        "An OpenAI-compatible Chat Completions endpoint: base_url, model, api_key_env, temperature, ...",
    ),
    "prompt": Key("string", "Prompt file, or `prompts:/name@alias` from MLflow's prompt registry."),
    "name": Key("string", "Identity shown in the report."),
}

_GRADER = {
    "kind": Key(
        "string",
        "What the grader checks.",
        required=True,
        enum=("exact", "normalized", "contains", "regex", "json_schema", "numeric", "refusal", "callable"),
    ),
    "name": Key("string", "Name in the report (default: the kind); needed when a kind repeats."),
    "tags": Key("array", "Apply only to cases with one of these tags.", items="string"),
    "strip": Key("boolean", "exact: ignore leading and trailing whitespace.", default=True),
    "text": Key("string", "contains: the text to find (default: the case's reference)."),
    "case_sensitive": Key("boolean", "contains and regex: match case."),
    "pattern": Key("string", "regex: the pattern (searched, or `fullmatch`)."),
    "fullmatch": Key("boolean", "regex: the whole stripped output must match.", default=False),
    "atol": Key("number", "numeric: absolute tolerance.", minimum=0, default=0.0),
    "rtol": Key("number", "numeric: relative tolerance.", minimum=0, default=0.0),
    "expect": Key("string", "refusal: what the output must do.", enum=("refuse", "answer"), default="refuse"),
    "patterns": Key("array", "refusal: regular expressions that mark a refusal.", items="string"),
    "function": Key("string", "callable: `module:function(output, case) -> bool | score in [0, 1]`."),
    "threshold": Key(
        "number", "callable: score at or above which the output passes.", minimum=0, maximum=1, default=0.5
    ),
}

LLM_KEY = Key(
    "object",
    "An LLM application judged on a golden set: graders, a paired pass-rate comparison, cost, latency "
    "and prompt injection (see docs/llm.md).",
    children={
        "golden": Key("string", "Golden cases (JSONL or CSV): id, input, reference, tags.", required=True),
        "candidate": Key(
            "object", "The candidate's outputs, or how to produce them.", required=True, children=_SOURCE
        ),
        "baseline": Key(
            "object", "The production application's outputs, or how to produce them.", children=_SOURCE
        ),
        "samples": Key("integer", "Samples per case when generating.", minimum=1, default=1),
        "graders": Key(
            "array",
            "Graders (`kind`: exact, normalized, contains, regex, json_schema, numeric, refusal, callable); "
            "a sample passes when every grader that applies passes.",
            required=True,
            items="object",
        ),
        "compare": Key(
            "object",
            "The paired comparison of per-case pass rates.",
            children={
                "margin": Key(
                    "number", "Tolerated drop of the pass rate.", minimum=0, maximum=1, default=0.0
                ),
                "gain": Key(
                    "number", "Required rise of the pass rate to promote.", minimum=0, maximum=1, default=0.0
                ),
                "mode": Key(
                    "string", "Overrides the gate's `mode`.", enum=("superiority", "non-inferiority")
                ),
                "min": Key(
                    "number", "Floor on the candidate's pass rate (on its interval).", minimum=0, maximum=1
                ),
            },
        ),
        "cost": Key(
            "object",
            "Cost per call from token counts and prices.",
            children={
                "prices": Key(
                    "object",
                    "Model name (the records' `model`) -> prices.",
                    required=True,
                    values=Key(
                        "object",
                        "Prices per 1,000 tokens.",
                        children={
                            "input_per_1k": Key(
                                "number", "Price per 1,000 input tokens.", required=True, minimum=0
                            ),
                            "output_per_1k": Key(
                                "number", "Price per 1,000 output tokens.", required=True, minimum=0
                            ),
                        },
                    ),
                ),
                "max_cost_per_1k_calls": Key("number", "Budget per 1,000 calls (upper bound).", minimum=0),
                "max_cost_increase": Key("scalar", "Largest cost rise over the baseline: `10%` or 0.1."),
            },
        ),
        "latency": Key(
            "object",
            "Latency of calls (`latency_ms`).",
            children={
                "max_p95_ms": Key("number", "Limit on the p95 latency (upper bound).", minimum=0),
                "max_increase": Key("scalar", "Largest p95 rise over the baseline: `20%` or 0.2."),
            },
        ),
        "injection": Key(
            "object",
            "Adversarial cases whose outputs must not leak the canary or a case's `forbidden` strings.",
            children={
                "cases": Key(
                    "string", "Injection cases (JSONL or CSV): id, input, optional forbidden.", required=True
                ),
                "canary": Key("string", "A secret planted in the prompt; any output holding it fails."),
            },
        ),
    },
)


@dataclass(frozen=True)
class SourceSpec:
    role: str
    kind: Literal["outputs", "function", "openai"]
    spec: Mapping[str, Any]
    """The config mapping (without `prompt` and `name`), as the generator receives it."""
    outputs: Path | None = None
    prompt: str | None = None
    name: str | None = None

    def describe(self) -> str:
        if self.name:
            return self.name
        if self.outputs is not None:
            return self.outputs.name
        if self.kind == "function":
            return str(self.spec["function"])
        return f"openai:{(self.spec.get('openai') or {}).get('model', '?')}"


@dataclass(frozen=True)
class Price:
    input_per_1k: float
    output_per_1k: float


@dataclass(frozen=True)
class LlmConfig:
    golden: Path
    candidate: SourceSpec
    baseline: SourceSpec | None
    graders: tuple[Mapping[str, Any], ...]
    samples: int = 1
    margin: float = 0.0
    gain: float = 0.0
    mode: Literal["superiority", "non-inferiority"] | None = None
    min_pass_rate: float | None = None
    prices: Mapping[str, Price] = field(default_factory=dict)
    max_cost_per_1k_calls: float | None = None
    max_cost_increase: float | None = None
    max_p95_ms: float | None = None
    max_latency_increase: float | None = None
    injection: Path | None = None
    canary: str | None = None
    base_dir: Path | None = None
    graders_at: str = ""
    """Where `llm.graders` is in the config file, for errors found when the graders are built."""


def build_llm(
    raw: Mapping[str, Any], *, base_dir: Path, lines: Mapping[tuple[str, ...], int], where: str
) -> LlmConfig:
    """The parsed section; the schema has already checked types and names."""
    from ..config import validate_mapping, where_is

    def resolve(p: str) -> Path:
        return Path(p) if Path(p).is_absolute() else (base_dir / p).resolve()

    def at(*path: str) -> str:
        return where_is(("llm", *path), lines, where)

    def source(role: str) -> SourceSpec | None:
        spec = raw.get(role)
        if spec is None:
            return None
        given = [k for k in ("outputs", "function", "openai") if k in spec]
        if len(given) != 1:
            raise ConfigError(
                f"{at(role)}: `llm.{role}` must name exactly one of `outputs`, `function` or `openai`"
                + (f"; got {', '.join(given)}" if given else "")
            )
        kind = given[0]
        if kind == "function" and ":" not in spec["function"]:
            raise ConfigError(
                f"{at(role, 'function')}: `llm.{role}.function`={spec['function']!r} must look like 'module:function'"
            )
        if kind == "outputs" and "prompt" in spec:
            raise ConfigError(
                f"{at(role, 'prompt')}: `llm.{role}.prompt` applies to a `function` or `openai` source; "
                "an outputs file records its prompt in each record's `prompt`"
            )
        return SourceSpec(
            role=role,
            kind=kind,  # type: ignore[arg-type]  # one of the three, checked above
            spec={k: v for k, v in spec.items() if k not in ("prompt", "name")},
            outputs=resolve(spec["outputs"]) if kind == "outputs" else None,
            prompt=spec.get("prompt"),
            name=spec.get("name"),
        )

    graders = raw["graders"]
    if not graders:
        raise ConfigError(f"{at('graders')}: `llm.graders` must list at least one grader")
    for i, grader in enumerate(graders):
        options = {k: v for k, v in grader.items() if k != "schema"}
        validate_mapping(options, _GRADER, {}, f"{at('graders')}, `llm.graders[{i}]`")
        if grader["kind"] == "json_schema" and "schema" not in grader:
            raise ConfigError(
                f"{at('graders')}: `llm.graders[{i}].schema` is required for a json_schema grader"
            )
        if "schema" in grader and grader["kind"] != "json_schema":
            raise ConfigError(
                f"{at('graders')}: `llm.graders[{i}].schema` only applies to a json_schema grader"
            )
    compare = raw.get("compare") or {}
    cost = raw.get("cost") or {}
    latency = raw.get("latency") or {}
    injection = raw.get("injection") or {}
    candidate = source("candidate")
    assert candidate is not None  # required by the schema
    baseline = source("baseline")
    if baseline is None:
        for key, section in (("max_cost_increase", cost), ("max_increase", latency)):
            if key in section:
                name = "cost" if section is cost else "latency"
                raise ConfigError(
                    f"{at(name, key)}: `llm.{name}.{key}` needs an `llm.baseline` to compare with"
                )
    if baseline is None and compare.get("min") is None:
        raise ConfigError(
            f"{at()}: `llm` has nothing to judge the pass rate against: give an `llm.baseline` "
            "or a floor `llm.compare.min`"
        )
    if injection and "canary" in injection and not str(injection["canary"]).strip():
        # An empty canary is in every output; treating it as unset would check nothing instead.
        raise ConfigError(
            f"{at('injection', 'canary')}: `llm.injection.canary` must not be empty: plant a secret "
            "string in the prompt, or leave the key out and give each case `forbidden` strings"
        )
    if cost and "max_cost_per_1k_calls" not in cost and "max_cost_increase" not in cost:
        raise ConfigError(
            f"{at('cost')}: `llm.cost` has nothing to judge: give `max_cost_per_1k_calls` or `max_cost_increase`"
        )
    return LlmConfig(
        golden=resolve(raw["golden"]),
        candidate=candidate,
        baseline=baseline,
        graders=tuple(dict(g) for g in graders),
        samples=int(raw.get("samples", 1)),
        margin=float(compare.get("margin", 0.0)),
        gain=float(compare.get("gain", 0.0)),
        mode=compare.get("mode"),
        min_pass_rate=None if compare.get("min") is None else float(compare["min"]),
        prices={
            str(model): Price(float(p["input_per_1k"]), float(p["output_per_1k"]))
            for model, p in (cost.get("prices") or {}).items()
        },
        max_cost_per_1k_calls=None
        if cost.get("max_cost_per_1k_calls") is None
        else float(cost["max_cost_per_1k_calls"]),
        max_cost_increase=_share(cost.get("max_cost_increase"), "llm.cost.max_cost_increase", at("cost")),
        max_p95_ms=None if latency.get("max_p95_ms") is None else float(latency["max_p95_ms"]),
        max_latency_increase=_share(latency.get("max_increase"), "llm.latency.max_increase", at("latency")),
        injection=resolve(injection["cases"]) if injection else None,
        canary=injection.get("canary") if injection else None,
        base_dir=base_dir,
        graders_at=at("graders"),
    )


def _share(value: Any, key: str, at: str) -> float | None:
    """`10%` or 0.1 -> 0.1."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        share = math.nan
    if isinstance(value, bool) or not math.isfinite(share) or share < 0:
        raise ConfigError(f"{at}: `{key}`={value!r} must be a share >= 0, like `10%` or 0.1")
    return share
