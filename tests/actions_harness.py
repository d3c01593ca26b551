"""Run composite actions and workflow jobs the way the GitHub runner does, without GitHub.

What is real: every ``run:`` step runs under ``bash --noprofile --norc -eo pipefail``
(the runner's ``shell: bash``), with the step's ``env:`` mapping built from
expressions over ``inputs``, ``steps``, ``github``, ``env``, ``secrets``,
``runner`` and ``needs`` (the runs of the jobs a job needs, passed in); fresh
``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY``
files per step, read back as the runner reads them;
``GITHUB_ACTION_PATH`` for composite steps; ``if:`` conditions with the status
functions; and the workflow commands a step prints (``::error``, ``::warning``,
``::set-output``, ``::stop-commands``), parsed and unescaped.

What is stood in for, and said so in ``Run.stand_ins``: ``uses:`` steps that only
set up the machine (checkout, setup-python, upload/download-artifact). This
project's own actions (``./``, ``./actions/x``, ``pytest-mlgate/pytest-mlgate[/actions/x]@sha``)
run from the working tree.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
_ACTION_COPY: list[Path] = []


def action_checkout() -> Path:
    """This process's own copy of the repository, where the actions run and install from.

    pip builds the package inside the folder it installs from (``build/``, ``*.egg-info``), so two
    test workers installing from one checkout at the same time break each other's build. On GitHub
    every job has its own copy of the action, too.
    """
    if not _ACTION_COPY:
        target = Path(tempfile.mkdtemp(prefix="mlgate-action-")) / "checkout"
        skip = (
            ".git",
            ".venv*",
            "build",
            "*.egg-info",
            "node_modules",
            "__pycache__",
            "*_cache",
            "artifacts",
            "logs",
        )
        shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(*skip))
        atexit.register(shutil.rmtree, target.parent, True)
        _ACTION_COPY.append(target)
    return _ACTION_COPY[0]


_INSTALLED: set[tuple[str, str, str]] = set()


_INSTALL_STEP = re.compile(
    r'^(?P<bare>EXTRAS= )?bash "\$GITHUB_ACTION_PATH/[^"]*lib/install\.sh" "\$GITHUB_ACTION_PATH(?P<up>[^"]*)"$'
)


def _installed_key(script: str, env: Mapping[str, str]) -> tuple[str, str, str] | None:
    """What an `actions/lib/install.sh` step installs (checkout, extras, job Python), else None.

    The root action installs `$GITHUB_ACTION_PATH` and the others `$GITHUB_ACTION_PATH/../..`: the same
    folder of this process's checkout copy, so both count as one install.
    """
    found = _INSTALL_STEP.match(script.strip())
    if found is None:
        return None
    root = Path(env.get("GITHUB_ACTION_PATH", "") + found["up"]).resolve()
    python = env.get("PATH", "").split(os.pathsep)[0]
    return str(root), "" if found["bare"] else env.get("EXTRAS", ""), python


def _in_checkout(path: Path) -> Path:
    """``path`` inside the repository, moved to this process's copy of it."""
    try:
        return action_checkout() / path.resolve().relative_to(REPO)
    except ValueError:
        return path


OWN_ACTION = re.compile(r"^pytest-mlgate/pytest-mlgate(?P<sub>/actions/[a-z-]+)?@(?P<ref>[0-9a-f]{40})$")
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@(?P<sha>[0-9a-f]{40})$")
STEP_TIMEOUT_S = 600


class HarnessError(Exception):
    """The harness cannot run this as the runner would (an unknown expression or action)."""


# --- expressions -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().,\[\]*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise HarnessError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()  # GitHub compares strings ignoring case
    if type(a) is type(b) and not isinstance(a, (int, float)):
        return bool(a == b)
    return _number(a) == _number(b)


def truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    return True


