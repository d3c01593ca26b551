# The sticky comment from a workflow_run job. Everything from the PR run is untrusted:
# the number must be digits, and the PR's head must be the commit that run gated.
# env: REPORT, PULL_REQUEST, HEAD_SHA, COMMENT_KEY, GITHUB_TOKEN
set -euo pipefail
number=$PULL_REQUEST
if [ -z "$number" ]; then
  beside="$(dirname "$REPORT")/pull-request.json"
  [ -f "$beside" ] || { echo "::error title=mlgate::\`pull-request\` is empty and there is no pull-request.json beside the report"; exit 2; }
  number=$(python -c '
import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8")).get("number")
print(value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**10 else "")' "$beside")
  [ -n "$number" ] || { echo "::error title=mlgate::pull-request.json beside the report holds no valid PR number"; exit 2; }
fi
log=$(mktemp)
mlgate github comment "$REPORT" --key "$COMMENT_KEY" --pull-request "$number" --head-sha "$HEAD_SHA" | tee "$log"
url=$(sed -n 's/^mlgate: \(created\|updated\) comment [0-9]*: //p' "$log" | head -n 1)
echo "comment-url=$url" >>"$GITHUB_OUTPUT"
