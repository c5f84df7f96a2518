#!/usr/bin/env bash
# Benchmark: `cosmos queue --json` with N queued jobs (default 1000) and finished runs to learn
# their lengths from, i.e. with the estimated start and finish of every job (services/queue_eta),
# side by side with the same listing of a copy of the database whose queue is paused (no
# estimates: the listing as it was before them). Prints medians and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
jobs=${BENCH_JOBS:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work XDG_CONFIG_HOME=$work/.config NO_COLOR=1
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (scripts/install-deps.sh)"; exit 1; }

a=$work/estimated b=$work/paused
export COSMOS_DATA_DIR=$a
ffmpeg -v error -f lavfi -i testsrc2=size=320x176:rate=24 -frames:v 25 -pix_fmt yuv420p \
  "$work/shot/color.mp4" 2>/dev/null || {
  mkdir -p "$work/shot"
  ffmpeg -v error -f lavfi -i testsrc2=size=320x176:rate=24 -frames:v 25 -pix_fmt yuv420p \
    "$work/shot/color.mp4"
}
pid=$("$cosmos" create prompt "a harbour at dawn" "$work/shot" --json | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["id"])')
# History: a few finished runs of the shape the queued ones have (the embedded emulator).
for seed in 1 2 3; do
  "$cosmos" inference "$pid" --seed "$seed" --quiet >/dev/null
done
python3 - "$pid" "$jobs" "$work/batch.json" <<'PY'
import json, sys
pid, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
json.dump([{"prompt_id": pid, "seed": 10 + i} for i in range(n)], open(out, "w"))
PY
"$cosmos" batch "$work/batch.json" >/dev/null
cp -r "$a" "$b"
COSMOS_DATA_DIR=$b "$cosmos" queue pause >/dev/null

hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" \
  -n "queue --json (estimates)" "env COSMOS_DATA_DIR=$a $cosmos queue --json" \
  -n "queue --json (paused: none)" "env COSMOS_DATA_DIR=$b $cosmos queue --json" >/dev/null

python3 - "$work/h.json" "$jobs" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
ours, ref = r["queue --json (estimates)"], r["queue --json (paused: none)"]
print(f"{sys.argv[2]} queued jobs")
print(f"{'command':32} {'median ms':>10}")
for k, v in r.items():
    print(f"{k:32} {v:10.2f}")
print(f"ratio (estimates / none): {ours / ref:.2f}")
PY
