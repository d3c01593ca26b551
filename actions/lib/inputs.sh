# Input checks shared by the actions (sourced, never run). Every value arrives
# through the environment and is only ever compared, never evaluated.

mlgate_escape() {
  local text=$1
  text=${text//'%'/%25}
  text=${text//$'\r'/%0D}
  text=${text//$'\n'/%0A}
  printf '%s' "$text"
}

mlgate_invalid() {
  printf '::error title=mlgate%%3A invalid input::%s\n' "$(mlgate_escape "$*")"
  exit 2
}

# mlgate_one_of NAME VALUE CHOICE...
mlgate_one_of() {
  local name=$1 value=$2 choice
  shift 2
  for choice in "$@"; do
    [ "$value" = "$choice" ] && return 0
  done
  mlgate_invalid "\`$name\`='$value' must be one of: $*"
}

# mlgate_matches NAME VALUE ERE WHAT  (the whole value must match)
mlgate_matches() {
  [[ $2 =~ ^($3)$ ]] || mlgate_invalid "\`$1\`='$2' must be $4"
}

# mlgate_single_line NAME VALUE
mlgate_single_line() {
  case $2 in
    *$'\n'* | *$'\r'*) mlgate_invalid "\`$1\` must be a single line (it holds a line break)" ;;
  esac
}

# mlgate_file NAME PATH  (relative to the working directory)
mlgate_file() {
  mlgate_single_line "$1" "$2"
  [ -n "$2" ] || mlgate_invalid "\`$1\` must not be empty"
  [ -f "$2" ] || mlgate_invalid "\`$1\`='$2' must be a file (looked in $(pwd))"
}

mlgate_extras() {
  mlgate_matches "$1" "$2" '[A-Za-z0-9_-]*(,[A-Za-z0-9_-]+)*' "comma-separated extras such as sklearn,mlflow"
}

mlgate_python_version() {
  mlgate_matches "$1" "$2" '[0-9]+(\.[0-9]+){0,2}' "a Python version such as 3.11"
}
