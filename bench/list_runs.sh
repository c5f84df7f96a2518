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
"$cosmos" list runs --json >/dev/null   # creates and migrates the database
db=$COSMOS_DATA_DIR/cosmos.db

echo "filling $db with $runs runs (and 3 events each)..."
sqlite3 "$db" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO prompts (id, name, prompt, negative_prompt, input_dir, input_video, controls, video, created_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
SELECT printf('ps_%016x', i), 'scene_' || i, 'A photoreal street scene number ' || i || ' at dusk',
       'blurry', '/renders/scene' || i, '/renders/scene' || i || '/color.mp4',
       json_object('depth', '/renders/scene' || i || '/depth.mp4'),
       '{"width":1280,"height":704,"frames":121,"fps":24.0}',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' minutes')
FROM n;
INSERT INTO runs (id, prompt_id, kind, status, host, params, created_at, updated_at, progress,
                  output_video, log_path, exit_code)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $runs - 1)
SELECT printf('rs_%016x', i), printf('ps_%016x', i % 1000), 'transfer',
       CASE i % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' WHEN 2 THEN 'running' ELSE 'succeeded' END,
       'gpu' || (i % 8),
       '{"weights":{"vis":0.3,"edge":0.7,"depth":0.5,"seg":0.0},"num_steps":35,"guidance":7.0,"sigma_max":70.0,"fps":24,"seed":1,"blur_strength":"medium","canny_threshold":"medium","num_gpus":1,"offload":["text_encoder_model","guardrail_models"]}',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'), 1.0,
       '/data/runs/' || printf('rs_%016x', i) || '/outputs/output.mp4',
       '/data/runs/' || printf('rs_%016x', i) || '/run.log', 0
FROM n;
INSERT INTO run_events (run_id, at, status, detail)
SELECT id, created_at, s.status, '' FROM runs, (SELECT 'pending' AS status UNION ALL SELECT 'running' UNION ALL SELECT 'succeeded') s;
COMMIT;
ANALYZE;
SQL
echo "rows: $(sqlite3 "$db" 'select count(*) from runs') runs, $(sqlite3 "$db" 'select count(*) from run_events') events"

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
