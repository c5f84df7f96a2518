#!/usr/bin/env bash
# Benchmark: what GPU sampling costs a run (one nvidia-smi -l stream per busy host, written to the
# database each round) against the same runs with sampling off, in one invocation. See
# bench/gpu_sampling_bench.py for what it prints and its knobs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/gpu_sampling_bench.py" "$@"
