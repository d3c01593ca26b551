"""Wall time and peak memory of the gate on Spark (local mode) beside the single-machine gate.

    .venv/bin/python benchmarks/bench_spark.py [--rows 1000000 10000000] [--cores 2] [--skip-single | --skip-spark]

For each size it writes a binary holdout (label, two models' probabilities, a
sensitive group, one numeric feature) as a Parquet folder of 1e6-row files,
then runs ``mlgate gate`` in a child process twice: ``data.engine: spark`` on
the folder (local[cores]) and the default engine on one Parquet file with the
same rows. The gate: accuracy, ROC AUC and log loss against the baseline, with
floors, and fairness on the group. It prints wall seconds and the peak resident
memory of the child's whole process tree (sampled every 0.2 s), which for Spark
is the Python driver plus the JVM that holds the executors in local mode.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CONFIG = """
task: binary
data: {{path: {path}, target: label, engine: {engine}}}
candidate: {{column: cand}}
baseline: {{column: base}}
metrics:
  accuracy: {{margin: 0.005, min: 0.6}}
  roc_auc: {{margin: 0.005, min: 0.7}}
  log_loss: {{margin: 0.01}}
fairness: {{sensitive: [group], max_difference: 0.1}}
report: {{path: {report}}}
"""

FILE_ROWS = 1_000_000


def write_holdout(folder: Path, rows: int, seed: int = 0) -> None:
    """``rows`` rows in files of at most 1e6 rows, so that writing takes bounded memory."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for part, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        y = rng.integers(0, 2, n)
        signal = y - 0.5
        pd.DataFrame(
            {
                "label": y,
                "cand": np.clip(0.5 + 0.35 * signal + rng.normal(0, 0.2, n), 0.001, 0.999),
                "base": np.clip(0.5 + 0.3 * signal + rng.normal(0, 0.2, n), 0.001, 0.999),
                "group": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
                "income": rng.lognormal(3, 0.5, n),
            }
        ).to_parquet(folder / f"part-{part:05d}.parquet", index=False)


def one_file(folder: Path, target: Path) -> None:
    import pyarrow.parquet as pq

    files = sorted(folder.glob("*.parquet"))
    with pq.ParquetWriter(target, pq.read_schema(files[0])) as writer:
        for f in files:
            writer.write_table(pq.read_table(f))


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm", encoding="utf-8") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
    return total


def run(config: Path) -> tuple[float, float, int]:
    """(wall seconds, peak tree RSS in MiB, exit code) of ``mlgate gate -c config``."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest_mlgate.cli", "gate", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(child.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if child.returncode not in (0, 1):
        sys.stderr.write(child.stderr.read().decode()[-2000:] if child.stderr else "")
    return wall, peak / 2**20, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--cores", type=int, default=2, help="local[cores] for Spark")
    parser.add_argument("--skip-single", action="store_true", help="time only the Spark engine")
    parser.add_argument("--skip-spark", action="store_true", help="time only the single-machine engine")
    args = parser.parse_args()
    os.environ.setdefault("MLGATE_SPARK_CORES", str(args.cores))
    print(f"{'rows':>12} {'engine':>8} {'wall s':>8} {'peak MiB':>9} exit")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            base = Path(tmp) / f"n{rows}"
            write_holdout(base / "folder", rows)
            engines = [] if args.skip_spark else [("spark", base / "folder")]
            if not args.skip_single:
                one_file(base / "folder", base / "holdout.parquet")
                engines.append(("pandas", base / "holdout.parquet"))
            for engine, path in engines:
                config = base / f"{engine}.yaml"
                report = base / f"{engine}-report.json"
                config.write_text(CONFIG.format(path=path, engine=engine, report=report), encoding="utf-8")
                wall, peak, code = run(config)
                print(f"{rows:>12,} {engine:>8} {wall:>8.1f} {peak:>9.0f} {code}", flush=True)


if __name__ == "__main__":
    main()
