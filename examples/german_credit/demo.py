"""The README's demo: train, gate a real candidate, gate a broken one.

Exit 0 when every gate decided as this demo expects, 1 otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def run(title: str, command: list[str]) -> int:
    print(f"\n=== {title}\n$ {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=HERE, check=False).returncode


def decision(report: Path) -> str:
    return str(json.loads(report.read_text(encoding="utf-8"))["decision"])


def main() -> int:
    if run("1. train production, candidate and a degraded retrain", [sys.executable, "train.py"]) != 0:
        return 1
    gate = run(
        "2. gate the candidate: pytest --mlgate",
        [str(BIN / "pytest"), "--mlgate", "-rs", "-p", "no:cacheprovider"],
    )
    broken = run(
        "3. gate a degraded retrain (labels shuffled): mlgate gate",
        [str(BIN / "mlgate"), "gate", "-c", "mlgate-degraded.yaml", "-o", "artifacts/degraded-report.json"],
    )
    run(
        "4. the candidate's report as Markdown (the PR comment)",
        [str(BIN / "mlgate"), "report", "mlgate-report.json"],
    )
    got = (decision(HERE / "mlgate-report.json"), decision(HERE / "artifacts/degraded-report.json"))
    print(f"\nreports: {HERE / 'mlgate-report.json'} and {HERE / 'artifacts/degraded-report.json'}")
    print(f"decisions: candidate={got[0]} (pytest exit {gate}), degraded={got[1]} (mlgate exit {broken})")
    expected = (("keep", "promote"), ("reject",))
    ok = got[0] in expected[0] and got[1] in expected[1] and gate == 0 and broken == 1
    print("demo OK" if ok else "demo FAILED: a gate did not decide as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
