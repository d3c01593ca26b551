"""Real parts for the registry tests: an `mlflow server` on 127.0.0.1, models in it, git remotes.

Nothing here is a stand-in: the server is MLflow's own, backed by sqlite, and
the git remote is a bare repository.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BIN = Path(sys.executable).parent
STARTUP_S = 90.0
# Given, so that log_model does not infer them: inference loads the model again in a child Python
# (about 8 s each on 2 cores) and the tests never read them.
SKLEARN_REQUIREMENTS = ["scikit-learn"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MlflowServer:
    """One `mlflow server --workers 1` with a sqlite store and served artifacts, in ``root``."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    pgid: int | None = None  # of a server another test process started (see shared_server)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def start(self) -> MlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no job consumers on 2 cores
        env.pop("MLFLOW_TRACKING_URI", None)
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so stop() takes uvicorn's children too
        )
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited at start: {(self.root / 'server.log').read_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/health", timeout=2) as response,
            ):
                if response.status == 200:
                    return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer within {STARTUP_S:.0f} s")

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL if it lingers; also when another process started it."""
        pgid = self.process.pid if self.process is not None else self.pgid
        if pgid is None:
            return
        for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and not self._gone():
                time.sleep(0.1)
            if self._gone():
                break
        self.process = self.pgid = None

    def _gone(self) -> bool:
        # A server started by another process cannot be waited for: its port closing tells.
        exited = self.process is None or self.process.poll() is not None
        return exited and not _port_open(self.port)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def shared_server(root: Path) -> Iterator[MlflowServer]:
    """One server for every test process of a run (xdist workers), counted in and out under a file lock.

    A start costs about 18 s of CPU on 2 cores (the CLI and its uvicorn worker each import MLflow and
    the store is migrated), so a server per worker was the suite's most expensive fixture. The last
    process out stops it. `update_shared` keeps what the processes share besides.
    """
    root.mkdir(parents=True, exist_ok=True)
    state_file, lock = root / "state.json", root / "lock"
    with _locked(lock):
        state = json.loads(state_file.read_text()) if state_file.exists() else None
        if state is not None and _port_open(state["port"]):
            state["users"] += 1
            server = MlflowServer(Path(state["root"]), state["port"], pgid=state["pgid"])
        else:
            server = MlflowServer(root / f"server-{os.getpid()}", free_port()).start()
            assert server.process is not None
            state = {"root": str(server.root), "port": server.port, "pgid": server.process.pid}
            state |= {"users": 1, "extra": {}}
        state_file.write_text(json.dumps(state))
    try:
        yield server
    finally:
        with _locked(lock):
            state = json.loads(state_file.read_text())
            state["users"] -= 1
            if state["users"] > 0:
                state_file.write_text(json.dumps(state))
            else:
                state_file.unlink()
                server.stop()


def update_shared(root: Path, key: str, make: Any) -> Any:
    """``extra[key]`` of the shared server's state, made by ``make()`` by the first process that asks."""
    with _locked(root / "lock"):
        state = json.loads((root / "state.json").read_text())
        if key not in state["extra"]:
            state["extra"][key] = make()
            (root / "state.json").write_text(json.dumps(state))
        return state["extra"][key]


@dataclass
class Relay:
    """The only way to a server: a TCP relay (tests/tcp_relay.py) on ``port``, in its own process group.

    Killing that group makes the server unreachable, as a dead server is, and `start` makes it
    reachable again at once; the server behind it, its store and its other clients carry on.
    """

    target: MlflowServer
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Relay:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("tcp_relay.py")),
                str(self.port),
                str(self.target.port),
            ],
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the relay to {self.target.url} did not listen on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)
        self.process = None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- data and models --------------------------------------------------------------------------


def credit_like(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    """Three numeric features; the label depends on a and b, not on c."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    frame["y"] = (frame.a + frame.b + 0.6 * rng.normal(size=n) > 0).astype(int)
    return frame


def fit(frame: pd.DataFrame, columns: list[str]) -> Any:
    """A logistic regression that sees only ``columns`` (the others are passed through and ignored)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    model = Pipeline(
        [("pick", ColumnTransformer([("keep", "passthrough", columns)])), ("clf", LogisticRegression())]
    )
    return model.fit(frame[["a", "b", "c"]], frame["y"])


@contextlib.contextmanager
def tracking(uri: str) -> Iterator[Any]:
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # which also exports MLFLOW_TRACKING_URI
    mlflow.set_registry_uri(uri)
    try:
        yield mlflow
    finally:
        mlflow.set_tracking_uri(before)
        mlflow.set_registry_uri(before)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def register(uri: str, name: str, model: Any, *, run_name: str = "train") -> str:
    """Log ``model`` in a new run and register it as the next version of ``name``; returns the version."""
    with tracking(uri) as mlflow, mlflow.start_run(run_name=run_name):
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name, pip_requirements=SKLEARN_REQUIREMENTS
        )
    return str(info.registered_model_version)


def unique_name(prefix: str = "credit") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Project:
    """A gate project in a git checkout: holdout data, a config naming registry models, a bare remote."""

    root: Path
    remote: Path
    name: str
    tracking_uri: str

    def config(
        self, candidate: str, baseline: str | None = None, file: str = "mlgate.yaml", **extra: Any
    ) -> Path:
        lines = [
            "task: binary",
            "data: {path: holdout.csv, target: y}",
            f"mlflow: {{tracking_uri: '{self.tracking_uri}'}}",
            f"candidate: {{model: '{candidate}', trust: true}}",
        ]
        if baseline is not None:
            lines.append(f"baseline: {{model: '{baseline}', trust: true}}")
        lines += ["metrics:", "  roc_auc: {margin: 0.01, min: 0.6}"]
        if baseline is not None:
            lines.append("  log_loss: {margin: 0.01}")
        lines += [f"{k}: {v}" for k, v in extra.items()]
        path = self.root / file
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.strip()

    def commit(self, message: str = "gate") -> str:
        self.git("add", "-A")
        self.git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def make_project(root: Path, tracking_uri: str, holdout: pd.DataFrame, name: str | None = None) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    remote = root.parent / f"{root.name}-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=60)
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    project = Project(root, remote, name or unique_name(), tracking_uri)
    project.git("remote", "add", "origin", str(remote))
    holdout.to_csv(root / "holdout.csv", index=False)
    (root / ".gitignore").write_text("mlgate-report*.json\nmlflow.db\nmlartifacts/\n", encoding="utf-8")
    return project


def client(url: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(url, registry_uri=url)


def cli(project: Project, *args: str) -> int:
    """`mlgate ARGS` in-process, from the project's folder (where its mlgate.yaml is)."""
    from pytest_mlgate.cli import main

    old = Path.cwd()
    os.chdir(project.root)
    try:
        return main(list(args))
    finally:
        os.chdir(old)
