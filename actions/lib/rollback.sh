# `mlgate rollback` with the action's inputs. Outputs, however it ends:
#   state        done | unchanged | alias-moved | unknown (as for promote; a rerun converges)
#   rolled-back  true when this run moved the alias (false: it already pointed there, or it failed)
#   version      the version the alias points at afterwards, read back from the registry
# env: MODEL, CONFIG, ALIAS, TO_VERSION, REASON, TRACKING_URI (optional) (validated)
set -uo pipefail
target=()
[ -n "$CONFIG" ] && target+=(--config "$CONFIG")
[ -n "$MODEL" ] && target+=(--model "$MODEL")
[ -n "$ALIAS" ] && target+=(--alias "$ALIAS")
[ -n "${TRACKING_URI:-}" ] && target+=(--tracking-uri "$TRACKING_URI")
args=("${target[@]}" --reason "$REASON")
[ -n "$TO_VERSION" ] && args+=(--to-version "$TO_VERSION")
log=$(mktemp)
mlgate rollback "${args[@]}" | tee "$log"
status=${PIPESTATUS[0]}
state=$(grep -Eo '^state: (done|unchanged|alias-moved|unknown)$' "$log" | tail -n 1)
state=${state#state: }
# A rerun finds the alias already back and moves nothing; say which happened.
if [ "$status" -eq 0 ] && grep -q '^rolled back: ' "$log"; then moved=true; else moved=false; fi
{
  echo "state=${state:-unknown}"
  echo "rolled-back=$moved"
} >>"$GITHUB_OUTPUT"
# Where the alias is now, from the registry rather than from what the rollback meant to do: rollback
# reads it back and prints `version: N` when it can; otherwise the history is asked. The history is
# validated by mlgate; the version is checked again before it reaches GITHUB_OUTPUT.
version=$(grep -Eo '^version: [1-9][0-9]*$' "$log" | tail -n 1)
if [ -n "$version" ]; then
  echo "version=${version#version: }" >>"$GITHUB_OUTPUT"
else
  mlgate history "${target[@]}" --json | python -c '
import json, re, sys
found = json.load(sys.stdin)
version = str(found["aliases"].get(found["alias"], ""))
print("version=" + (version if re.fullmatch(r"[1-9][0-9]*", version) else ""))' >>"$GITHUB_OUTPUT" \
    || echo "version=" >>"$GITHUB_OUTPUT"
fi
if [ "$status" -ne 0 ] && [ "${state:-unknown}" != unchanged ]; then
  echo "::error title=mlgate%3A rollback incomplete::The rollback stopped after (or while) moving the alias (state ${state:-unknown}); see the log above. Rerun this job to finish it."
fi
exit "$status"
