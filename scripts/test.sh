#!/usr/bin/env bash
# README command (b): install dependencies, build with warnings as errors, check the house rules
# (scripts/lint.sh), start the services the tests need, and run the whole suite (unit +
# integration) with CTest. Services started here are
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DCOSMOS_WERROR=ON -DCOSMOS_BUILD_TESTS=ON
# The house rules (formatting, no discarded Result, docs/cli.md, shellcheck, clang-tidy on the
# sources changed since .ci/tidy-base) before the tests: a rule broken fails the run.
bash scripts/lint.sh
jobs=$(nproc 2>/dev/null || echo 2)
cd build
ctest --output-on-failure -j "$jobs" "$@"
