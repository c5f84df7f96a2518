#!/usr/bin/env bash
# Benchmark: shell completion latency with 100,000 runs in the database.
# Times `cosmos __complete` (what every TAB runs: `cosmos completion bash|zsh|fish`) as whole
# processes (hyperfine, median of many runs) side by side with a reference: the sqlite3 CLI
# running the same indexed prefix query on the same file as a whole process. Cases: run ids by
# prefix, the full line `cosmos show rs_...` (the command tree walked, then the query), and host
# names (config only). Prints medians and ratios. Target: < 50 ms each.
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

n=$((runs / 2 / 256))
prefix=$(printf 'rs_%014x' "$n")   # matches 256 runs; 100 are offered
upper=$(printf 'rs_%014x' $((n + 1)))
sql="SELECT id FROM runs WHERE id >= '$prefix' AND id < '$upper' ORDER BY id LIMIT 100"
hyperfine -N --warmup 5 --runs 100 --export-json "$work/h.json" \
  -n "cosmos __complete runs PREFIX" "$cosmos __complete runs $prefix" \
  -n "cosmos __complete words show PREFIX" "$cosmos __complete words show $prefix" \
  -n "sqlite3 (same query)" "sqlite3 $db \"$sql\"" \
  -n "cosmos __complete hosts ''" "$cosmos __complete hosts ''" >/dev/null

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def med(n): return r[n]["median"] * 1000
ref = "sqlite3 (same query)"
print(f"{'command':40} {'median ms':>10} {'reference ms':>13} {'ratio':>7}  target")
for ours in ("cosmos __complete runs PREFIX", "cosmos __complete words show PREFIX",
             "cosmos __complete hosts ''"):
    m, rm = med(ours), med(ref)
    print(f"{ours:40} {m:10.2f} {rm:13.2f} {m / rm:7.2f}  < 50 ms: {'yes' if m < 50 else 'NO'}")
PY
