"""Wall time and peak memory of the gate on Spark (local mode) beside the single-machine gate.

    .venv/bin/python benchmarks/bench_spark.py [--rows 1000000 10000000] [--cores 2] [--skip-single | --skip-spark]
        [--driver-memory 4g] [--shuffle-partitions N] [--single-cap-gib G] [--keep DIR]

For each size it writes a binary holdout (label, two models' probabilities, a
sensitive group, one numeric feature) as a Parquet folder of 1e6-row files,
then runs the gate in a child process twice: ``data.engine: spark`` on the
folder (local[cores]) and the default engine (``mlgate gate``) on one Parquet
file with the same rows. The Spark child builds its session first, with
``--driver-memory`` (local mode's executors live in the driver's JVM) and
``--shuffle-partitions`` (default: local_session's 2 x cores), then runs the
same ``run_gate`` as ``mlgate gate``, which uses the active session, as in a
notebook or under spark-submit. ``--single-cap-gib`` caps the single-machine
child's address space, so that a table that does not fit ends in a MemoryError
instead of the machine swapping. The gate: accuracy, ROC AUC and log loss against the baseline, with
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


SPARK_CHILD = """
import sys
from pathlib import Path
from pyspark.sql import SparkSession
from pytest_mlgate.config import load_config
from pytest_mlgate.gate import run_gate

config, cores, memory, partitions = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
builder = (
    SparkSession.builder.master(f"local[{cores}]")
    .config("spark.driver.memory", memory)
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
)
if partitions:
    builder = builder.config("spark.sql.shuffle.partitions", partitions)
builder.getOrCreate()
report = run_gate(load_config(Path(config)))
report.write(Path(config).with_suffix(".report.json"))
print(report.summary)
sys.exit(1 if report.failed() else 0)
"""


def run(config: Path, engine: str, args: argparse.Namespace) -> tuple[float, float, int]:
    """(wall seconds, peak tree RSS in MiB, exit code) of the gate of ``config`` in a child process."""
    import resource

    if engine == "spark":
        command = [sys.executable, "-c", SPARK_CHILD, str(config), str(args.cores), args.driver_memory]
        command.append(str(args.shuffle_partitions or ""))
        limit = None
    else:
        command = [sys.executable, "-m", "pytest_mlgate.cli", "gate", "-c", str(config)]
        limit = int(args.single_cap_gib * 2**30) if args.single_cap_gib else None

    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=cap)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(child.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if child.returncode not in (0, 1):
        sys.stderr.write(child.stderr.read().decode()[-1500:] if child.stderr else "")
    return wall, peak / 2**20, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--cores", type=int, default=2, help="local[cores] for Spark")
    parser.add_argument("--skip-single", action="store_true", help="time only the Spark engine")
    parser.add_argument("--skip-spark", action="store_true", help="time only the single-machine engine")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory of the Spark child")
    parser.add_argument("--shuffle-partitions", type=int, help="spark.sql.shuffle.partitions (AUC ranges)")
    parser.add_argument("--single-cap-gib", type=float, help="address-space cap of the single-machine child")
    parser.add_argument("--keep", type=Path, help="write the data here and keep it (reused when present)")
    args = parser.parse_args()
    os.environ.setdefault("MLGATE_SPARK_CORES", str(args.cores))
    print(f"{'rows':>12} {'engine':>8} {'wall s':>8} {'peak MiB':>9} exit")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            base = (args.keep or Path(tmp)) / f"n{rows}"
            if not (base / "written").is_file():
                write_holdout(base / "folder", rows)
                (base / "written").touch()
            engines = [] if args.skip_spark else [("spark", base / "folder")]
            if not args.skip_single and not (base / "holdout.parquet").is_file():
                one_file(base / "folder", base / "holdout.parquet")
            if not args.skip_single:
                engines.append(("pandas", base / "holdout.parquet"))
            for engine, path in engines:
                config = base / f"{engine}.yaml"
                report = base / f"{engine}-report.json"
                config.write_text(CONFIG.format(path=path, engine=engine, report=report), encoding="utf-8")
                wall, peak, code = run(config, engine, args)
                print(f"{rows:>12,} {engine:>8} {wall:>8.1f} {peak:>9.0f} {code}", flush=True)


if __name__ == "__main__":
    main()
