"""Registry sources that cannot be used: each gets one clear line, the right exit code, no traceback.

Against the real `mlflow server` of the session; models that a test corrupts are logged for that test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mlflow_parts import (
    SKLEARN_REQUIREMENTS,
    MlflowServer,
    Project,
    Relay,
    free_port,
    make_project,
    register,
    tracking,
)

from pytest_mlgate.cli import main
from pytest_mlgate.registry.connect import EMBEDDED_DB, tracking_uri

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
]


def gate(project: Project, candidate: str, baseline: str | None = None, **extra: Any) -> int:
    project.config(candidate, baseline, **extra)
    old = Path.cwd()
    os.chdir(project.root)
    try:
        return main(["gate"])
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path: Path, mlflow_server: MlflowServer, trained: dict[str, Any], registered: Any) -> Project:
    proj = make_project(
        tmp_path / "proj", mlflow_server.url, trained["holdout"], registered("weak", "strong")
    )
    from mlflow import MlflowClient

    MlflowClient(mlflow_server.url, registry_uri=mlflow_server.url).set_registered_model_alias(
        proj.name, "champion", "1"
    )
    return proj


def error_of(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_alias_that_does_not_exist(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert gate(project, f"models:/{project.name}@nope") == 3
    err = error_of(capsys)
    assert "has no alias `@nope` (aliases: @champion → v1)" in err and "candidate model" in err


def test_a_misspelt_baseline_alias_is_not_a_first_run(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gate(project, f"models:/{project.name}/2", f"models:/{project.name}@chmpion") == 3
    assert "no alias `@chmpion`" in error_of(capsys)


def test_registered_model_that_does_not_exist(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert gate(project, "models:/no-such-model@champion") == 3
    assert "registered model `no-such-model` does not exist" in error_of(capsys)


def test_deleted_version(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow import MlflowClient

    MlflowClient(project.tracking_uri, registry_uri=project.tracking_uri).delete_model_version(
        project.name, "2"
    )
    assert gate(project, f"models:/{project.name}/2", f"models:/{project.name}@champion") == 3
    assert "does not exist (deleted?); its versions are: 1" in error_of(capsys)


def test_run_without_a_model(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    with tracking(project.tracking_uri) as mlflow, mlflow.start_run() as run:
        mlflow.log_param("note", "no model here")
    assert gate(project, f"runs:/{run.info.run_id}/model") == 3
    assert f"run `{run.info.run_id}` has no model named `model`" in error_of(capsys)


def test_run_that_does_not_exist(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert gate(project, "runs:/0123456789abcdef0123456789abcdef/model") == 3
    assert "run `0123456789abcdef0123456789abcdef` does not exist" in error_of(capsys)


def test_run_uri_gates_the_model_that_run_logged(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    run_id = (
        MlflowClient(project.tracking_uri, registry_uri=project.tracking_uri)
        .get_model_version(project.name, "2")
        .run_id
    )
    # The run logged the strong model; the champion is the weak one.
    assert gate(project, f"runs:/{run_id}/model", f"models:/{project.name}@champion") == 0
    report = json.loads((project.root / "mlgate-report.json").read_text())
    assert report["decision"] == "promote"
    assert report["provenance"]["candidate"]["run_id"] == run_id
    assert report["provenance"]["candidate"]["kind"] == "mlflow"


def _stored_model_dir(server: MlflowServer, name: str, version: str) -> Path:
    from mlflow import MlflowClient

    uri = MlflowClient(server.url, registry_uri=server.url).get_model_version_download_uri(name, version)
    return server.artifacts / uri.removeprefix("mlflow-artifacts:/")


def test_flavor_that_cannot_predict(
    tmp_path: Path, mlflow_server: MlflowServer, trained: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    proj = make_project(tmp_path / "p", mlflow_server.url, trained["holdout"])
    register(mlflow_server.url, proj.name, trained["weak"])
    mlmodel = _stored_model_dir(mlflow_server, proj.name, "1") / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text())
    del spec["flavors"]["python_function"]
    mlmodel.write_text(yaml.safe_dump(spec))
    assert gate(proj, f"models:/{proj.name}/1") == 3
    err = error_of(capsys)
    assert "flavor(s) sklearn cannot predict" in err and "python_function" in err


def test_artifact_that_cannot_be_read(
    tmp_path: Path, mlflow_server: MlflowServer, trained: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    proj = make_project(tmp_path / "p", mlflow_server.url, trained["holdout"])
    register(mlflow_server.url, proj.name, trained["weak"])
    stored = _stored_model_dir(mlflow_server, proj.name, "1")
    weights = [p for p in stored.iterdir() if p.suffix in (".skops", ".pkl")]
    assert weights, sorted(p.name for p in stored.iterdir())
    weights[0].write_bytes(b"\x00 not a model \x00")
    assert gate(proj, f"models:/{proj.name}/1") == 3
    assert "artifact could not be read" in error_of(capsys)


def test_unreachable_tracking_server_is_named(
    tmp_path: Path, trained: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proj = make_project(tmp_path / "p", url, trained["holdout"])
    assert gate(proj, "models:/credit@candidate") == 3
    err = error_of(capsys)
    assert f"tracking server `{url}` is unreachable" in err


def test_mlflow_model_needs_trust(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.config(f"models:/{project.name}/1")
    path = project.root / "mlgate.yaml"
    path.write_text(path.read_text().replace(", trust: true", ""))
    os.chdir(project.root)
    assert main(["gate"]) == 2
    err = error_of(capsys)
    assert "`candidate.trust`=false must be true" in err and "mlflow.sklearn" in err
    assert "Set `candidate.trust: true`" in err


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/credit/Production", "stages are deprecated"),
        ("models:/", "must look like"),
        ("runs:/abc", "must look like"),
    ],
)
def test_malformed_model_uri_is_a_config_error(
    project: Project, capsys: pytest.CaptureFixture[str], uri: str, expected: str
) -> None:
    assert gate(project, uri) == 2
    assert expected in error_of(capsys)


def test_embedded_default_store_sits_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path / EMBEDDED_DB}"
    assert (
        tracking_uri("sqlite:///store/m.db", tmp_path) == f"sqlite:///{(tmp_path / 'store/m.db').resolve()}"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(None, tmp_path) == "http://127.0.0.1:5000"
    assert tracking_uri("http://127.0.0.1:6000", tmp_path) == "http://127.0.0.1:6000"


def test_embedded_store_end_to_end_without_a_server(
    tmp_path: Path, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server, no env: the config's directory gets mlflow.db and the gate reads models from it."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    proj = make_project(tmp_path / "p", "unused", trained["holdout"])
    store = f"sqlite:///{proj.root / EMBEDDED_DB}"
    with tracking(store) as mlflow:
        experiment = mlflow.MlflowClient(store).create_experiment(
            "embedded", artifact_location=(proj.root / "mlartifacts").as_uri()
        )
        for kind in ("weak", "strong"):
            with mlflow.start_run(experiment_id=experiment):
                mlflow.sklearn.log_model(
                    trained[kind],
                    name="model",
                    registered_model_name="embedded",
                    pip_requirements=SKLEARN_REQUIREMENTS,
                )
    path = proj.config("models:/embedded/2", "models:/embedded/1")
    path.write_text(path.read_text().replace("mlflow: {tracking_uri: 'unused'}\n", ""))
    monkeypatch.chdir(proj.root)
    assert main(["gate"]) == 0
    report = json.loads((proj.root / "mlgate-report.json").read_text())
    assert report["provenance"]["candidate"]["tracking_uri"] == store
    assert report["provenance"]["candidate"]["pinned"] == "models:/embedded/2"


def test_predictions_are_computed_once_per_version_and_rows(
    project: Project, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_mlgate.io.mlflow_model import load_mlflow_model

    by_alias = load_mlflow_model(
        f"models:/{project.name}@champion", tracking=project.tracking_uri, trust=True, role="baseline"
    )
    by_version = load_mlflow_model(
        f"models:/{project.name}/1", tracking=project.tracking_uri, trust=True, role="candidate"
    )
    assert by_alias.ref.alias == "champion" and by_version.ref.alias is None
    calls = []
    real = by_alias._raw.predict_proba
    monkeypatch.setattr(by_alias._raw, "predict_proba", lambda frame: calls.append(len(frame)) or real(frame))
    rows = trained["holdout"][["a", "b", "c"]]
    first = by_alias.predict_proba(rows)
    again = by_version.predict_proba(rows.copy())  # same version, same rows: from the cache
    assert (first == again).all() and calls == [len(rows)]
    by_version.predict_proba(rows.iloc[:100])
    assert calls == [len(rows), 100]


def test_pytest_session_logs_to_the_registry(
    pytester: pytest.Pytester, mlflow_server: MlflowServer, registered: Any, trained: dict[str, Any]
) -> None:
    from mlflow import MlflowClient

    name = registered("weak", "strong")
    c = MlflowClient(mlflow_server.url, registry_uri=mlflow_server.url)
    c.set_registered_model_alias(name, "champion", "1")
    trained["holdout"].to_csv(pytester.path / "holdout.csv", index=False)
    proj = Project(pytester.path, pytester.path, name, mlflow_server.url)
    proj.config(f"models:/{name}/2", f"models:/{name}@champion")
    result = pytester.runpytest_inprocess("--mlgate", "--mlgate-no-log", "-p", "no:cacheprovider")
    assert result.ret == 0
    assert "mlgate.decision" not in c.get_model_version(name, "2").tags
    result = pytester.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"mlflow: logged to run * and {name} v2 *"])
    assert c.get_model_version(name, "2").tags["mlgate.decision"] == "promote"


def test_pytest_session_exits_3_when_logging_fails(
    pytester: pytest.Pytester, mlflow_server: MlflowServer, registered: Any, trained: dict[str, Any]
) -> None:
    """The gate ran, the report is written, but the server became unreachable before logging: say so, exit 3."""
    relay = Relay(mlflow_server, free_port()).start()  # the session's server, through a way we can cut
    try:
        name = registered("weak", "strong")
        trained["holdout"].to_csv(pytester.path / "holdout.csv", index=False)
        Project(pytester.path, pytester.path, name, relay.url).config(
            f"models:/{name}/2", f"models:/{name}/1"
        )
        pytester.makeconftest(
            f"""
            import pytest
            from tcp_relay import cut  # the run is in-process: the tests folder is importable

            @pytest.hookimpl(tryfirst=True)
            def pytest_sessionfinish(session):
                cut({relay.process.pid}, {relay.port})  # the gate has run; mlgate logs after this
            """
        )
        result = pytester.runpytest_inprocess("--mlgate", "-p", "no:cacheprovider")
        assert result.ret == 3
        result.stdout.fnmatch_lines(["*mlflow logging FAILED*is unreachable*"])
        assert (pytester.path / "mlgate-report.json").is_file()
    finally:
        relay.stop()
