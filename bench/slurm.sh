#!/usr/bin/env bash
# Benchmark: submitting queued runs to a Slurm partition (our worker: stage, script, sbatch, per
# run) against a bare `sbatch --wrap` loop, on a real single-node Slurm cluster started for it,
# in one invocation. Needs root and Slurm (scripts/install-deps.sh). See bench/slurm_bench.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/slurm_bench.py" "$@"
