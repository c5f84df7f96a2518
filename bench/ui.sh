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

"$cosmos" list runs --json >/dev/null   # creates and migrates the database
db=$COSMOS_DATA_DIR/cosmos.db
echo "filling $db with $runs runs (3 events each)..."
sqlite3 "$db" >/dev/null <<SQL
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
                  output_video, log_path, exit_code, error)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $runs - 1)
SELECT printf('rs_%016x', i), printf('ps_%016x', i % 1000), 'transfer',
       CASE WHEN i = 0 THEN 'running' WHEN i % 10 = 0 THEN 'failed' WHEN i % 10 = 1 THEN 'pending'
            ELSE 'succeeded' END,
       'gpu' || (i % 8),
       '{"weights":{"vis":0.3,"edge":0.7,"depth":0.5,"seg":0.0},"num_steps":35,"guidance":7.0,"sigma_max":70.0,"fps":24,"seed":1,"blur_strength":"medium","canny_threshold":"medium","num_gpus":1,"offload":["text_encoder_model","guardrail_models"]}',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'),
       CASE WHEN i = 0 THEN 0.5 ELSE 1.0 END,
       '$COSMOS_DATA_DIR/runs/' || printf('rs_%016x', i) || '/outputs/output.mp4',
       '$COSMOS_DATA_DIR/runs/' || printf('rs_%016x', i) || '/run.log', 0,
       CASE WHEN i % 10 = 0 THEN 'guardrail blocked the prompt' ELSE NULL END
FROM n;
INSERT INTO run_events (run_id, at, status, detail)
SELECT id, created_at, s.status, '' FROM runs, (SELECT 'pending' AS status UNION ALL SELECT 'running' UNION ALL SELECT 'succeeded') s;
COMMIT;
ANALYZE;
SQL
mkdir -p "$COSMOS_DATA_DIR/runs/rs_0000000000000000"
: > "$COSMOS_DATA_DIR/runs/rs_0000000000000000/run.log"
echo "rows: $(sqlite3 "$db" 'select count(*) from runs') runs, $(sqlite3 "$db" 'select count(*) from run_events') events"
exec /usr/bin/python3 "$here/ui_bench.py" --cosmos "$cosmos" --data-dir "$COSMOS_DATA_DIR" \
  --running rs_0000000000000000 "$@"