def render(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any], status: Callable[[str], bool]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.context = context
        self.status = status
        self.text = text

    def parse(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise HarnessError(f"unexpected {self.tokens[self.pos][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise HarnessError(f"expression {self.text!r} ends early")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise HarnessError(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!=", "<", ">", "<=", ">="):
            op = self._take()[1]
            right = self._unary()
            if op in ("==", "!="):
                left = _equal(left, right) == (op == "==")
            else:
                a, b = _number(left), _number(right)
                left = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._postfix(self._primary())

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind != "name":
            raise HarnessError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            return self._call(text)
        if text not in self.context:
            raise HarnessError(f"unknown context {text!r} in {self.text!r}")
        return self.context[text]

    def _postfix(self, value: Any) -> Any:
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                key = self._take()[1]
            else:
                key = render(self._or())
                self._take("]")
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def _call(self, name: str) -> Any:
        self._take("(")
        args: list[Any] = []
        while self._peek() != ")":
            args.append(self._or())
            if self._peek() == ",":
                self._take()
        self._take(")")
        lowered = name.lower()
        if lowered in ("always", "success", "failure", "cancelled"):
            return self.status(lowered)
        if lowered == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(_equal(item, needle) for item in hay)
            return render(needle).casefold() in render(hay).casefold()
        if lowered == "startswith":
            return render(args[0]).casefold().startswith(render(args[1]).casefold())
        if lowered == "endswith":
            return render(args[0]).casefold().endswith(render(args[1]).casefold())
        if lowered == "format":
            return re.sub(r"\{(\d+)\}", lambda m: render(args[1 + int(m.group(1))]), render(args[0]))
        if lowered == "tojson":
            return json.dumps(args[0], indent=2)
        if lowered == "fromjson":
            return json.loads(render(args[0]))
        raise HarnessError(f"the harness has no function {name}()")


_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_STATUS_CALL = re.compile(r"\b(always|success|failure|cancelled)\s*\(", re.I)


def evaluate(text: str, context: Mapping[str, Any], status: Callable[[str], bool] = lambda _: True) -> Any:
    return _Parser(text, context, status).parse()


def interpolate(
    value: Any, context: Mapping[str, Any], status: Callable[[str], bool] = lambda _: True
) -> str:
    text = render(value)
    whole = _EXPRESSION.fullmatch(text.strip())
    if whole:
        return render(evaluate(whole.group(1), context, status))
    return _EXPRESSION.sub(lambda m: render(evaluate(m.group(1), context, status)), text)


def condition(raw: Any, context: Mapping[str, Any], status: Callable[[str], bool]) -> bool:
    if raw is None:
        return status("success")
    text = render(raw).strip()
    whole = _EXPRESSION.fullmatch(text)
    text = whole.group(1) if whole else text
    if not _STATUS_CALL.search(text):
        text = f"success() && ({text})"
    return truthy(evaluate(text, context, status))


# --- workflow commands in a step's output ------------------------------------------------------


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@dataclass(frozen=True)
class Annotation:
    level: str
    message: str
    properties: dict[str, str]


@dataclass
class Commands:
    annotations: list[Annotation] = field(default_factory=list)
    set_outputs: dict[str, str] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)


_COMMAND = re.compile(r"^::(?P<name>[A-Za-z-]+)(?: (?P<props>.*?))?::(?P<data>.*)$")
"""As the runner splits a line: the command ends at the first ``::`` after its name."""


def parse_commands(log: str) -> Commands:
    found = Commands()
    stop: str | None = None
    for line in log.splitlines():
        match = _COMMAND.match(line.strip())
        if not match:
            continue
        name, data = match.group("name"), match.group("data")
        if stop is not None:
            if name == stop:
                stop = None
            continue
        props = {}
        for part in filter(None, (match.group("props") or "").split(",")):
            key, _, value = part.partition("=")
            props[key.strip()] = _unescape_property(value)
        if name == "stop-commands":
            stop = data
        elif name in ("error", "warning", "notice"):
            found.annotations.append(Annotation(name, _unescape_data(data), props))
        elif name == "set-output":  # deprecated, still honoured by the runner
            found.set_outputs[props.get("name", "")] = _unescape_data(data)
        else:
            found.other.append(line)
    return found


