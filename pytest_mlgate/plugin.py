"""pytest glue: options, markers, fixtures and hooks only.

Without ``--mlgate`` this module registers options, markers and fixtures and
does nothing else: numpy, scipy and pandas are imported only when the gate or
a helper runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from types import SimpleNamespace

    from .golden import GoldenStore, UpdateMode
    from .results import GateReport
    from .session import GateSession

from .options import FAIL_ON_CHOICES, SESSION_KEY, option

_GOLDEN_STORES = pytest.StashKey[dict[Path, "GoldenStore"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlgate", "model quality gate (pytest-mlgate)")
    options: list[tuple[str, str, dict[str, Any], str]] = [
        ("--mlgate", "mlgate", {"action": "store_true", "default": None}, "bool"),
        ("--mlgate-config", "mlgate_config", {"metavar": "PATH"}, "string"),
        ("--mlgate-report", "mlgate_report", {"metavar": "PATH"}, "string"),
        ("--mlgate-seed", "mlgate_seed", {"metavar": "INT", "type": int}, "string"),
        ("--mlgate-fail-on", "mlgate_fail_on", {"choices": FAIL_ON_CHOICES}, "string"),
        ("--mlgate-update", "mlgate_update", {"action": "store_true", "default": None}, "bool"),
        (
            "--mlgate-update-new-only",
            "mlgate_update_new_only",
            {"action": "store_true", "default": None},
            "bool",
        ),
        ("--mlgate-force-update", "mlgate_force_update", {"action": "store_true", "default": None}, "bool"),
        ("--mlgate-artifacts", "mlgate_artifacts", {"metavar": "DIR"}, "string"),
        ("--mlgate-no-log", "mlgate_no_log", {"action": "store_true", "default": None}, "bool"),
        ("--mlgate-html", "mlgate_html", {"metavar": "PATH"}, "string"),
        ("--mlgate-no-plots", "mlgate_no_plots", {"action": "store_true", "default": None}, "bool"),
    ]
    helps = {
        "mlgate": "run the model gate declared in mlgate.yaml (or [tool.mlgate] in pyproject.toml)",
        "mlgate_config": "gate config file (default: mlgate.yaml, mlgate.yml or pyproject.toml in rootdir)",
        "mlgate_report": "where to write the JSON report (default: the config's report.path)",
        "mlgate_seed": "seed for every bootstrap stream (default: the config's seed, else 0)",
        "mlgate_fail_on": "which decision fails the run: reject (default), keep or never",
        "mlgate_update": "write golden files from the current model (and pass)",
        "mlgate_update_new_only": "write only the golden files that do not exist yet",
        "mlgate_force_update": "allow golden updates even when CI=true",
        "mlgate_artifacts": "where failed golden checks write obtained outputs and diffs (default: .mlgate-artifacts)",
        "mlgate_html": "also write the self-contained HTML report (plots: the `plots` extra) here",
        "mlgate_no_plots": "leave the report's `plots` section (the HTML figures) out (config: report.plots)",
        "mlgate_no_log": "do not log the report to the candidate's MLflow run and version (config: mlflow.log)",
    }
    for flag, dest, kwargs, ini_type in options:
        group.addoption(flag, dest=dest, help=helps[dest], **kwargs)
        parser.addini(dest, help=f"{helps[dest]} (ini twin of {flag})", type=ini_type, default=None)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mlgate: a model-quality test that uses the mlgate fixtures or helpers"
    )
    if option(config, "mlgate"):
        from .session import GateSession

        config.pluginmanager.register(GateSession(config), SESSION_KEY)


@pytest.fixture
def mlgate(request: pytest.FixtureRequest) -> SimpleNamespace:
    """Assertion helpers bound to the session's seed: ``mlgate.assert_not_worse(...)`` and friends."""
    from functools import partial
    from types import SimpleNamespace

    from . import asserts

    session: GateSession | None = request.config.pluginmanager.get_plugin(SESSION_KEY)
    if session is not None:
        seed = session.gate_config.seed
    else:
        given = option(request.config, "mlgate_seed")
        seed = 0 if given is None else int(given)
    names = ("compare", "assert_better", "assert_not_worse", "assert_at_least", "assert_at_most")
    return SimpleNamespace(seed=seed, **{n: partial(getattr(asserts, n), seed=seed) for n in names})


@pytest.fixture
def mlgate_report(request: pytest.FixtureRequest) -> GateReport:
    """The gate's report for this session (runs the gate once); skips without ``--mlgate``."""
    session: GateSession | None = request.config.pluginmanager.get_plugin(SESSION_KEY)
    if session is None:
        pytest.skip("the gate report needs --mlgate")
    return session.report()


@pytest.fixture
def mlgate_golden(request: pytest.FixtureRequest) -> GoldenStore:
    """Golden cases next to the test module, in ``golden/``: ``mlgate_golden.check(name, inputs, scores=...)``."""
    from .golden import GoldenStore

    config = request.config
    mode: UpdateMode = "never"
    if option(config, "mlgate_update"):
        mode = "all"
    elif option(config, "mlgate_update_new_only"):
        mode = "new"
    artifacts = option(config, "mlgate_artifacts")
    store = GoldenStore(
        directory=request.path.parent / "golden",
        artifacts=Path(artifacts) if artifacts else config.rootpath / ".mlgate-artifacts",
        mode=mode,
        force=bool(option(config, "mlgate_force_update")),
    )
    stores = config.stash.setdefault(_GOLDEN_STORES, {})
    return stores.setdefault(store.directory, store)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    stores = config.stash.get(_GOLDEN_STORES, {})
    orphans = [p for store in stores.values() for p in store.orphans()]
    if orphans:
        terminalreporter.section("mlgate golden files")
        terminalreporter.write_line(
            "not used by any test in this run (orphaned, if the whole suite ran): "
            + ", ".join(str(p) for p in orphans),
            yellow=True,
        )
