"""Throughput of the data checks (issue targets on the 2-core machine in brackets).

    .venv/bin/python benchmarks/bench_data_checks.py [--csv-rows 10000000]

* drift on 25 columns (20 numeric, 5 categorical), 1e6 reference rows against
  1e6 current rows [< 2 s]: building the reference profile, then the comparison;
* fairness with intervals, 8 groups × 3 metrics, B = 1,000, 1e6 rows [< 1 s];
* `mlgate profile` on a CSV of 1e7 rows [peak memory < 1 GiB], in a child
  process whose peak RSS is reported;
* `mlgate profile` on Parquet files of 1e7 rows, 25 columns, written with row groups of
  1e6 rows and as one row group [peak memory < 1 GiB whatever the row-group size].
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

from pytest_mlgate.checks.drift import run_drift
from pytest_mlgate.checks.fairness import run_fairness
from pytest_mlgate.config import DriftConfig, FairnessConfig
from pytest_mlgate.profile import build_profile, frame_chunks


def drift_frames(rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        data: dict[str, object] = {f"num{i}": rng.normal(shift, 1, rows) for i in range(20)}
        for i in range(5):
            data[f"cat{i}"] = rng.choice(np.array(list("abcdefgh"), dtype=object), rows)
        return pd.DataFrame(data)

    return frame(0.0), frame(0.02)


def bench_drift(rows: int, tmp: Path) -> None:
    reference, current = drift_frames(rows)
    start = time.perf_counter()
    profile = build_profile(frame_chunks(reference))
    built = time.perf_counter() - start
    path = tmp / "reference.json"
    profile.write(path)
    start = time.perf_counter()
    run_drift(DriftConfig(reference=path), current, target="y")
    compared = time.perf_counter() - start
    print(
        f"drift, 25 columns, {rows:,} vs {rows:,} rows: profile {built:.2f} s + compare {compared:.2f} s "
        f"= {built + compared:.2f} s; against a stored profile {compared:.2f} s"
    )


def bench_fairness(rows: int) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"region": rng.choice(list("ABCD"), rows), "sex": rng.choice(["f", "m"], rows)})
    y = rng.integers(0, 2, rows)
    cand = np.where(rng.random(rows) < 0.8, y, 1 - y)
    base = np.where(rng.random(rows) < 0.8, y, 1 - y)
    cfg = FairnessConfig(
        sensitive=("region", "sex"), metrics=("selection_rate", "true_positive_rate", "false_positive_rate")
    )
    start = time.perf_counter()
    run_fairness(cfg, frame, y, cand, base, seed=0, n_boot=1_000, confidence=0.95)
    print(f"fairness, 8 groups × 3 metrics, B = 1,000, {rows:,} rows: {time.perf_counter() - start:.2f} s")


def bench_profile_csv(rows: int, tmp: Path) -> None:
    path = tmp / "big.csv"
    rng = np.random.default_rng(2)
    chunk = 1_000_000
    for i, start in enumerate(range(0, rows, chunk)):
        size = min(chunk, rows - start)
        pd.DataFrame(
            {
                "a": rng.normal(size=size).round(4),
                "b": rng.exponential(size=size).round(4),
                "c": rng.integers(0, 1000, size),
                "d": rng.uniform(size=size).round(4),
                "region": rng.choice(list("ABCDEFGH"), size),
            }
        ).to_csv(path, mode="w" if i == 0 else "a", header=i == 0, index=False)
    size_mib = path.stat().st_size / 2**20
    elapsed, peak = _profile_in_child(path, tmp / "big-profile.json")
    print(f"mlgate profile, CSV of {rows:,} rows ({size_mib:,.0f} MiB): {elapsed:.1f} s, peak RSS {peak} MiB")


def _profile_in_child(path: Path, out: Path) -> tuple[float, str]:
    """(wall seconds, peak RSS in MiB as the child printed it) of profiling ``path`` in a fresh process."""
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", PROFILE_CHILD, str(path), str(out)], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, child.stderr.strip().splitlines()[-1]


def bench_profile_parquet(rows: int, tmp: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = min(rows, 1_000_000)
    rng = np.random.default_rng(3)
    letters = np.array(list("abcdefgh"), dtype=object)

    def columns(size: int) -> dict[str, object]:
        data: dict[str, object] = {f"num{i}": rng.normal(size=size).round(4) for i in range(20)}
        data.update({f"cat{i}": letters[rng.integers(0, 8, size)] for i in range(5)})
        return data

    grouped = tmp / "grouped.parquet"
    with pq.ParquetWriter(grouped, pa.table(columns(1)).schema) as writer:
        for start in range(0, rows, chunk):
            writer.write_table(pa.table(columns(min(chunk, rows - start))), row_group_size=chunk)
    single = tmp / "single.parquet"
    pq.write_table(pa.table(columns(rows)), single, row_group_size=rows)
    for path, layout in ((grouped, f"row groups of {chunk:,} rows"), (single, "one row group")):
        size_mib = path.stat().st_size / 2**20
        elapsed, peak = _profile_in_child(path, tmp / "pq-profile.json")
        print(
            f"mlgate profile, Parquet of {rows:,} rows x 25 columns ({size_mib:,.0f} MiB), {layout}: "
            f"{elapsed:.1f} s, peak RSS {peak} MiB"
        )
        path.unlink()


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the (large) parent.
PROFILE_CHILD = """
import sys
from pytest_mlgate.cli import main
assert main(["profile", sys.argv[1], "-o", sys.argv[2]]) == 0
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(f"{int(hwm.split()[1]) / 1024:.0f}", file=sys.stderr)
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=10_000_000)
    parser.add_argument("--parquet-rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_drift(args.rows, Path(tmp))
        bench_fairness(args.rows)
        bench_profile_csv(args.csv_rows, Path(tmp))
        bench_profile_parquet(args.parquet_rows, Path(tmp))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process's own peak RSS: {peak:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
