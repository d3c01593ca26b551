"""The README's demo: gate a real candidate, then run a release through the MLflow registry.

Part one gates model files with `pytest --mlgate` (the candidate is better on
AUC, but 400 rows are too few to tell on accuracy: KEEP) and rejects a retrain
on shuffled labels.

Part two is a release in a throwaway git repository with a bare remote and the
embedded MLflow store (sqlite, no server):
  1. register three versions; gate v1 with no champion yet (floors only) and make it champion;
  2. gate v2 against the champion and promote it: version tags, ledger, git tag pushed;
  3. gate v3 (the shuffled-label retrain): rejected, and `mlgate promote` refuses it;
  4. roll back, and print the ledger.

Part three judges production logs (examples/live, logs generated with known
effects): a canary with 3x the errors rolls back, an equal one promotes, a shadow
names the requests it disagrees on, an A/B test with a lift promotes and one with
a broken split is invalid, and a week of drifting production asks for retraining.

Exit 0 when every step decided as this demo expects, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ARTIFACTS = HERE / "artifacts"
WORKSPACE = ARTIFACTS / "release-repo"
REMOTE = ARTIFACTS / "release-remote.git"
MODEL = "german-credit"


def run(title: str, command: list[str], cwd: Path = HERE) -> int:
    print(f"\n=== {title}\n$ {' '.join(command)}", flush=True)
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the demo uses the embedded store, whatever the shell says
    return subprocess.run(command, cwd=cwd, check=False, env=env).returncode


def decision(report: Path) -> str:
    return str(json.loads(report.read_text(encoding="utf-8"))["decision"])


def git(*args: str, cwd: Path = WORKSPACE) -> str:
    identity = ["-c", "user.name=mlgate demo", "-c", "user.email=demo@localhost"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def set_alias(alias: str, version: str) -> None:
    """What a training pipeline does after registering a model: point @candidate at it."""
    from mlflow import MlflowClient

    store = f"sqlite:///{WORKSPACE / 'mlflow.db'}"
    MlflowClient(store, registry_uri=store).set_registered_model_alias(MODEL, alias, version)
    print(f"\n(training pipeline) {MODEL}@{alias} → v{version}")


def part_one() -> tuple[bool, list[str]]:
    gate = run(
        "1. gate the candidate file: pytest --mlgate",
        [
            str(BIN / "pytest"),
            "--mlgate",
            "-rs",
            "-p",
            "no:cacheprovider",
            "--mlgate-html",
            "artifacts/candidate-report.html",
        ],
    )
    broken = run(
        "2. gate a degraded retrain (labels shuffled): mlgate gate",
        [
            str(BIN / "mlgate"),
            "gate",
            "-c",
            "mlgate-degraded.yaml",
            "-o",
            "artifacts/degraded-report.json",
            "--html",
            "artifacts/degraded-report.html",
        ],
    )
    run(
        "3. the candidate's report as Markdown (the PR comment)",
        [str(BIN / "mlgate"), "report", "mlgate-report.json"],
    )
    got = (decision(HERE / "mlgate-report.json"), decision(ARTIFACTS / "degraded-report.json"))
    print(f"\ndecisions: candidate={got[0]} (pytest exit {gate}), degraded={got[1]} (mlgate exit {broken})")
    ok = got[0] in ("keep", "promote") and got[1] == "reject" and gate == 0 and broken == 1
    return ok, [
        str(HERE / "mlgate-report.json"),
        str(ARTIFACTS / "candidate-report.html"),
        str(ARTIFACTS / "degraded-report.json"),
        str(ARTIFACTS / "degraded-report.html"),
    ]


def part_two() -> tuple[bool, list[str]]:
    for path in (WORKSPACE, REMOTE):
        shutil.rmtree(path, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    shutil.copy(HERE / "release" / "mlgate.yaml", WORKSPACE / "mlgate.yaml")
    shutil.copy(ARTIFACTS / "holdout.csv", WORKSPACE / "holdout.csv")
    (WORKSPACE / ".gitignore").write_text(
        "mlflow.db\nmlartifacts/\nmlgate-report.json\nreports/\n", encoding="utf-8"
    )
    (WORKSPACE / "reports").mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(REMOTE)], check=True)
    git("init", "-q")
    git("remote", "add", "origin", str(REMOTE))
    git("add", "-A")
    git("commit", "-q", "-m", "release gate for german-credit")
    mlgate = str(BIN / "mlgate")
    steps: dict[str, int] = {}
    steps["register"] = run(
        "4. register production, candidate and degraded as versions 1-3 (embedded MLflow store)",
        [sys.executable, str(HERE / "register.py"), str(WORKSPACE)],
    )
    set_alias("candidate", "1")
    steps["gate v1"] = run(
        "5. first run, no champion yet: gate v1 on floors only", [mlgate, "gate"], WORKSPACE
    )
    steps["promote v1"] = run(
        "6. make it champion",
        [mlgate, "promote", "--reason", "first champion", "--push", "origin"],
        WORKSPACE,
    )
    set_alias("candidate", "2")
    steps["gate v2"] = run(
        "7. gate v2 against the champion",
        [mlgate, "gate", "-o", "reports/v2.json", "--html", "reports/v2.html"],
        WORKSPACE,
    )
    steps["promote v2"] = run(
        "8. promote it: compare-and-swap on @champion, ledger, git tag",
        [
            mlgate,
            "promote",
            "reports/v2.json",
            "--reason",
            "better AUC on the 2026-12 holdout",
            "--push",
            "origin",
        ],
        WORKSPACE,
    )
    tags = subprocess.run(
        ["git", "--git-dir", str(REMOTE), "tag", "-n12", "-l", f"model/{MODEL}/*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(f"\ngit tags on the remote:\n{tags}")
    set_alias("candidate", "3")
    steps["gate v3"] = run(
        "9. gate v3, the shuffled-label retrain",
        [mlgate, "gate", "-o", "reports/v3.json", "--html", "reports/v3.html"],
        WORKSPACE,
    )
    steps["promote v3"] = run(
        "10. try to promote it anyway", [mlgate, "promote", "reports/v3.json"], WORKSPACE
    )
    steps["rollback"] = run(
        "11. an incident: roll @champion back",
        [mlgate, "rollback", "--reason", "demo: incident drill", "--by", "oncall"],
        WORKSPACE,
    )
    steps["history"] = run("12. the ledger", [mlgate, "history"], WORKSPACE)
    expected = {
        "register": 0, "gate v1": 0, "promote v1": 0, "gate v2": 0, "promote v2": 0,
        "gate v3": 1, "promote v3": 1, "rollback": 0, "history": 0,
    }  # fmt: skip
    wrong = {k: v for k, v in steps.items() if v != expected[k]}
    if wrong:
        print(f"\nunexpected exit codes: {wrong} (expected {expected})")
    ok = not wrong and f"model/{MODEL}/v2" in tags
    reports = WORKSPACE / "reports"
    return ok, [
        str(WORKSPACE / "mlgate-report.json") + "  (v1, the first champion)",
        *(str(reports / name) for name in ("v2.json", "v2.html", "v3.json", "v3.html")),
        f"{WORKSPACE / 'mlflow.db'}  (the embedded store: mlflow ui --backend-store-uri sqlite:///{WORKSPACE / 'mlflow.db'})",
        str(REMOTE) + "  (the bare git remote with the model/… tags)",
    ]


def part_three() -> tuple[bool, list[str]]:
    live = ARTIFACTS / "live"
    shutil.rmtree(live, ignore_errors=True)
    shutil.copytree(
        HERE.parent / "live", live, ignore=shutil.ignore_patterns("logs", "profile.json", "*-report.json")
    )
    reports = live / "reports"
    reports.mkdir()
    mlgate = str(BIN / "mlgate")
    run("13. write production logs with known effects", [sys.executable, "make_logs.py"], cwd=live)
    run(
        "14. the reference profile for monitoring",
        [mlgate, "profile", "logs/reference.csv", "-o", "profile.json"],
        cwd=live,
    )
    steps = {
        "canary-bad": (["canary", "-c", "canary.yaml"], "rollback", 1),
        "canary-good": (["canary", "-c", "canary.yaml", "--logs", "logs/canary-good.csv"], "promote", 0),
        "shadow": (["shadow", "-c", "shadow.yaml"], "promote", 0),
        "abtest": (["abtest", "-c", "abtest.yaml"], "promote", 0),
        "abtest-srm": (["abtest", "-c", "abtest.yaml", "--logs", "logs/abtest-srm.csv"], "invalid", 1),
        "monitor": (["monitor", "-c", "monitor.yaml", "--now", "2026-12-07T00:00:00Z"], "retrain", 1),
    }
    ok = True
    for number, (name, (args, expected, code)) in enumerate(steps.items(), start=15):
        report = reports / f"{name}.json"
        command = [mlgate, *args, "-o", str(report), "--html", str(reports / f"{name}.html")]
        got = run(f"{number}. {name}: expect {expected.upper()} (exit {code})", command, cwd=live)
        verdict = json.loads(report.read_text(encoding="utf-8"))["verdict"] if report.exists() else "none"
        if (got, verdict) != (code, expected):
            print(f"\nunexpected: {name} gave {verdict} (exit {got}), expected {expected} (exit {code})")
            ok = False
    return ok, [str(reports / "*.html") + "  (canary, shadow, A/B and monitoring from logs)"]


def main() -> int:
    if run("0. train production, candidate and a degraded retrain", [sys.executable, "train.py"]) != 0:
        return 1
    ok_one, where_one = part_one()
    ok_two, where_two = part_two()
    ok_three, where_three = part_three()
    print("\nwhere the reports are (open the .html files in a browser; they need no network):")
    for path in (*where_one, *where_two, *where_three):
        print(f"  {path}")
    ok = ok_one and ok_two and ok_three
    print("demo OK" if ok else "demo FAILED: a step did not decide as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
