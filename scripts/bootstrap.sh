#!/usr/bin/env bash
# README command (a): install dependencies, build, and run the demo on the embedded defaults
# (a local SQLite database and the built-in emulator as the GPU host).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/cosmos demo
