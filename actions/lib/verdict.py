"""Print a report's verdict when it is one of the given ones, else `error`.

Later steps act on this value (a rollback, a dispatch), so nothing else gets through.
usage: python verdict.py REPORT VERDICT...
"""

import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as file:
        verdict = json.load(file).get("verdict")
except (OSError, ValueError, AttributeError):
    verdict = None
print(verdict if verdict in sys.argv[2:] else "error")
