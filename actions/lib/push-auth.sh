# Sourced by the promote step, never run: hands git the push token through the environment
# (GIT_CONFIG_*), the way actions/checkout would have written it to .git/config. Nothing lands on
# disk, so with persist-credentials false the steps before this one (the gate runs the repo's
# tests) and the uploaded artifacts never hold a token that can push.
# env: PUSH_TOKEN (may be empty: git's own credentials), GITHUB_SERVER_URL
if [ -n "${PUSH_TOKEN:-}" ]; then
  # Not echoed: a message must never carry the token.
  [[ $PUSH_TOKEN =~ ^[!-~]+$ ]] || {
    echo "::error title=mlgate%3A invalid input::\`push-token\` must be one token of printable characters (it holds a space or a line break)"
    exit 2
  }
  mlgate_basic=$(printf 'x-access-token:%s' "$PUSH_TOKEN" | base64 | tr -d '\n')
  echo "::add-mask::$mlgate_basic"
  mlgate_n=${GIT_CONFIG_COUNT:-0}
  export GIT_CONFIG_COUNT=$((mlgate_n + 1))
  export "GIT_CONFIG_KEY_$mlgate_n=http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  export "GIT_CONFIG_VALUE_$mlgate_n=AUTHORIZATION: basic $mlgate_basic"
  unset PUSH_TOKEN mlgate_basic mlgate_n
fi
