#!/usr/bin/env bash
# Shared by the benchmarks (list_runs.sh, ui.sh): creates the database of the data dir
# $COSMOS_DATA_DIR with `cosmos` (COSMOS argument), then fills it with the sqlite3 CLI: 1,000
# prompts and RUNS runs (a tenth failed, a tenth pending, run 0 running at 50 %, the rest
# succeeded; 8 hosts) with 3 events each. Usage: fill_runs.sh COSMOS RUNS
set -euo pipefail
cosmos=$1
runs=$2
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
