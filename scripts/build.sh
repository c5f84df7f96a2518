#!/usr/bin/env bash
# Configures and builds into ./build (Release with debug info). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# ccache (installed by install-deps.sh) keys on paths relative to the checkout, so another clone
# of the same commit — CI's fresh clone — reuses what this one compiled.
# (NOHASHDIR: debug info then names the first clone's folder, which nothing reads.)
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$jobs"
