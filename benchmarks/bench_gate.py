"""Throughput of the full paired comparison at 1e5 and 1e6 rows.

    make bench        (or: .venv/bin/python benchmarks/bench_gate.py [--rows 100000 1000000])

For each size, a fresh process builds a binary holdout set and times
accuracy, F1, ROC AUC and log loss with 95% intervals at B = 2,000 (no top-up
forced), then prints wall seconds, rows per second and peak memory: the
tracemalloc peak of the computation (numpy buffers included) and the process's
peak RSS. ``plots`` is the report's curve section on the same rows (ROC/PR,
calibration, confusion, score histograms, the top disagreeing rows, and the four
metrics within each of 3 slices), timed apart and not in ``total``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

METRICS = ("accuracy", "f1", "log_loss", "roc_auc")


def measure(rows: int) -> dict[str, float]:
    import numpy as np

    from pytest_mlgate.stats.paired import compare
    from pytest_mlgate.stats.rng import stream

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, rows)
    signal = 2 * y - 1
    cand = 1 / (1 + np.exp(-(1.1 * signal + rng.normal(0, 1, rows))))
    base = 1 / (1 + np.exp(-(1.0 * signal + rng.normal(0, 1, rows))))
    labels = {"cand": (cand >= 0.5).astype(np.intp), "base": (base >= 0.5).astype(np.intp)}
    compare("accuracy", y[:1000], labels["cand"][:1000], labels["base"][:1000], rng=stream(0, "warm"))

    out: dict[str, float] = {"rows": rows}
    tracemalloc.start()
    total = 0.0
    for metric in METRICS:
        c, b = (labels["cand"], labels["base"]) if metric in ("accuracy", "f1") else (cand, base)
        start = time.perf_counter()
        compare(metric, y, c, b, rng=stream(0, metric), n_boot=2_000)
        elapsed = time.perf_counter() - start
        out[metric] = elapsed
        total += elapsed
    out["total"] = total
    out["plots"] = _time_plots(y, cand, base, labels)
    out["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _time_plots(y: Any, cand: Any, base: Any, labels: dict[str, Any]) -> float:
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from pytest_mlgate.config import DataConfig, GateConfig, MetricConfig
    from pytest_mlgate.data import EvalData, Predictions
    from pytest_mlgate.figures import report_plots

    config = GateConfig(
        task="binary",
        data=DataConfig(path=Path("bench.csv"), target="y"),
        candidate=None,
        baseline=None,
        metrics=tuple(MetricConfig(m) for m in METRICS),
        slices=("region",),
    )
    region = np.random.default_rng(1).choice(["north", "south", "east"], y.size)
    data = EvalData(
        task="binary",
        y=y,
        classes=("0", "1"),
        candidate=Predictions({"role": "candidate"}, labels=labels["cand"], scores=cand),
        baseline=Predictions({"role": "baseline"}, labels=labels["base"], scores=base),
        data_path=Path("bench.csv"),
        data_sha256="",
        frame=pd.DataFrame({"region": region}),
    )
    start = time.perf_counter()
    report_plots(config, data)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    print(
        f"{'rows':>10}  {'accuracy':>9}  {'f1':>7}  {'log_loss':>9}  {'roc_auc':>8}  {'total s':>8}  "
        f"{'rows/s':>11}  {'peak MiB':>9}  {'RSS MiB':>8}  {'plots s':>8}"
    )
    for rows in args.rows:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)], capture_output=True, text=True, check=True
        )
        r = json.loads(done.stdout)
        print(
            f"{rows:>10,}  {r['accuracy']:>9.3f}  {r['f1']:>7.3f}  {r['log_loss']:>9.3f}  {r['roc_auc']:>8.3f}  "
            f"{r['total']:>8.3f}  {rows / r['total']:>11,.0f}  {r['tracemalloc_peak_mib']:>9.1f}  {r['max_rss_mib']:>8.1f}  {r['plots']:>8.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
