"""State of one ``pytest --mlgate`` session: the gate items, the report, the exit status.

Imported by ``plugin.py`` only when ``--mlgate`` is on, so a run without the
flag pays for none of this.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .errors import MlgateWarning
from .options import FAIL_ON_CHOICES, option
from .report.table import safe_lines, term  # CI runners read these lines: data must not make commands

SECTIONS = ("drift", "validation", "fairness", "regression", "operational", "properties", "llm", "deepchecks")
"""Sections (data checks, the LLM gate): one test item each, covering all of the section's checks."""
_SEVERITY = {"pass": 0, "warn": 1, "inconclusive": 2, "fail": 3, "error": 4}

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from .config import GateConfig
    from .golden import UpdateMode
    from .results import CheckResult, GateReport


class GateSession:
    """State of one gated pytest session: the config, the lazily run gate, the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.positional = None if option(config, "mlgate_config") else _positional_config(config)
        """The config file when the command line names it (``pytest --mlgate mlgate.yaml``)."""
        self.gate_config = self._load(config, self.positional)
        self._report: GateReport | None = None
        self._error: Exception | None = None
        self._gate_started = False
        self._write_error: Exception | None = None
        self._published: str | None = None
        self._publish_error: Exception | None = None
        self.ran: set[str] = set()
        """Names of the gate items that ran (the rest were deselected)."""

    @staticmethod
    def _load(config: pytest.Config, positional: Path | None) -> GateConfig:
        from .config import find_config, load_config
        from .errors import ConfigError

        explicit = option(config, "mlgate_config")
        path = Path(explicit) if explicit else positional or find_config(config.rootpath)
        if path is None:
            raise pytest.UsageError(
                f"--mlgate found no mlgate.yaml, mlgate.yml or [tool.mlgate] in {config.rootpath}; "
                "pass --mlgate-config PATH"
            )
        overrides: dict[str, Any] = {}
        seed = option(config, "mlgate_seed")
        if seed is not None:
            try:
                overrides["seed"] = int(seed)
            except ValueError:
                raise pytest.UsageError(f"`mlgate_seed`={seed!r} must be an integer") from None
        fail_on = option(config, "mlgate_fail_on")
        if fail_on is not None:
            if fail_on not in FAIL_ON_CHOICES:
                raise pytest.UsageError(
                    f"`mlgate_fail_on`={fail_on!r} must be one of {', '.join(FAIL_ON_CHOICES)}"
                )
            overrides["fail_on"] = fail_on
        try:
            loaded = load_config(path.resolve(), overrides)
        except ConfigError as exc:
            raise pytest.UsageError(f"mlgate: {exc}") from None
        if option(config, "mlgate_no_plots"):
            from dataclasses import replace

            loaded = replace(loaded, report_plots=False)
        return loaded

    def report(self) -> GateReport:
        """Run the gate once; re-raise the same input error for every check that asks."""
        if not self._gate_started:
            self._gate_started = True
            from .errors import MlgateError
            from .gate import run_gate

            mode: UpdateMode = "never"
            if option(self.pytest_config, "mlgate_update"):
                mode = "all"
            elif option(self.pytest_config, "mlgate_update_new_only"):
                mode = "new"
            force = bool(option(self.pytest_config, "mlgate_force_update"))
            try:
                self._report = run_gate(self.gate_config, golden_mode=mode, force_update=force)
            except MlgateError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report

    def check_ids(self) -> list[str]:
        ids = []
        for metric in self.gate_config.metrics:
            if self.gate_config.baseline is not None:
                ids.append(f"compare:{metric.name}")
            if metric.min is not None or metric.max is not None:
                ids.append(f"threshold:{metric.name}")
        return ids + [name for name in SECTIONS if getattr(self.gate_config, name)]

    def report_path(self) -> Path:
        explicit = option(self.pytest_config, "mlgate_report")
        return Path(explicit) if explicit else self.gate_config.report_path

    # --- hooks ---

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # An older run's decision must not survive a run that decides nothing (input error, deselection).
        path = self.report_path()
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise pytest.UsageError(
                f"mlgate: report path `{path}` cannot be replaced: {exc.strerror or exc}"
            ) from None

    def pytest_report_header(self, config: pytest.Config) -> str:
        c = self.gate_config
        return f"mlgate: seed={c.seed}, config={c.source}, task={c.task}, mode={c.mode}, fail-on={c.fail_on}"

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> GateFile | None:
        # `pytest --mlgate mlgate.yaml`: the config named on the command line is collected like a
        # test file (its checks and nothing else), instead of pytest's "not found".
        if self.positional is not None and file_path.resolve() == self.gate_config.source:
            gate_file: GateFile = GateFile.from_parent(parent, path=file_path)
            return gate_file
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        if any(isinstance(item, GateItem) for item in items):
            return  # collected from the command line (pytest_collect_file)
        assert self.gate_config.source is not None
        parent = GateFile.from_parent(session, path=self.gate_config.source)
        gate_items = list(parent.collect())
        # Reported like any collected file, so the header's "collected N items / M deselected" counts
        # them (without this, deselecting them showed "-6 selected").
        session.ihook.pytest_collectreport(
            report=pytest.CollectReport(parent.nodeid, "passed", None, list(gate_items))
        )
        items[:0] = gate_items

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if isinstance(item, GateItem) and report.skipped and isinstance(report.longrepr, tuple):
            # Point skips at the config file, not at this module's pytest.skip() call.
            report.longrepr = (str(item.path), 1, report.longrepr[2])

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._report is None:
            return
        from .errors import MlgateError

        try:
            self._report.write(self.report_path())
        except MlgateError as exc:
            self._write_error = exc
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        html = option(self.pytest_config, "mlgate_html")
        if html:
            from .report.html import render

            try:
                Path(html).write_text(render(self._report.to_dict()), encoding="utf-8")
            except OSError as exc:
                self._write_error = MlgateError(
                    f"HTML report `{html}` cannot be written: {exc.strerror or exc}"
                )
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
                return
        if self._report.failed() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if not option(self.pytest_config, "mlgate_no_log"):
            from .registry.publish import publish

            try:
                published = publish(self._report, self.report_path(), self.gate_config)
            except MlgateError as exc:
                self._publish_error = exc
                session.exitstatus = exc.exit_code  # 3: the registry could not be written
            else:
                self._published = str(published) if published is not None else None

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        tr = terminalreporter
        tr.section("mlgate")
        tr.write_line(
            f"seed={self.gate_config.seed}  mode={self.gate_config.mode}  fail-on={self.gate_config.fail_on}"
        )
        if self._error is not None:
            tr.write_line(safe_lines(f"gate ERROR: {self._error}"), red=True, bold=True)
            return
        if self._report is None:
            tr.write_line("gate not run: all of its checks were deselected", yellow=True)
            return
        from .report.table import plain, rows

        tr.write_line(plain(rows([c.to_dict() for c in self._report.checks])))
        if self.gate_config.llm is not None:
            from .llm.report import terminal_lines

            for line in terminal_lines([c.to_dict() for c in self._report.checks]):
                tr.write_line(term(line))
        colour = {"promote": "green", "pass": "green", "keep": "yellow", "reject": "red"}[
            self._report.decision
        ]
        tr.write_line(f"decision: {term(self._report.summary)}", **{colour: True, "bold": True})
        unseen = [
            c.id
            for c in self._report.checks
            if c.status in ("fail", "error") and c.id not in self.ran and c.id.split(":")[0] not in self.ran
        ]
        if unseen:
            tr.write_line(
                f"note: the decision counts checks whose test items were deselected: {term(', '.join(unseen))}",
                yellow=True,
            )
        if self._write_error is not None:
            tr.write_line(safe_lines(f"report NOT written: {self._write_error}"), red=True, bold=True)
        else:
            tr.write_line(f"report: {self.report_path()}")
            html = option(self.pytest_config, "mlgate_html")
            if html:
                tr.write_line(f"html: {html}")
        if self._published:
            tr.write_line(f"mlflow: {term(self._published)}")
        if self._publish_error is not None:
            tr.write_line(safe_lines(f"mlflow logging FAILED: {self._publish_error}"), red=True, bold=True)


class GateFile(pytest.File):
    """The config file, as the parent of the check items (so node ids read `mlgate.yaml::compare:auc`)."""

    def collect(self) -> Iterator[pytest.Item]:
        from .options import SESSION_KEY

        state = self.config.pluginmanager.get_plugin(SESSION_KEY)
        assert isinstance(state, GateSession)
        for check_id in state.check_ids():
            yield GateItem.from_parent(self, name=check_id, session_state=state)


class GateItem(pytest.Item):
    """One configured check, run as a test so that JUnit XML lists it."""

    def __init__(self, *, session_state: GateSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = session_state
        self.add_marker("mlgate")

    def runtest(self) -> None:
        self.state.ran.add(self.name)
        report = self.state.report()
        section = self.name in SECTIONS
        checks = [
            c for c in report.checks if c.id == self.name or (section and c.id.startswith(self.name + ":"))
        ]
        if not checks:
            raise GateItemError(f"{self.name}: the gate produced no result for this check")
        self._record(checks)
        worst = max((c.status for c in checks), key=lambda s: _SEVERITY[s])
        fail_on = self.state.gate_config.fail_on
        open_checks = [c for c in checks if c.status != "pass"]
        if worst in ("fail", "error"):
            if fail_on == "never" and worst != "error":
                pytest.xfail(
                    term(f"{worst.upper()} (fail-on=never): " + "; ".join(c.message for c in open_checks))
                )
            raise GateItemError(self._explain(open_checks))
        if worst == "inconclusive":
            if fail_on == "keep":
                raise GateItemError(
                    self._explain(open_checks) + "\n\nfail-on=keep makes an inconclusive check fail."
                )
            pytest.skip(
                term(
                    "inconclusive: " + "; ".join(c.message for c in open_checks if c.status == "inconclusive")
                )
            )
        for c in open_checks:
            warnings.warn(MlgateWarning(term(f"{c.id}: {c.message}")), stacklevel=1)

    def _record(self, checks: list[CheckResult]) -> None:
        if len(checks) == 1:
            for key, value in checks[0].to_dict().items():
                if key not in ("id", "message", "details") and value is not None:
                    self.user_properties.append((f"mlgate.{key}", _property(value)))
            return
        for c in checks:
            self.user_properties.append((f"mlgate.{c.id}.status", c.status))
            if c.value is not None:
                self.user_properties.append((f"mlgate.{c.id}.value", _property(c.value)))

    @staticmethod
    def _explain(checks: list[CheckResult]) -> str:
        from .report.table import plain, rows

        lines = [f"{c.id}: {c.status.upper()} — {c.message}" for c in checks]
        lines += ["", plain(rows([c.to_dict() for c in checks]))]
        needed = [c.n_needed for c in checks if c.underpowered and c.n_needed]
        if needed:
            lines += ["", f"Fix: raise n to ≈ {max(needed):,} or widen the margin."]
        elif any(c.status == "error" for c in checks):
            lines += ["", "Fix: the check could not be computed; a gate that cannot measure never passes."]
        return safe_lines("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from .errors import MlgateError

        if isinstance(excinfo.value, (GateItemError, MlgateError)):
            return safe_lines(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"mlgate {self.name}"


def _property(value: Any) -> str:
    """A JUnit property value as the JSON report writes it (JUnit XML would store Python's repr)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


CONFIG_SUFFIXES = (".yaml", ".yml")


def _positional_config(config: pytest.Config) -> Path | None:
    """A gate config given as a positional argument (``pytest --mlgate mlgate.yaml``), if one was."""
    found = []
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg)
        named = path.suffix in CONFIG_SUFFIXES or path.name == "pyproject.toml"
        if "::" not in arg and named and path.is_file():
            found.append(path.resolve())
    if len(found) > 1:
        names = ", ".join(str(p) for p in found)
        raise pytest.UsageError(
            f"--mlgate takes one config file; the command line names {len(found)}: {names}"
        )
    return found[0] if found else None


class GateItemError(Exception):
    """A check that failed; its message is the whole report (no traceback)."""
