# The action's outcome: the gate's exit status under fail-on (0 passes).
# env: EXIT_CODE, DECISION, FAIL_ON, VERDICT (optional: the live monitor's)
set -euo pipefail
what="decision ${DECISION:-none}${VERDICT:+, verdict $VERDICT}"
if [ -z "${EXIT_CODE:-}" ]; then
  echo "::error title=mlgate::the gate did not run"
  exit 1
fi
if [ "$EXIT_CODE" != 0 ]; then
  echo "::error title=mlgate::$what fails this check (fail-on: $FAIL_ON, exit $EXIT_CODE)"
  exit "$EXIT_CODE"
fi
echo "mlgate: $what passes (fail-on: $FAIL_ON)"
