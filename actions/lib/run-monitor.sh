# The scheduled check, one of two kinds; the last step decides the outcome.
#   config:      `mlgate gate` on production rows. Never logs to MLflow: a monitor must not
#                overwrite the version's gate decision, which promotion reads.
#   logs-config: `mlgate monitor` on the serving logs; verdict ok, alert or retrain.
# env: CONFIG, LOGS_CONFIG, LOGS, FAIL_ON (validated)
set -uo pipefail
out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-monitor.XXXXXX")
report="$out/mlgate-report.json"
if [ -n "${LOGS_CONFIG:-}" ]; then
  args=(monitor --config "$LOGS_CONFIG" -o "$report")
  [ -n "${LOGS:-}" ] && args+=(--logs "$LOGS")
else
  args=(gate --config "$CONFIG" --report "$report" --fail-on "$FAIL_ON" --no-log)
fi
# Messages quote the data (column names, values): none of it may act as a workflow command.
stop=$(python -c 'import secrets; print("mlgate-" + secrets.token_hex(16))')
echo "::stop-commands::$stop"
mlgate "${args[@]}"
status=$?
echo "::$stop::"
echo "mlgate ${args[0]} exited $status; the report: $report"

verdict=
if [ -n "${LOGS_CONFIG:-}" ]; then
  verdict=error
  if [ -f "$report" ] && { [ "$status" = 0 ] || [ "$status" = 1 ]; }; then
    verdict=$(python "$GITHUB_ACTION_PATH/../lib/verdict.py" "$report" ok alert retrain)
  fi
  # `mlgate monitor` has no --fail-on: its exit 1 is an alert or retrain, which fail-on never
  # lets pass (reject and keep fail it). Logs that could not be read (2, 3) fail regardless.
  [ "$status" = 1 ] && [ "$FAIL_ON" = never ] && status=0
fi
{
  echo "exit-code=$status"
  echo "verdict=$verdict"
  echo "report-dir=$out"
  if [ -f "$report" ]; then echo "report-path=$report"; fi
} >>"$GITHUB_OUTPUT"
