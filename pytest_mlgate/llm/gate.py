"""The LLM gate inside the gate: `task: llm` on its own, or an `llm:` section beside a tabular gate."""

from __future__ import annotations

from typing import Any

from ..config import GateConfig
from ..gate import _aggregate, run_provenance
from ..lineage import add_lineage
from ..results import CheckResult, GateReport
from .run import LlmRun, run_llm


def _run(config: GateConfig) -> LlmRun:
    assert config.llm is not None  # the caller checked
    return run_llm(
        config.llm,
        seed=config.seed,
        confidence=config.confidence,
        n_boot=config.n_boot,
        mode=config.mode,
        # `prompts:/` URIs are read where the config says the registry is, like `models:/` sources.
        tracking_uri=config.tracking_uri(),
    )


def llm_checks(config: GateConfig, checks: list[CheckResult]) -> dict[str, Any]:
    """Append the LLM checks to a tabular gate's ``checks``; return their provenance."""
    run = _run(config)
    checks += run.checks
    return {
        **run.provenance["llm"],
        "candidate": run.provenance["candidate"],
        "baseline": run.provenance["baseline"],
    }


def run_llm_gate(config: GateConfig) -> GateReport:
    """`task: llm`: the golden set is the data; candidate and baseline are the LLM applications."""
    run = _run(config)
    assert config.llm is not None
    golden = run.provenance["llm"]["golden"]
    decision, summary = _aggregate(run.checks, has_baseline=config.llm.baseline is not None)
    return GateReport(
        decision=decision,
        mode=config.llm.mode or config.mode,
        confidence=config.confidence,
        seed=config.seed,
        fail_on=config.fail_on,
        checks=tuple(run.checks),
        # With `task: llm` the config's `data` is the golden set, so its DVC record has the role `data`.
        provenance=add_lineage(
            config,
            {
                "candidate": run.provenance["candidate"],
                "baseline": run.provenance["baseline"],
                "data": {
                    "path": golden["path"],
                    "sha256": golden["sha256"],
                    "rows": golden["cases"],
                    "target": "reference",
                },
                "task": "llm",
                "classes": [],
                **run_provenance(config),
                "llm": run.provenance["llm"],
            },
        ),
        summary=summary,
    )
