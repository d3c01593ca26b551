"""Throughput and memory of the canary analysis, streamed from Parquet.

    .venv/bin/python benchmarks/bench_canary.py [--rows 10000000] [--chunk-rows 100000]

Writes logs of 1e5, 1e6 and ``--rows`` rows (timestamp, arm, request id,
latency, error flag, score) in row groups, so writing is bounded too; then runs
``mlgate canary`` on each in a child process and reports its wall time, rows
per second and peak RSS. The canary metrics: error rate, latency p50/p95/p99 and
the scores' drift.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CONFIG = """
logs: {{path: {log}, chunk_rows: {chunk}}}
canary:
  control: 1
  canary: 2
  metrics:
    error_rate: {{max_increase: 0.005, critical: true}}
    latency_p50: {{max_relative_increase: 0.1}}
    latency_p95: {{max_relative_increase: 0.2}}
    latency_p99: {{max_relative_increase: 0.3}}
    prediction_drift: {{max: 0.25}}
"""


def write_log(path: Path, rows: int, group: int = 1_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    start = pd.Timestamp("2026-11-30T00:00:00Z").value
    step = int(6 * 3600 * 1e9 / rows)
    writer = None
    try:
        for first in range(0, rows, group):
            n = min(group, rows - first)
            index = np.arange(first, first + n)
            arm = rng.choice(np.array(["1", "2"]), n, p=[0.9, 0.1])
            frame = pd.DataFrame(
                {
                    "timestamp": pd.to_datetime(start + index * step, utc=True),
                    "arm": arm,
                    "request_id": np.char.add("r", index.astype(str)),
                    "latency_ms": rng.lognormal(np.log(80), 0.35, n),
                    "error": rng.random(n) < 0.01,
                    "score": rng.beta(2, 5, n),
                }
            )
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def run(rows: int, chunk: int, tmp: Path) -> None:
    log = tmp / f"log-{rows}.parquet"
    if not log.exists():
        write_log(log, rows)
    config = tmp / f"canary-{rows}.yaml"
    config.write_text(CONFIG.format(log=log, chunk=chunk), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_mlgate.cli",
            "canary",
            "-c",
            str(config),
            "-o",
            str(tmp / "report.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        sys.exit(f"mlgate canary failed ({done.returncode}): {done.stderr}")
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("verdict:"))
    peak_note = f"peak RSS {peak / 1024:.0f} MiB" if peak > before else "peak RSS not above an earlier run's"
    print(
        f"canary, {rows:>12,} rows, {log.stat().st_size / 2**20:7.1f} MiB Parquet: {wall:6.2f} s "
        f"({rows / wall / 1e6:.2f} M rows/s, process start included), {peak_note}; {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-canary-") as tmp:
        for rows in sorted({100_000, 1_000_000, args.rows}):
            run(rows, args.chunk_rows, Path(tmp))


if __name__ == "__main__":
    main()