def read_file_commands(path: Path) -> dict[str, str]:
    """``name=value`` and ``name<<DELIM`` blocks, as in GITHUB_OUTPUT and GITHUB_ENV."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        heredoc = re.match(r"^([^=<]+)<<(.+)$", line)
        if heredoc and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = heredoc.groups()
            block: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            if i >= len(lines):
                raise HarnessError(f"{path.name}: `{name}` has no closing delimiter {delimiter!r}")
            i += 1
            values[name] = "\n".join(block)
        elif "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
        else:
            raise HarnessError(f"{path.name}: line {line!r} is neither name=value nor name<<DELIMITER")
    return values


# --- runs --------------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    id: str | None
    outcome: str  # success, failure, skipped
    log: str = ""
    stand_in: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    outcome: str
    outputs: dict[str, str]
    steps: list[StepResult]
    summary: str
    annotations: list[Annotation]
    stand_ins: list[str]

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} [{s.outcome}]\n{s.log}" for s in self.steps)

    def step(self, key: str) -> StepResult:
        """The step with this id, else with this name."""
        found = [s for s in self.steps if s.id == key] or [s for s in self.steps if s.name == key]
        if not found:
            raise KeyError(f"no step {key!r}: {[s.id or s.name for s in self.steps]}")
        return found[0]


@dataclass
class Machine:
    """One job's runner: its workspace, temp dir, Python, artifacts and base environment."""

    workspace: Path
    python_bin: Path
    temp: Path
    artifacts: Path
    api_url: str = "http://127.0.0.1:9/"
    repository: str = "octo-org/octo-repo"
    event_name: str = "pull_request"
    event: dict[str, Any] = field(default_factory=dict)
    sha: str = "0" * 40
    token: str = "ghs_harness"
    secrets: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    download_from: Path | None = None  # another run's artifacts, for download-artifact with run-id

    def github(self, action_path: str = "") -> dict[str, Any]:
        return {
            "event_name": self.event_name,
            "event": self.event,
            "repository": self.repository,
            "repository_owner": self.repository.split("/")[0],
            "sha": self.sha,
            "ref": "refs/heads/main",
            "token": self.token,
            "workspace": str(self.workspace),
            "action_path": action_path,
            "run_id": "4242",
            "actor": "octocat",
            "workflow": "harness",
            "api_url": self.api_url,
        }

    def base_env(self) -> dict[str, str]:
        event_path = self.temp / "event.json"
        event_path.write_text(json.dumps(self.event), encoding="utf-8")
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
        return {
            **keep,
            "PATH": f"{self.python_bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_SHA": self.sha,
            "GITHUB_API_URL": self.api_url,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_WORKFLOW": "harness",
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "PIP_NO_INDEX": "1",  # tests touch only 127.0.0.1: every dependency is already here
            "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this one inverted: "0" turns isolation off
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            **self.extra_env,
        }


