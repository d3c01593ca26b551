"""Write the example's outputs files: what prompt v1 (production) and v2 (the candidate) answer.

`baseline_outputs.jsonl` stands for outputs collected from production by any tool; the gate's
config generates the candidate's outputs itself, and `candidate_outputs.jsonl` is the same thing
written down, for the outputs-only config. Run from anywhere: python examples/llm/make_outputs.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = 3


def main() -> int:
    from pytest_mlgate.llm.generate import generate_outputs
    from pytest_mlgate.llm.prompts import resolve_prompt

    cases = [
        json.loads(line)
        for name in ("golden.jsonl", "injection.jsonl")
        for line in (HERE / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for role, prompt_file in (("baseline", "prompts/v1.txt"), ("candidate", "prompts/v2.txt")):
        prompt, _ = resolve_prompt(prompt_file, base_dir=HERE, key=f"{role}.prompt")
        records = generate_outputs(
            cases, {"function": "model:answer"}, samples=SAMPLES, prompt=prompt, key=role, base_dir=HERE
        )
        path = HERE / f"{role}_outputs.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        print(f"{path.name}: {len(records)} records ({len(cases)} cases x {SAMPLES} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
