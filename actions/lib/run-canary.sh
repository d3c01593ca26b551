# `mlgate canary` on the serving logs. It records the exit status and the verdict and never
# fails itself: the later steps publish, roll back and decide the outcome, in that order.
# env: CONFIG, LOGS, CONTROL_ARM, CANARY_ARM, SINCE, UNTIL (validated)
set -uo pipefail
out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-canary.XXXXXX")
report="$out/mlgate-canary-report.json"
args=(--config "$CONFIG" -o "$report")
[ -n "$LOGS" ] && args+=(--logs "$LOGS")
[ -n "$CONTROL_ARM" ] && args+=(--control "$CONTROL_ARM")
[ -n "$CANARY_ARM" ] && args+=(--canary "$CANARY_ARM")
[ -n "$SINCE" ] && args+=(--since "$SINCE")
[ -n "$UNTIL" ] && args+=(--until "$UNTIL")

# Messages quote the logs (arm values, column names): none of it may act as a workflow command.
stop=$(python -c 'import secrets; print("mlgate-" + secrets.token_hex(16))')
echo "::stop-commands::$stop"
mlgate canary "${args[@]}"
status=$?
echo "::$stop::"

# The rollback step acts on this value, so only the three verdicts pass; anything else is error.
verdict=error
if [ -f "$report" ] && { [ "$status" = 0 ] || [ "$status" = 1 ]; }; then
  verdict=$(python "$GITHUB_ACTION_PATH/../lib/verdict.py" "$report" promote continue rollback)
fi
{
  echo "exit-code=$status"
  echo "verdict=$verdict"
  echo "report-dir=$out"
  if [ -f "$report" ]; then echo "report-path=$report"; fi
} >>"$GITHUB_OUTPUT"
echo "mlgate canary exited $status with verdict $verdict; the report: $report"