class _Scope:
    """One list of steps (a job, or a composite action called from it) and its state."""

    def __init__(self, machine: Machine, env: dict[str, str], context: dict[str, Any]) -> None:
        self.machine = machine
        self.env = env  # the job's environment, GITHUB_ENV included
        self.context = context
        self.steps: dict[str, dict[str, Any]] = {}
        self.failed = False
        self.results: list[StepResult] = []
        self.summary: list[str] = []
        self.annotations: list[Annotation] = []
        self.stand_ins: list[str] = []
        self.context["steps"] = self.steps

    def status(self, name: str) -> bool:
        return {"always": True, "success": not self.failed, "failure": self.failed, "cancelled": False}[name]

    def run_steps(self, steps: list[dict[str, Any]], action_path: str = "") -> None:
        for index, step in enumerate(steps):
            name = str(step.get("name") or step.get("uses") or f"step {index + 1}")
            step_id = step.get("id")
            self.context["env"] = dict(self.env)
            if not condition(step.get("if"), self.context, self.status):
                self._record(StepResult(name, step_id, "skipped"))
                continue
            if "uses" in step:
                result = self._uses(step, name)
            else:
                result = self._run(step, name, action_path)
            if result.outcome == "failure" and not step.get("continue-on-error"):
                self.failed = True
            self._record(result)

    def _record(self, result: StepResult) -> None:
        self.results.append(result)
        if result.id:
            self.steps[result.id] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.outcome,
            }

    def _step_env(self, step: Mapping[str, Any]) -> dict[str, str]:
        env = dict(self.env)
        for key, value in (step.get("env") or {}).items():
            env[str(key)] = interpolate(value, self.context, self.status)
        return env

    def _run(self, step: Mapping[str, Any], name: str, action_path: str) -> StepResult:
        if action_path and step.get("shell") != "bash":
            raise HarnessError(f"composite step {name!r} must set `shell: bash` (DESIGN §6)")
        if step.get("shell", "bash") != "bash":
            raise HarnessError(f"step {name!r}: the harness runs only `shell: bash`")
        script = str(step["run"])
        if _EXPRESSION.search(script):
            # The runner would splice these in as code; our rule is never to write one.
            raise HarnessError(f"step {name!r} has an expression inside `run:`; pass it through `env:`")
        files = {key: Path(tempfile.mkstemp(dir=self.machine.temp, prefix=key.lower())[1]) for key in _FILES}
        env = self._step_env(step)
        env.update({key: str(path) for key, path in files.items()})
        if action_path:
            env["GITHUB_ACTION_PATH"] = action_path
        installed = _installed_key(script, env)
        if installed in _INSTALLED:
            # This process already ran this very install (same checkout copy, extras and job Python):
            # pip would rebuild the wheel (about 3 s of CPU) and change nothing, so only its last line
            # runs again. The first install of each kind in every test process is the real step.
            script = "mlgate --version\n"
        script_path = Path(tempfile.mkstemp(dir=self.machine.temp, suffix=".sh")[1])
        script_path.write_text(script, encoding="utf-8")
        workdir = self.machine.workspace / interpolate(step.get("working-directory", "."), self.context)
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_path)],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=STEP_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"step {name!r} ran past {STEP_TIMEOUT_S} s") from exc
        commands = parse_commands(done.stdout)
        outputs = {**commands.set_outputs, **read_file_commands(files["GITHUB_OUTPUT"])}
        self.env.update(read_file_commands(files["GITHUB_ENV"]))
        extra_path = files["GITHUB_PATH"].read_text(encoding="utf-8").split()
        if extra_path:
            self.env["PATH"] = os.pathsep.join([*reversed(extra_path), self.env["PATH"]])
        self.summary.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
        self.annotations += commands.annotations
        outcome = "success" if done.returncode == 0 else "failure"
        if outcome == "success" and installed is not None:
            _INSTALLED.add(installed)
        if outcome == "failure":
            self.annotations.append(
                Annotation("error", f"Process completed with exit code {done.returncode}.", {})
            )
        return StepResult(
            name, step.get("id"), outcome, done.stdout + f"\n(exit {done.returncode})", None, outputs
        )

    def _uses(self, step: Mapping[str, Any], name: str) -> StepResult:
        uses = str(step["uses"])
        inputs = {
            str(k): interpolate(v, self.context, self.status) for k, v in (step.get("with") or {}).items()
        }
        own = OWN_ACTION.match(uses)
        if uses.startswith("./") or own:
            sub = uses[2:] if uses.startswith("./") else (own.group("sub") or "").lstrip("/") if own else ""
            return self._composite(_in_checkout(REPO / sub), inputs, name, step.get("id"))
        pinned = PINNED.match(uses)
        if not pinned:
            raise HarnessError(f"`uses: {uses}` is not pinned to a full commit SHA")
        action = pinned.group("name")
        stand_in = _STAND_INS.get(action)
        if stand_in is None:
            raise HarnessError(f"the harness has no stand-in for {action}")
        note, outcome = stand_in(self.machine, inputs)
        self.stand_ins.append(f"{uses}: {note}")
        return StepResult(name, step.get("id"), outcome, note, stand_in=note)

    def _composite(self, path: Path, inputs: dict[str, str], name: str, step_id: str | None) -> StepResult:
        spec = yaml.safe_load((path / "action.yml").read_text(encoding="utf-8"))
        if spec.get("runs", {}).get("using") != "composite":
            raise HarnessError(f"{path}/action.yml is not a composite action")
        declared = spec.get("inputs") or {}
        unknown = set(inputs) - set(declared)
        if unknown:
            raise HarnessError(
                f"{path.name}: unexpected inputs {sorted(unknown)} (the runner warns and ignores)"
            )
        run = run_action(path, inputs, self.machine, job_env=self.env, context_github=self.context["github"])
        self.summary.append(run.summary)
        self.annotations += run.annotations
        self.stand_ins += run.stand_ins
        log = "\n".join(f"  --- {s.name} [{s.outcome}]\n{s.log}" for s in run.steps)
        return StepResult(name, step_id, run.outcome, log, outputs=run.outputs)


_FILES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")


def _checkout(machine: Machine, inputs: Mapping[str, str]) -> tuple[str, str]:
    return f"the workspace {machine.workspace} is already the checkout", "success"


def _setup_python(machine: Machine, inputs: Mapping[str, str]) -> tuple[str, str]:
    version = inputs.get("python-version", "")
    return f"Python from {machine.python_bin} (asked for {version or 'the default'})", "success"


