#!/usr/bin/env bash
# Runs shellcheck on every shell script of the tree: the scripts the binary embeds
# (src/*/scripts/*.sh, see docs/runtimes.md), the repo's own scripts (scripts/*.sh, .ci/run) and
# any test script (tests/**/*.sh). A script whose shebang is /bin/sh is checked as POSIX sh, any
# other as bash.
# Exits non-zero on any finding. Usage: bash scripts/lint-shell.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob globstar

# One-line scripts travel inside a Slurm batch script's command line, which carries no newline:
# they cannot have a shebang, so their shell is named here.
declare -A shell_of=([src/backends/scripts/slurm-docker-entry.sh]='sh')

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "lint-shell: shellcheck is not installed" >&2
  exit 2
fi

files=(src/*/scripts/*.sh scripts/*.sh .ci/run tests/**/*.sh)
status=0
for f in "${files[@]}"; do
  shell=${shell_of[$f]:-}
  if [ -z "$shell" ]; then
    first=$(head -n 1 -- "$f")
    case $first in
    '#!/bin/sh' | '#!/bin/sh '* | '#!/usr/bin/env sh' | '#!/usr/bin/env sh '*) shell='sh' ;;
    *) shell='bash' ;;
    esac
  fi
  shellcheck -s "$shell" -- "$f" || status=1
done
if [ "$status" -ne 0 ]; then
  echo "lint-shell: shellcheck found problems" >&2
fi
exit "$status"
