# The job summary, the annotations and the outputs, from the report (or from its absence).
# env: REPORT, EXIT_CODE, ANNOTATE_FILE, COMMAND (what ran, for the message; default pytest)
set -euo pipefail
if [ -n "${REPORT:-}" ] && [ -f "$REPORT" ]; then
  mlgate github publish "$REPORT" --annotate-file "$ANNOTATE_FILE"
  exit 0
fi
# No report: the gate could not run (a config or data error). Fail closed, and say so.
{
  echo "## ❌ mlgate could not run"
  echo
  echo "${COMMAND:-pytest} exited ${EXIT_CODE:-?} before writing a report: a config or data error. The step log says which file or key."
} >>"$GITHUB_STEP_SUMMARY"
echo "::error title=mlgate::${COMMAND:-pytest} wrote no report (exit ${EXIT_CODE:-?}); see the log above"
{
  echo "decision=error"
  echo "drift-detected=false"
  echo "candidate-version="
  echo "verdict=error"
} >>"$GITHUB_OUTPUT"
