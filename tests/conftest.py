"""Session-wide real parts: one `mlflow server` on 127.0.0.1 for the registry tests, one Spark session.

Started only when a test asks for it, stopped at the end of the session.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow_parts import MlflowServer, credit_like, fit, register, shared_server, unique_name, update_shared

# What a gate run imports. A pytester run in-process drops the modules it imported from sys.modules
# when it ends (the pytester fixture snapshots them when it is created), so the next run imports
# them again: scipy's hundreds take a second, numpy's C extensions refuse ("cannot load module more
# than once per process"), and PyYAML's loader breaks ("could not determine a constructor for the tag
# None"). Imported once per session, before any pytester exists, they stay.
GATE_MODULES = (
    "yaml",
    "pytest_mlgate.asserts",
    "pytest_mlgate.config",
    "pytest_mlgate.figures",
    "pytest_mlgate.gate",
    "pytest_mlgate.golden",
    "pytest_mlgate.io.models",
    "pytest_mlgate.lineage",
    "pytest_mlgate.llm.config",
    "pytest_mlgate.progress",
    "pytest_mlgate.registry.publish",
    "pytest_mlgate.session",
)


@pytest.fixture(scope="session")
def _gate_modules() -> None:
    for name in GATE_MODULES:
        importlib.import_module(name)


@pytest.fixture
def pytester(_gate_modules: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """pytest's own, created after the gate's modules are imported, so that in-process runs keep them."""
    return pytester


def _server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Under xdist each worker's basetemp is a folder of the run's own (pytest-N/popen-gwK): the server
    # is shared in the run's folder, never with another run.
    base = tmp_path_factory.getbasetemp()
    return (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "mlflow-server"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One `mlflow server` for the run, shared by its xdist workers; the last one out stops it."""
    with shared_server(_server_folder(tmp_path_factory)) as server:
        yield server


@pytest.fixture(scope="session")
def trained() -> dict[str, Any]:
    """The models every registry test registers: weak (a only), strong (a and b), bad (c only)."""
    train = credit_like(2000, seed=1)
    return {
        "holdout": credit_like(3000, seed=2),
        "weak": fit(train, ["a"]),
        "strong": fit(train, ["a", "b"]),
        "bad": fit(train, ["c"]),
    }


@pytest.fixture(scope="session")
def logged(
    mlflow_server: MlflowServer, trained: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Each model logged once per run (by the first worker that asks); tests register fresh versions of
    these sources under their own names. Every worker fits the same models from the same seed."""
    from mlflow import MlflowClient

    def log_them() -> str:
        library = unique_name("library")
        for kind in ("weak", "strong", "bad"):
            register(mlflow_server.url, library, trained[kind], run_name=kind)
        return library

    library = update_shared(_server_folder(tmp_path_factory), "library", log_them)
    client = MlflowClient(mlflow_server.url, registry_uri=mlflow_server.url)
    return {
        kind: client.get_model_version(library, str(i + 1))
        for i, kind in enumerate(("weak", "strong", "bad"))
    }


@pytest.fixture
def registered(mlflow_server: MlflowServer, logged: dict[str, Any]) -> Any:
    """``registered("weak", "strong")`` → a new registered model name whose versions 1, 2 are those models."""
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server.url, registry_uri=mlflow_server.url)

    def make(*kinds: str) -> str:
        name = unique_name()
        client.create_registered_model(name)
        for kind in kinds:
            source = logged[kind]
            client.create_model_version(
                name, source=source.source, run_id=source.run_id, model_id=source.source.split("/")[-1]
            )
        return name

    return make


@pytest.fixture
def fake_github() -> Iterator[Any]:
    """A stateful GitHub REST server on 127.0.0.1 that holds every exchange to the OpenAPI description."""
    from github_server import FakeGitHub

    server = FakeGitHub().start()
    try:
        yield server
    finally:
        server.stop()
    assert server.violations == [], "requests or responses outside GitHub's description:\n" + "\n".join(
        server.violations
    )


@pytest.fixture(scope="session")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of the Python that stands in for actions/setup-python.

    A fresh venv, so the actions' real install step (`pip install $GITHUB_ACTION_PATH[...]`)
    installs pytest-mlgate there and not over the editable install of this checkout. The
    dependencies come from this venv through a .pth line, so nothing is downloaded.
    """
    import subprocess
    import sys
    import sysconfig

    root = tmp_path_factory.mktemp("runner-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    site = next((root / "lib").glob("python3*/site-packages"))
    (site / "mlgate-harness-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return root / "bin"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session per test process; its tests share an xdist group, so one JVM starts."""
    pytest.importorskip("pyspark")  # the dev extra installs it; Java comes from .ci/run
    from pytest_mlgate.spark import local_session

    # On tables of a few thousand rows the cost is the number of Spark jobs: one score range and no
    # adaptive re-planning run a third as many. Tests of the score ranges ask for several themselves.
    # A JVM this short-lived spends a third of its CPU in the optimising JIT compiler: C1 only; and a
    # small heap needs no parallel collector threads competing for the 2 cores (about 10% less).
    # Generated code (whole-stage and per expression) costs more to compile than it saves on rows this
    # few: the plans are interpreted (119 s -> 66 s for the Spark files run alone). Spark keeps the two
    # paths equal by design; the benchmark (benchmarks/bench_spark.py) runs with code generation on.
    session = local_session(
        cores=2,
        app="mlgate-tests",
        conf={
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            "spark.sql.shuffle.partitions": "1",
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.codegen.wholeStage": "false",
            "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        },
    )
    yield session
    session.stop()
