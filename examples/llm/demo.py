"""The LLM part of the demo (`make demo` runs it after the German credit demo).

  L1. gate prompt v2 against production's outputs (prompt v1): PROMOTE;
  L2. gate the leaky prompt v1 as a candidate: it leaks the canary, REJECT;
  L3. a prompt release through MLflow's prompt registry (the embedded sqlite store, no server):
      both prompts registered, @production on v1, the gate reads them as `prompts:/` URIs,
      `mlgate promote-prompt` moves @production to v2 and `mlgate rollback-prompt` moves it back.

Everything runs offline: the "model" is examples/llm/model.py. Exit 0 when every step decided as
expected, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
RELEASE = ARTIFACTS / "release"
BIN = Path(sys.executable).parent
PROMPT = "acme-assistant"
SHARED = ("golden.jsonl", "injection.jsonl", "model.py", "acme_judge.py", "order.schema.json")


def run(title: str, command: list[str], cwd: Path = HERE) -> int:
    print(f"\n=== {title}\n$ {' '.join(command)}", flush=True)
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the embedded store beside the config, whatever the shell says
    return subprocess.run(command, cwd=cwd, check=False, env=env).returncode


def decision(report: Path) -> str:
    return str(json.loads(report.read_text(encoding="utf-8"))["decision"]) if report.exists() else "none"


def release_config() -> Path:
    """The example's gate, with both prompts read from the registry instead of files."""
    for name in SHARED:
        shutil.copy(HERE / name, RELEASE / name)
    config = (HERE / "mlgate.yaml").read_text(encoding="utf-8")
    config = config.replace("prompt: prompts/v2.txt", f'prompt: "prompts:/{PROMPT}/2"')
    config = config.replace(
        "outputs: baseline_outputs.jsonl",
        f'function: "model:answer"\n    prompt: "prompts:/{PROMPT}@production"',
    )
    path = RELEASE / "mlgate.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def register_prompts() -> None:
    """What a prompt engineer does in a notebook: register both texts, production on v1."""
    from mlflow import MlflowClient

    store = f"sqlite:///{RELEASE / 'mlflow.db'}"
    c = MlflowClient(store, registry_uri=store)
    for version in ("v1", "v2"):
        c.register_prompt(PROMPT, (HERE / "prompts" / f"{version}.txt").read_text(encoding="utf-8"))
    c.set_prompt_alias(PROMPT, "production", 1)
    print(f"\n(prompt engineer) registered {PROMPT} v1 and v2; @production → v1")


def production() -> str:
    from mlflow import MlflowClient

    store = f"sqlite:///{RELEASE / 'mlflow.db'}"
    return str(
        MlflowClient(store, registry_uri=store).get_prompt_version_by_alias(PROMPT, "production").version
    )


def main() -> int:
    mlgate = str(BIN / "mlgate")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    RELEASE.mkdir(parents=True)
    steps: dict[str, tuple[int, str]] = {}
    for name, config, title in (
        ("v2", "mlgate.yaml", "L1. gate prompt v2 against production (prompt v1): expect PROMOTE"),
        ("leaky", "mlgate-leaky.yaml", "L2. gate the leaky prompt v1 as a candidate: expect REJECT"),
    ):
        report = ARTIFACTS / f"llm-{name}.json"
        command = [
            mlgate,
            "gate",
            "-c",
            config,
            "-o",
            str(report),
            "--html",
            str(report.with_suffix(".html")),
        ]
        steps[name] = (run(title, command), decision(report))

    release_config()
    register_prompts()
    report = RELEASE / "mlgate-report.json"
    gate = run(
        f"L3. gate prompts:/{PROMPT}/2 against @production, both read from the prompt registry",
        [mlgate, "gate", "-c", "mlgate.yaml", "-o", str(report)],
        cwd=RELEASE,
    )
    steps["registry"] = (gate, decision(report))
    promoted = run(
        f"L4. promote the gated prompt: {PROMPT}@production → v2",
        [mlgate, "promote-prompt", str(report), "--prompt", PROMPT, "--reason", "v2 passed the gate"],
        cwd=RELEASE,
    )
    steps["promote"] = (promoted, production())
    rolled = run(
        f"L5. roll {PROMPT}@production back to v1",
        [mlgate, "rollback-prompt", "--prompt", PROMPT, "--alias", "production", "--reason", "demo rollback"],
        cwd=RELEASE,
    )
    steps["rollback"] = (rolled, production())

    expected = {
        "v2": (0, "promote"),
        "leaky": (1, "reject"),
        "registry": (0, "promote"),
        "promote": (0, "2"),
        "rollback": (0, "1"),
    }
    wrong = {k: v for k, v in steps.items() if v != expected[k]}
    print("\nwhere the reports are:")
    for path in sorted(ARTIFACTS.glob("llm-*.html")):
        print(f"  {path}")
    if wrong:
        print(f"LLM demo FAILED: unexpected (exit code, result): {wrong}; expected {expected}")
        return 1
    print("LLM demo OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
