"""MLflow models that carry their own code are refused without `trust: true` (issue 14, item 2).

The ONNX loader reads data, so an ONNX model loads untrusted; but the pyfunc
loader puts the model's `code/` folder first on sys.path before it imports
`mlflow.onnx`, which imports `onnxruntime`: a `code/onnxruntime.py` in the model
would run. These tests log real models to the session's `mlflow server`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from mlflow_parts import MlflowServer, credit_like, fit, tracking, unique_name

from pytest_mlgate.errors import ConfigError
from pytest_mlgate.io.mlflow_model import load_mlflow_model

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
]

PAYLOAD = """\
from pathlib import Path
Path({marker!r}).write_text("the model's own code ran", encoding="utf-8")
raise ImportError("payload")
"""


@pytest.fixture(scope="module")
def onnx_bytes() -> Any:
    from skl2onnx import to_onnx

    frame = credit_like(500, seed=3)
    model = fit(frame, ["a", "b"]).named_steps["clf"]
    x = frame[["a", "b"]].to_numpy(np.float32)
    return to_onnx(model.fit(x, frame["y"]), x[:1], options={"zipmap": False})


def save_onnx(onnx_model: Any, path: Path, **kwargs: Any) -> Path:
    import mlflow.onnx

    # pip_requirements given: inferring them would load the model (and run its code) while logging.
    mlflow.onnx.save_model(onnx_model, str(path), pip_requirements=["onnx"], **kwargs)
    return path


def log_folder(server: MlflowServer, folder: Path) -> str:
    """Log a model folder as a run's artifacts; returns its `runs:/` URI."""
    with tracking(server.url) as mlflow, mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), artifact_path="model")
    return f"runs:/{run.info.run_id}/model"


def edit_mlmodel(folder: Path, change: Any) -> None:
    path = folder / "MLmodel"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(meta["flavors"])
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")


def test_code_folder_behind_the_onnx_loader_never_runs(
    tmp_path: Path, mlflow_server: MlflowServer, onnx_bytes: Any
) -> None:
    """The issue's payload: `code/onnxruntime.py` in a registered ONNX model, gated with `trust: false`."""
    marker = tmp_path / "payload-ran.txt"
    payload = tmp_path / "payload" / "onnxruntime.py"
    payload.parent.mkdir()
    payload.write_text(PAYLOAD.format(marker=str(marker)), encoding="utf-8")
    name = unique_name("onnx-code")
    with tracking(mlflow_server.url) as mlflow, mlflow.start_run():
        import mlflow.onnx

        mlflow.onnx.log_model(
            onnx_bytes,
            name="model",
            code_paths=[str(payload)],
            pip_requirements=["onnx"],
            registered_model_name=name,
        )
    project = tmp_path / "proj"
    project.mkdir()
    credit_like(300, seed=4).to_csv(project / "holdout.csv", index=False)
    (project / "mlgate.yaml").write_text(
        "task: binary\n"
        "data: {path: holdout.csv, target: y}\n"
        f"mlflow: {{tracking_uri: '{mlflow_server.url}'}}\n"
        f"candidate: {{model: 'models:/{name}/1'}}\n"
        "metrics: {roc_auc: {min: 0.5}}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # A fresh process: here onnxruntime is already imported, so the payload would not be looked up.
    done = subprocess.run(
        [sys.executable, "-m", "pytest_mlgate.cli", "gate", "--no-log"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert not marker.exists(), "the model's own code ran with trust: false"
    assert done.returncode == 2, done.stderr
    assert "`candidate.trust`=false must be true" in done.stderr
    assert "`flavors.python_function.code`='code'" in done.stderr
    assert "Traceback" not in done.stderr


def _onnx_code(folder: Path) -> None:
    (folder / "code").mkdir()
    (folder / "code" / "helper.py").write_text("raise SystemExit('ran')\n", encoding="utf-8")
    edit_mlmodel(folder, lambda f: f["onnx"].update(code="code"))


def _python_model(folder: Path) -> None:
    edit_mlmodel(folder, lambda f: f["python_function"].update(python_model="python_model.pkl"))


def _cloudpickle_version(folder: Path) -> None:
    edit_mlmodel(folder, lambda f: f["python_function"].update(cloudpickle_version="3.1.0"))


def _pickle_file(folder: Path) -> None:
    (folder / "artifacts").mkdir()
    (folder / "artifacts" / "encoder.pkl").write_bytes(b"\x80\x04N.")


def _code_folder_only(folder: Path) -> None:
    (folder / "code").mkdir()
    (folder / "code" / "onnx.py").write_text("raise SystemExit('ran')\n", encoding="utf-8")


def _unknown_key(folder: Path) -> None:
    edit_mlmodel(folder, lambda f: f["python_function"].update(predict_fn="__init__"))


def _session_entries(folder: Path) -> None:
    options = {"extra_session_config": {"session.load_model_format": "ORT"}}
    edit_mlmodel(folder, lambda f: f["onnx"].update(onnx_session_options=options))


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (_onnx_code, "`flavors.onnx.code`='code'"),
        (_python_model, "`flavors.python_function.python_model`"),
        (_cloudpickle_version, "`flavors.python_function.cloudpickle_version`"),
        (_pickle_file, "`artifacts/encoder.pkl`, a pickle"),
        (_code_folder_only, "a `code` folder"),
        (_unknown_key, "`flavors.python_function.predict_fn`"),
        (_session_entries, "`flavors.onnx.onnx_session_options.extra_session_config`"),
    ],
    ids=lambda v: getattr(v, "__name__", "").strip("_") or None,
)
def test_untrusted_onnx_model_with_code_is_refused_naming_the_key(
    tmp_path: Path, mlflow_server: MlflowServer, onnx_bytes: Any, tamper: Any, named: str
) -> None:
    folder = save_onnx(onnx_bytes, tmp_path / "model")
    tamper(folder)
    uri = log_folder(mlflow_server, folder)
    with pytest.raises(ConfigError) as caught:
        load_mlflow_model(uri, tracking=mlflow_server.url, trust=False, role="candidate")
    message = str(caught.value)
    assert message.startswith("`candidate.trust`=false must be true")
    assert named in message
    assert "Set `candidate.trust: true` only if your team logged this model" in message


def test_a_plain_onnx_model_still_loads_untrusted(
    tmp_path: Path, mlflow_server: MlflowServer, onnx_bytes: Any
) -> None:
    folder = save_onnx(onnx_bytes, tmp_path / "model", onnx_session_options={"intra_op_num_threads": 1})
    uri = log_folder(mlflow_server, folder)
    model = load_mlflow_model(uri, tracking=mlflow_server.url, trust=False, role="candidate")
    assert (model.local_path / "model.onnx").is_file()


def test_the_same_models_load_with_trust(
    tmp_path: Path, mlflow_server: MlflowServer, onnx_bytes: Any
) -> None:
    """Trust is the way out: a code folder whose files are never imported loads."""
    folder = save_onnx(onnx_bytes, tmp_path / "model")
    (folder / "code").mkdir()
    (folder / "code" / "unused_helper.py").write_text("VALUE = 1\n", encoding="utf-8")
    edit_mlmodel(folder, lambda f: f["python_function"].update(code="code"))
    uri = log_folder(mlflow_server, folder)
    model = load_mlflow_model(uri, tracking=mlflow_server.url, trust=True, role="candidate")
    assert model.local_path.is_dir()
