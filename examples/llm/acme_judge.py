"""A user grader for the example (`kind: callable`): does the JSON reply name the right order?

The json_schema grader checks the shape; this checks the content against the case's reference.
An LLM-as-judge hook has the same signature: (output, case) -> bool or a score in [0, 1].
"""

from __future__ import annotations

import json
from typing import Any


def same_order(output: str, case: dict[str, Any]) -> bool:
    try:
        reply = json.loads(output.strip())
    except ValueError:
        return False
    return bool(reply == case["reference"])
