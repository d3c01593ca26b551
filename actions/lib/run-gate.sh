# Run `pytest --mlgate` and record its exit status; the last step decides the outcome.
# env: CONFIG, PYTEST_ARGS, FAIL_ON (validated by the first step)
set -uo pipefail
out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate.XXXXXX")
report="$out/mlgate-report.json"

# pytest-args is split like a shell would split it, but never evaluated.
python -c 'import os, shlex, sys; sys.stdout.write("\0".join(shlex.split(os.environ["PYTEST_ARGS"])))' >"$out/.args" \
  || { echo "::error title=mlgate%3A invalid input::\`pytest-args\` could not be split (an unclosed quote?)"; exit 2; }
mapfile -d '' -t extra <"$out/.args"
rm -f "$out/.args"

# Nothing the tests print (a column name, a message) may act as a workflow command.
stop=$(python -c 'import secrets; print("mlgate-" + secrets.token_hex(16))')
echo "::stop-commands::$stop"
python -m pytest --mlgate --mlgate-config "$CONFIG" --mlgate-report "$report" --mlgate-fail-on "$FAIL_ON" "${extra[@]}"
status=$?
echo "::$stop::"

if [[ ${GITHUB_EVENT_NAME:-} == pull_request* && -n ${GITHUB_EVENT_PATH:-} ]]; then
  # For the fork-safe comment: which PR, and at which commit, this report belongs to.
  python - "$out/pull-request.json" <<'PY'
import json, os, sys
event = json.load(open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8"))
pr = event.get("pull_request") or {}
json.dump({"number": pr.get("number"), "head_sha": (pr.get("head") or {}).get("sha")}, open(sys.argv[1], "w"))
PY
fi
{
  echo "exit-code=$status"
  echo "report-dir=$out"
  if [ -f "$report" ]; then echo "report-path=$report"; fi
} >>"$GITHUB_OUTPUT"
echo "pytest exited $status; the gate's report: $report"
