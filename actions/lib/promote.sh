# `mlgate promote` with the action's inputs; outputs version and git-tag.
# env: REPORT, CONFIG, ALIAS, REASON, GIT_TAG, PUSH (validated)
set -euo pipefail
args=("$REPORT" --config "$CONFIG" --reason "${REASON:-promoted by ${GITHUB_WORKFLOW:-a workflow} run ${GITHUB_RUN_ID:-?}}")
[ -n "$ALIAS" ] && args+=(--alias "$ALIAS")
if [ "$GIT_TAG" = true ]; then args+=(--git-tag); else args+=(--no-git-tag); fi
[ -n "$PUSH" ] && args+=(--push "$PUSH")
log=$(mktemp)
mlgate promote "${args[@]}" | tee "$log"
python - "$REPORT" "$log" <<'PY' >>"$GITHUB_OUTPUT"
import json, re, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
version = ((report.get("provenance") or {}).get("candidate") or {}).get("version")
tag = re.search(r"^git tag: (\S+)", open(sys.argv[2], encoding="utf-8").read(), re.M)
print(f"version={'' if version is None else version}")
print(f"git-tag={tag.group(1) if tag else ''}")
PY