def _upload(machine: Machine, inputs: Mapping[str, str]) -> tuple[str, str]:
    name = inputs.get("name") or "artifact"
    source = Path(inputs["path"])
    target = machine.artifacts / name
    if target.exists():
        return f"artifact {name!r} already exists in this run (v4 refuses a second upload)", "failure"
    if source.is_dir():
        shutil.copytree(source, target)
    elif source.is_file():
        target.mkdir(parents=True)
        shutil.copy2(source, target / source.name)
    elif inputs.get("if-no-files-found", "warn") == "error":
        return f"no files at {source}", "failure"
    else:
        return f"no files at {source}: nothing uploaded (if-no-files-found: warn)", "success"
    return f"copied {source} to the run's artifact {name!r} ({target})", "success"


def _download(machine: Machine, inputs: Mapping[str, str]) -> tuple[str, str]:
    store = machine.download_from if inputs.get("run-id") else machine.artifacts
    name = inputs.get("name", "")
    source = (store or machine.artifacts) / name
    if not source.is_dir():
        return f"no artifact {name!r} in {store}", "failure"
    shutil.copytree(source, Path(inputs["path"]), dirs_exist_ok=True)
    return (
        f"copied artifact {name!r} of run {inputs.get('run-id') or 'this run'} to {inputs['path']}",
        "success",
    )


_STAND_INS: dict[str, Callable[[Machine, Mapping[str, str]], tuple[str, str]]] = {
    "actions/checkout": _checkout,
    "actions/setup-python": _setup_python,
    "actions/upload-artifact": _upload,
    "actions/download-artifact": _download,
}


def run_action(
    path: Path,
    inputs: Mapping[str, str],
    machine: Machine,
    *,
    job_env: dict[str, str] | None = None,
    context_github: dict[str, Any] | None = None,
) -> Run:
    """Run the composite action at ``path`` with ``inputs`` (a ``with:`` mapping, already strings)."""
    path = _in_checkout(path)
    spec = yaml.safe_load((path / "action.yml").read_text(encoding="utf-8"))
    declared = spec.get("inputs") or {}
    env = job_env if job_env is not None else machine.base_env()
    github = dict(context_github or machine.github())
    github["action_path"] = str(path)
    context: dict[str, Any] = {
        "github": github,
        "runner": {"temp": str(machine.temp), "os": "Linux"},
        "env": dict(env),
        "inputs": {},
    }
    values: dict[str, str] = {}
    for name, meta in declared.items():
        meta = meta or {}
        if name in inputs:
            values[name] = inputs[name]
        elif meta.get("required") and "default" not in meta:
            raise HarnessError(f"input `{name}` is required by {path.name}/action.yml")
        else:
            values[name] = interpolate(meta.get("default", ""), context)
    context["inputs"] = values
    scope = _Scope(machine, env, context)
    scope.run_steps(spec["runs"]["steps"], action_path=str(path))
    outputs = {
        name: interpolate((meta or {}).get("value", ""), context, scope.status)
        for name, meta in (spec.get("outputs") or {}).items()
    }
    return Run(
        "failure" if scope.failed else "success",
        outputs,
        scope.results,
        "".join(scope.summary),
        scope.annotations,
        scope.stand_ins,
    )


def run_job(workflow: Path, job: str, machine: Machine, needs: Mapping[str, Run] | None = None) -> Run:
    """Run one job of a workflow file on ``machine``.

    Its ``needs`` are not followed: pass the runs of the jobs it needs (``run_job``'s
    results), and their ``result`` and job ``outputs`` become the ``needs`` context.
    """
    spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    body = spec["jobs"][job]
    context: dict[str, Any] = {
        "github": machine.github(),
        "runner": {"temp": str(machine.temp), "os": "Linux"},
        "secrets": {"GITHUB_TOKEN": machine.token, **machine.secrets},
        "vars": {},
        "inputs": None,
        "env": {},
        "needs": {name: {"result": r.outcome, "outputs": r.outputs} for name, r in (needs or {}).items()},
    }
    if not condition(body.get("if"), context, lambda name: name != "failure" and name != "cancelled"):
        return Run("skipped", {}, [], "", [], [])
    env = machine.base_env()
    context["env"] = env
    for scope_env in (spec.get("env") or {}, body.get("env") or {}):
        for key, value in scope_env.items():
            env[str(key)] = interpolate(value, context)
    scope = _Scope(machine, env, context)
    scope.run_steps(body["steps"])
    outputs = {
        str(name): interpolate(value, context, scope.status)
        for name, value in (body.get("outputs") or {}).items()
    }
    return Run(
        "failure" if scope.failed else "success",
        outputs,
        scope.results,
        "".join(scope.summary),
        scope.annotations,
        scope.stand_ins,
    )
