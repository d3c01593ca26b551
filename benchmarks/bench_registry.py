"""What the MLflow registry adds to a gate: loading by URI, the prediction cache, logging, promotion.

Runs against the embedded store (sqlite, no server) and a real `mlflow server`
on 127.0.0.1, best of a few runs each. Prediction rows: 1e5 and 1e6, through
the registry model (content-hashed cache) and the bare estimator.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

RUNS = 3


def best(fn: Callable[[], Any], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def store_figures(label: str, uri: str, root: Path) -> None:
    import json

    import mlflow_parts as parts

    from pytest_mlgate.config import load_config
    from pytest_mlgate.gate import run_gate
    from pytest_mlgate.io import mlflow_model
    from pytest_mlgate.registry.commands import promote
    from pytest_mlgate.registry.publish import publish

    train, holdout = parts.credit_like(2000, seed=1), parts.credit_like(20_000, seed=2)
    project = parts.make_project(root / label, uri, holdout)
    for columns in (["a"], ["a", "b"]):
        parts.register(uri, project.name, parts.fit(train, columns))
    from mlflow import MlflowClient

    client = MlflowClient(uri, registry_uri=uri)
    client.set_registered_model_alias(project.name, "champion", "1")
    client.set_registered_model_alias(project.name, "candidate", "2")
    config_path = project.config(f"models:/{project.name}@candidate", f"models:/{project.name}@champion")
    project.commit()

    def cold_load() -> None:
        mlflow_model._LOADED.clear()
        mlflow_model.load_mlflow_model(
            f"models:/{project.name}@candidate", tracking=uri, trust=True, role="candidate"
        )

    resolve_s = best(lambda: mlflow_model.resolve(f"models:/{project.name}@candidate", uri, "candidate"))
    load_s = best(cold_load)
    config = load_config(config_path)
    report = run_gate(config)
    path = project.root / "mlgate-report.json"
    report.write(path)
    publish_s = best(lambda: publish(report, path, config))
    assert json.loads(path.read_text())["decision"] == "promote"

    def promote_and_reset() -> None:
        promote(path, config, git_tag=False)
        client.set_registered_model_alias(project.name, "champion", "1")  # undo, so each run moves it

    promote_s = best(promote_and_reset)
    print(
        f"{label:9} resolve alias {resolve_s * 1000:6.0f} ms | download+load {load_s * 1000:6.0f} ms | "
        f"log report+tags {publish_s * 1000:6.0f} ms | promote (lock, CAS, ledger) {promote_s * 1000:6.0f} ms"
    )


def prediction_figures(uri: str, root: Path) -> None:
    import mlflow_parts as parts
    import numpy as np

    from pytest_mlgate.io import mlflow_model

    name = parts.unique_name("bench")
    parts.register(uri, name, parts.fit(parts.credit_like(2000, seed=1), ["a", "b"]))
    model = mlflow_model.load_mlflow_model(f"models:/{name}/1", tracking=uri, trust=True, role="candidate")
    for rows in (100_000, 1_000_000):
        frame = parts.credit_like(rows, seed=3)[["a", "b", "c"]]
        bare = best(lambda frame=frame: model.uncached.predict_proba(frame))
        model._cache.clear()
        first = best(lambda frame=frame: (model._cache.clear(), model.predict_proba(frame)))
        cached = best(lambda frame=frame: model.predict_proba(frame))
        np.testing.assert_allclose(model.predict_proba(frame), model.uncached.predict_proba(frame))
        print(
            f"predict_proba {rows:>9,} rows: estimator {bare:.3f} s ({rows / bare:,.0f} rows/s) | "
            f"registry model first call {first:.3f} s (+{(first - bare) * 1000:.0f} ms to hash the rows) | "
            f"cached {cached:.3f} s"
        )


def main() -> int:
    import mlflow_parts as parts

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chdir(root)  # the embedded store's default experiment keeps its artifacts in ./mlruns
        embedded = f"sqlite:///{root / 'embedded.db'}"
        store_figures("embedded", embedded, root)
        server = parts.MlflowServer(root / "server", parts.free_port()).start()
        try:
            store_figures("server", server.url, root)
            prediction_figures(server.url, root)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
