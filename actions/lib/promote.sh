# `mlgate promote` with the action's inputs. Outputs, however it ends:
#   state    done | unchanged | alias-moved | unknown (see `mlgate promote`; a rerun converges from each)
#   version  the version the alias now points at (empty unless state is done or alias-moved)
#   git-tag  the tag created or found (empty with git-tag false, or when the tag step failed before it)
# env: REPORT, CONFIG, ALIAS, REASON, GIT_TAG, PUSH (validated)
set -uo pipefail
args=("$REPORT" --config "$CONFIG" --reason "${REASON:-promoted by ${GITHUB_WORKFLOW:-a workflow} run ${GITHUB_RUN_ID:-?}}")
[ -n "$ALIAS" ] && args+=(--alias "$ALIAS")
if [ "$GIT_TAG" = true ]; then args+=(--git-tag); else args+=(--no-git-tag); fi
[ -n "$PUSH" ] && args+=(--push "$PUSH")
log=$(mktemp)
mlgate promote "${args[@]}" | tee "$log"
status=${PIPESTATUS[0]}
python - "$REPORT" "$log" <<'PY' >>"$GITHUB_OUTPUT" || status=1
import json, re, sys
text = open(sys.argv[2], encoding="utf-8").read()
states = re.findall(r"^state: (done|unchanged|alias-moved|unknown)$", text, re.M)
# No state line: the command died before saying (killed, or a crash); nobody knows what it did.
state = states[-1] if states else "unknown"
version = ""
if state in ("done", "alias-moved"):
    try:
        report = json.load(open(sys.argv[1], encoding="utf-8"))
        found = str(((report.get("provenance") or {}).get("candidate") or {}).get("version"))
    except (OSError, ValueError, AttributeError):
        found = ""
    # promote verified this report against the registry; still, nothing odd reaches GITHUB_OUTPUT.
    version = found if re.fullmatch(r"[1-9][0-9]*", found) else ""
tag = re.search(r"^git tag: ([A-Za-z0-9._/@+-]+) \(", text, re.M)
print(f"state={state}")
print(f"version={version}")
print(f"git-tag={tag.group(1) if tag else ''}")
PY
if [ "$status" -ne 0 ]; then
  case $(grep -Eo '^state: [a-z-]+$' "$log" | tail -n 1) in
    "state: alias-moved")
      echo "::error title=mlgate%3A promotion incomplete::The alias was moved: production serves the new version, but a later step failed (see the log above). Rerun this job to finish it; it will not move the alias again." ;;
    "state: unchanged") ;;
    *)
      echo "::error title=mlgate%3A promotion state unknown::The promotion stopped without saying whether the alias moved. Rerun this job: it reads where the alias is and finishes." ;;
  esac
fi
exit "$status"
