# `mlgate rollback` with the action's inputs; outputs the alias's version afterwards.
# env: MODEL, CONFIG, ALIAS, TO_VERSION, REASON (validated)
set -euo pipefail
target=()
[ -n "$CONFIG" ] && target+=(--config "$CONFIG")
[ -n "$MODEL" ] && target+=(--model "$MODEL")
[ -n "$ALIAS" ] && target+=(--alias "$ALIAS")
args=("${target[@]}" --reason "$REASON")
[ -n "$TO_VERSION" ] && args+=(--to-version "$TO_VERSION")
mlgate rollback "${args[@]}"
# The alias's version now: the ledger's last entry is this rollback (or the one it repeats).
mlgate history "${target[@]}" --json | python -c '
import json, sys
ledger = json.load(sys.stdin)["ledger"]
print("version=" + (ledger[-1]["to_version"] if ledger else ""))' >>"$GITHUB_OUTPUT"
