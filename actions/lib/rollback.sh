# `mlgate rollback` with the action's inputs; outputs the alias's version afterwards, and
# rolled-back: true when this run moved it (false: it already pointed there).
# env: MODEL, CONFIG, ALIAS, TO_VERSION, REASON, TRACKING_URI (optional) (validated)
set -euo pipefail
target=()
[ -n "$CONFIG" ] && target+=(--config "$CONFIG")
[ -n "$MODEL" ] && target+=(--model "$MODEL")
[ -n "$ALIAS" ] && target+=(--alias "$ALIAS")
[ -n "${TRACKING_URI:-}" ] && target+=(--tracking-uri "$TRACKING_URI")
args=("${target[@]}" --reason "$REASON")
[ -n "$TO_VERSION" ] && args+=(--to-version "$TO_VERSION")
log=$(mktemp)
mlgate rollback "${args[@]}" | tee "$log"
# A rerun finds the alias already back and moves nothing; say which happened.
if grep -q '^rolled back: ' "$log"; then moved=true; else moved=false; fi
echo "rolled-back=$moved" >>"$GITHUB_OUTPUT"
# The alias's version now: the ledger's last entry is this rollback (or the one it repeats).
mlgate history "${target[@]}" --json | python -c '
import json, sys
ledger = json.load(sys.stdin)["ledger"]
print("version=" + (ledger[-1]["to_version"] if ledger else ""))' >>"$GITHUB_OUTPUT"
