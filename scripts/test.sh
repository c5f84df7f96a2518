#!/usr/bin/env bash
# README command (b): install dependencies, build with warnings as errors, start the services the
# tests need, and run the whole suite (unit + integration) with CTest. Services started here are
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DCOSMOS_WERROR=ON -DCOSMOS_BUILD_TESTS=ON
jobs=$(nproc 2>/dev/null || echo 2)
cd build
ctest --output-on-failure -j "$jobs" "$@"
