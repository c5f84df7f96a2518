#!/usr/bin/env bash
# Benchmark: the queue (batches, packing, pipelining) on two loopback GPU hosts against a
# sequential one-run-one-load baseline, in one invocation. See bench/queue_bench.py for what it
# prints and the knobs (BENCH_RUNS, BENCH_LOAD_S, BENCH_STEP_S, BENCH_MAX_BATCH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/queue_bench.py" "$@"
