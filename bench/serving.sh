#!/usr/bin/env bash
# Benchmark: Cosmos 3 runs on one warm model server against a cold start per run, and cosmos's
# overhead per request against curl on the same server, in one invocation. See
# bench/serving_bench.py for what it prints and its knobs (BENCH_RUNS, BENCH_REQS, BENCH_LOAD_S).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/serving_bench.py" "$@"
