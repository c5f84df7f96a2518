#!/usr/bin/env bash
# The house rules CI enforces (CONTRIBUTING.md), each a fast check over the tree:
#   format    clang-format --dry-run --Werror on every C++ file
#   results   no `(void)` on a call in src/: a Result is handled (COSMOS_CHECK / COSMOS_TRY) or
#             logged (core::warn_on_error); [[nodiscard]] + -Werror catch the plain discard
#   cli-docs  docs/cli.md is what scripts/gen-cli-docs.sh makes from the built binary's --help
#   shell     shellcheck on every shell script (scripts/lint-shell.sh, when present)
#   tidy      clang-tidy's declared checks (.clang-tidy) on the C++ sources changed since
#             $COSMOS_TIDY_BASE (default: the commit in .ci/tidy-base, the last tree checked
#             whole); COSMOS_TIDY_ALL=1 checks every source (about 15 min on 2 cores)
# Usage: scripts/lint.sh [CHECK...]   (default: all; needs build/ for cli-docs and tidy)
set -euo pipefail
cd "$(dirname "$0")/.."
checks=("$@")
if [ ${#checks[@]} -eq 0 ]; then
  checks=(format results cli-docs shell tidy)
fi
failed=()

cpp_files() {
  git ls-files -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'tools/*.cpp' 'tools/*.hpp' \
    'bench/*.cpp' 'bench/*.hpp' 'fuzz/*.cpp'
}

check_format() {
  local files
  mapfile -t files < <(cpp_files)
  if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "lint: format: run clang-format -i on the files above" >&2
    return 1
  fi
}

check_results() {
  # `(void)name(`, `(void)ns::name(`, `(void)obj->name(`; `(void)::libc_call(` is allowed.
  if grep -rnE '\(void\) *[A-Za-z_][A-Za-z0-9_]*((::|->|\.)[A-Za-z_][A-Za-z0-9_]*)* *\(' src; then
    echo "lint: results: handle these Results (COSMOS_CHECK, COSMOS_TRY) or log them" \
      "(core::warn_on_error) instead of casting them away" >&2
    return 1
  fi
}

check_cli_docs() {
  bash scripts/gen-cli-docs.sh --check
}

check_shell() {
  if [ -f scripts/lint-shell.sh ]; then
    bash scripts/lint-shell.sh
  fi
}

check_tidy() {
  local base files
  if [ ! -f build/compile_commands.json ]; then
    echo "lint: tidy: no build/compile_commands.json (build first)" >&2
    return 1
  fi
  if [ "${COSMOS_TIDY_ALL:-0}" = 1 ]; then
    mapfile -t files < <(git ls-files -- 'src/*.cpp')
  else
    base=${COSMOS_TIDY_BASE:-$(head -c 64 .ci/tidy-base 2>/dev/null || echo HEAD~1)}
    if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
      mapfile -t files < <(git ls-files -- 'src/*.cpp')
    else
      mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- 'src/*.cpp')
    fi
  fi
  if [ ${#files[@]} -eq 0 ]; then
    echo "lint: tidy: no changed C++ sources"
    return 0
  fi
  echo "lint: tidy: ${#files[@]} file(s)"
  printf '%s\n' "${files[@]}" | xargs -P "$(nproc 2>/dev/null || echo 2)" -n 4 \
    clang-tidy -p build --quiet 2>/dev/null
}

for c in "${checks[@]}"; do
  start=$(date +%s)
  case $c in
    format) check_format || failed+=("$c") ;;
    results) check_results || failed+=("$c") ;;
    cli-docs) check_cli_docs || failed+=("$c") ;;
    shell) check_shell || failed+=("$c") ;;
    tidy) check_tidy || failed+=("$c") ;;
    *)
      echo "lint: unknown check $c" >&2
      exit 2
      ;;
  esac
  echo "lint: $c done in $(($(date +%s) - start)) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all checks passed"
