# `mlgate gate` on production data; never logs to MLflow (a monitor must not overwrite the
# version's gate decision, which promotion reads). The last step decides the outcome.
# env: CONFIG, FAIL_ON (validated)
set -uo pipefail
out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-monitor.XXXXXX")
report="$out/mlgate-report.json"
stop=$(python -c 'import secrets; print("mlgate-" + secrets.token_hex(16))')
echo "::stop-commands::$stop"
mlgate gate --config "$CONFIG" --report "$report" --fail-on "$FAIL_ON" --no-log
status=$?
echo "::$stop::"
{
  echo "exit-code=$status"
  echo "report-dir=$out"
  if [ -f "$report" ]; then echo "report-path=$report"; fi
} >>"$GITHUB_OUTPUT"
echo "mlgate gate exited $status; the report: $report"
