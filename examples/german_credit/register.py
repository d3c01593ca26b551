"""Log the demo's three models to an MLflow store and register them as versions of `german-credit`.

    python register.py WORKSPACE

WORKSPACE gets the embedded store the release gate reads by default:
`mlflow.db` (sqlite) and `mlartifacts/`. Versions: 1 production, 2 candidate,
3 degraded (in that order, so the story can point aliases at them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import skops.io as sio

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
MODEL = "german-credit"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def main(workspace: Path) -> None:
    import logging
    import warnings

    import mlflow
    import sklearn

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*Integer columns.*")  # the holdout has no missing integers

    store = f"sqlite:///{workspace / 'mlflow.db'}"
    client = mlflow.MlflowClient(store, registry_uri=store)
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    experiment = client.create_experiment(
        "german-credit", artifact_location=(workspace / "mlartifacts").resolve().as_uri()
    )
    example = pd.read_csv(ARTIFACTS / "holdout.csv").drop(columns=["risk"]).head(5)
    for name in ("production", "candidate", "degraded"):
        path = ARTIFACTS / f"{name}.skops"
        model = sio.load(path, trusted=sio.get_untrusted_types(file=path) or None)
        with mlflow.start_run(experiment_id=experiment, run_name=name):
            mlflow.log_param("trained_as", name)
            # Stated, not inferred: inferring them loads the model once more in a child Python.
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name=MODEL,
                input_example=example,
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            )
        print(f"registered {MODEL} v{info.registered_model_version}: {name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
