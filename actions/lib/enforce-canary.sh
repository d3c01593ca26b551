# The canary action's outcome. An analysis that could not run fails, and so does a rollback
# that was due and did not happen, whatever the inputs say. A rollback verdict fails under
# fail-on-rollback even when the alias is back: the run stays red until someone looks.
# env: EXIT_CODE, VERDICT, ROLLBACK, ROLLBACK_OUTCOME, ROLLED_BACK, VERSION, MODEL, ALIAS,
#      FAIL_ON_ROLLBACK
set -euo pipefail
source "$GITHUB_ACTION_PATH/../lib/inputs.sh"
fail() {
  printf '::error title=mlgate canary::%s\n' "$(mlgate_escape "$*")"
  exit 1
}
case ${EXIT_CODE:-} in
  "") fail "the canary analysis did not run" ;;
  0 | 1) ;;
  *)
    printf '::error title=mlgate canary::the canary analysis could not run (exit %s): the step log names the file or key\n' "$EXIT_CODE"
    exit "$EXIT_CODE"
    ;;
esac
[ "$VERDICT" != error ] || fail "the canary analysis gave no verdict (exit $EXIT_CODE); see its step log"
if [ "$VERDICT" != rollback ]; then
  echo "mlgate: canary verdict $VERDICT"
  exit 0
fi

target="$MODEL@$ALIAS"
if [ "$ROLLBACK" != true ]; then
  state="rollback is off, so nothing moved: move $target back with actions/rollback"
elif [ "$ROLLBACK_OUTCOME" != success ]; then
  fail "the canary is worse and the rollback failed: $target may still serve the canary; see the rollback step's log"
elif [ "$ROLLED_BACK" = true ]; then
  state="$target rolled back to v$VERSION"
else
  state="$target was already back on v$VERSION"
fi
if [ "$FAIL_ON_ROLLBACK" = true ]; then
  fail "canary verdict rollback: $state"
fi
printf '::warning title=mlgate canary::%s\n' "$(mlgate_escape "canary verdict rollback: $state (fail-on-rollback: false)")"
