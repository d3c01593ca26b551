"""Analyses of production logs: canary, shadow, A/B test and live monitoring.

Each reads the prediction log named in a live config (``mlgate-live.yaml``) and
returns a ``GateReport`` whose ``analysis`` and ``verdict`` say what was judged
and how; ``decision`` carries the gate equivalent (promote, keep or reject), so
the JSON, Markdown and HTML reports and the Actions glue work unchanged.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..results import GateReport
    from .config import LiveConfig


ANALYSES = ("canary", "shadow", "abtest", "monitor")


def run_analysis(analysis: str, config: LiveConfig, **options: Any) -> GateReport:
    """Run ``canary``, ``shadow``, ``abtest`` or ``monitor`` on ``config``.

    ``options``: ``since``/``until`` for canary, ``days``/``now`` for monitor.
    """
    if analysis not in ANALYSES:
        raise ValueError(f"`analysis`={analysis!r} must be one of {', '.join(ANALYSES)}")
    module = importlib.import_module(f".{analysis}", __name__)
    report: GateReport = module.analyse(config, **options)
    return report
