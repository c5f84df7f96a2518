#!/usr/bin/env bash
# Benchmark: the web UI server with 10,000 runs in the database (bench/ui_bench.py prints what it
# measures). Fills a fresh data dir with the sqlite3 CLI (the schema `cosmos` creates), then
# times GET / (the runs page shell), GET /api/runs?limit=50 and filtered queries over HTTP
# against references in the same invocation (the same bytes from python's http.server, and
# `cosmos list runs --json` on the same database), and the latency from a line appended to a
# running run's run.log to its SSE `log` event. Targets: < 200 ms and < 100 ms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
runs=${BENCH_RUNS:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COSMOS_DATA_DIR=$work/data HOME=$work XDG_CONFIG_HOME=$work/.config NO_COLOR=1

bash "$here/fill_runs.sh" "$cosmos" "$runs"
db=$COSMOS_DATA_DIR/cosmos.db
mkdir -p "$COSMOS_DATA_DIR/runs/rs_0000000000000000"
: > "$COSMOS_DATA_DIR/runs/rs_0000000000000000/run.log"
echo "rows: $(sqlite3 "$db" 'select count(*) from runs') runs, $(sqlite3 "$db" 'select count(*) from run_events') events"
exec /usr/bin/python3 "$here/ui_bench.py" --cosmos "$cosmos" --data-dir "$COSMOS_DATA_DIR" \
  --running rs_0000000000000000 "$@"
