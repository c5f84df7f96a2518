#!/usr/bin/env bash
# Benchmark: read latency with 100,000 runs in the database.
# Times `cosmos list runs --json --limit 50` and `cosmos show RUN --json` as whole processes
# (hyperfine, median of many runs) side by side with a reference: the sqlite3 CLI running the
# same query on the same file as a whole process. Prints medians and ratios. Target: < 50 ms each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
runs=${BENCH_RUNS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COSMOS_DATA_DIR=$work/data HOME=$work XDG_CONFIG_HOME=$work/.config NO_COLOR=1

command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (scripts/install-deps.sh)"; exit 1; }
bash "$here/fill_runs.sh" "$cosmos" "$runs"
db=$COSMOS_DATA_DIR/cosmos.db

target=$(printf 'rs_%016x' $((runs / 2)))
list_sql="SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT 50"
show_sql="SELECT * FROM runs WHERE id = '$target'; SELECT * FROM run_events WHERE run_id = '$target'"
hyperfine -N --warmup 5 --runs 60 --export-json "$work/h.json" \
  -n "cosmos list runs --json --limit 50" "$cosmos list runs --json --limit 50" \
  -n "sqlite3 -json (same query)" "sqlite3 -json $db \"$list_sql\"" \
  -n "cosmos show RUN --json" "$cosmos show $target --json" \
  -n "sqlite3 -json (run + events)" "sqlite3 -json $db \"$show_sql\"" >/dev/null

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def med(n): return r[n]["median"] * 1000
pairs = [("cosmos list runs --json --limit 50", "sqlite3 -json (same query)"),
         ("cosmos show RUN --json", "sqlite3 -json (run + events)")]
print(f"{'command':40} {'median ms':>10} {'reference ms':>13} {'ratio':>7}  target")
for ours, ref in pairs:
    m, rm = med(ours), med(ref)
    print(f"{ours:40} {m:10.2f} {rm:13.2f} {m / rm:7.2f}  < 50 ms: {'yes' if m < 50 else 'NO'}")
PY
