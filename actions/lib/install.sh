# Install pytest-mlgate from this action's own checkout into the job's Python.
# usage: install.sh ROOT   (EXTRAS from the environment, already validated)
set -euo pipefail
root=$1
spec=$root
if [ -n "${EXTRAS:-}" ]; then
  spec="$root[$EXTRAS]"
fi
python -m pip install --disable-pip-version-check --no-input --quiet "$spec"
mlgate --version
