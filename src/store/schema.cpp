// The schema, as an append-only list of migrations. Never edit a migration that has shipped:
// add a new one. PRAGMA user_version records how many have been applied.

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "store/database.hpp"

namespace cosmos::store {

namespace {

constexpr std::string_view k_v1 = R"sql(
CREATE TABLE prompts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    negative_prompt TEXT NOT NULL,
    input_dir       TEXT NOT NULL,             -- absolute folder of the input set
    input_video     TEXT,                      -- absolute path of color.mp4
    controls        TEXT NOT NULL DEFAULT '{}',-- JSON {modality: absolute path}
    video           TEXT NOT NULL DEFAULT '{}',-- JSON {width, height, frames, fps}
    parent_id       TEXT REFERENCES prompts(id) ON DELETE SET NULL,
    template        TEXT,
    source          TEXT NOT NULL DEFAULT 'cli',
    created_at      TEXT NOT NULL
);
CREATE INDEX prompts_by_created ON prompts(created_at);
CREATE INDEX prompts_by_name ON prompts(name);
CREATE INDEX prompts_by_parent ON prompts(parent_id);

CREATE VIRTUAL TABLE prompts_fts USING fts5(
    name, prompt, negative_prompt, content='prompts', content_rowid='rowid');
CREATE TRIGGER prompts_fts_insert AFTER INSERT ON prompts BEGIN
    INSERT INTO prompts_fts(rowid, name, prompt, negative_prompt)
    VALUES (new.rowid, new.name, new.prompt, new.negative_prompt);
END;
CREATE TRIGGER prompts_fts_delete AFTER DELETE ON prompts BEGIN
    INSERT INTO prompts_fts(prompts_fts, rowid, name, prompt, negative_prompt)
    VALUES ('delete', old.rowid, old.name, old.prompt, old.negative_prompt);
END;
CREATE TRIGGER prompts_fts_update AFTER UPDATE ON prompts BEGIN
    INSERT INTO prompts_fts(prompts_fts, rowid, name, prompt, negative_prompt)
    VALUES ('delete', old.rowid, old.name, old.prompt, old.negative_prompt);
    INSERT INTO prompts_fts(rowid, name, prompt, negative_prompt)
    VALUES (new.rowid, new.name, new.prompt, new.negative_prompt);
END;

CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    prompt_id     TEXT NOT NULL REFERENCES prompts(id) ON DELETE RESTRICT,
    kind          TEXT NOT NULL DEFAULT 'transfer',   -- transfer | upscale | enhance
    status        TEXT NOT NULL,                      -- see store/run_store.hpp
    host          TEXT,
    params        TEXT NOT NULL,                      -- JSON model::RunParams
    parent_run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    exit_code     INTEGER,
    error         TEXT,
    command       TEXT,                               -- JSON argv exactly as launched
    spec          TEXT,                               -- the spec JSON exactly as sent
    output_dir    TEXT,
    output_video  TEXT,
    log_path      TEXT,
    progress      REAL NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'cli'
);
CREATE INDEX runs_by_created ON runs(created_at);
CREATE INDEX runs_by_status ON runs(status, created_at);
CREATE INDEX runs_by_prompt ON runs(prompt_id, created_at);
CREATE INDEX runs_by_host ON runs(host, created_at);

CREATE TABLE run_events (
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    status  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX run_events_by_run ON run_events(run_id, at);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    state            TEXT NOT NULL,                   -- queued, running, done, failed, cancelled
    priority         INTEGER NOT NULL DEFAULT 0,
    host             TEXT,
    gpus             INTEGER NOT NULL DEFAULT 1,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 3,
    lease_owner      TEXT,
    lease_expires_ms INTEGER,
    not_before_ms    INTEGER,
    reason           TEXT,                            -- why it waits / why it failed
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX jobs_by_claim ON jobs(state, priority DESC, created_at);

CREATE TABLE job_runs (
    job_id   TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (job_id, run_id)
);
CREATE INDEX job_runs_by_run ON job_runs(run_id);
)sql";

// v2: remote execution. Where a run ran (runtime, the job dir on the host, the image for docker)
// and what it cost (bytes uploaded, seconds of upload / model / download).
constexpr std::string_view k_v2 = R"sql(
ALTER TABLE runs ADD COLUMN runtime TEXT;
ALTER TABLE runs ADD COLUMN remote_dir TEXT;
ALTER TABLE runs ADD COLUMN image TEXT;
ALTER TABLE runs ADD COLUMN uploaded_bytes INTEGER;
ALTER TABLE runs ADD COLUMN upload_seconds REAL;
ALTER TABLE runs ADD COLUMN run_seconds REAL;
ALTER TABLE runs ADD COLUMN download_seconds REAL;
)sql";

// ---- queue migration (issue 4; the lead renumbers it on merge) --------------------------------
// The queue: a job's place within its priority (`position`, smaller first), per-job pause, a
// dependency on another run, the GPU ids a claimed job holds, the host it asked for, and a
// cancel request for a running job. queue_state holds the global pause; host_health the hosts
// routed around after failing.
constexpr std::string_view k_queue_migration = R"sql(
ALTER TABLE jobs ADD COLUMN position REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN depends_on TEXT REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE jobs ADD COLUMN gpu_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN want_host TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_depends ON jobs(depends_on);
CREATE TABLE queue_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE host_health (
    host               TEXT PRIMARY KEY,
    unhealthy_until_ms INTEGER NOT NULL,
    reason             TEXT
);
)sql";
// ---- end of queue migration --------------------------------------------------------------------

// v4: batches. Queued transfer runs that one model load can serve together carry the same
// batch_key (services/batching); jobs claimed together share a batch_id and are lines
// batch_index of its batch file. gpus_released: the model ended, the job only collects now, so
// its GPUs are free for the next run (pipelining). A run records the batch it ran in.
constexpr std::string_view k_v4 = R"sql(
ALTER TABLE jobs ADD COLUMN batch_key TEXT;
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
ALTER TABLE jobs ADD COLUMN batch_index INTEGER;
ALTER TABLE jobs ADD COLUMN gpus_released INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_batch ON jobs(batch_id);
ALTER TABLE runs ADD COLUMN batch_id TEXT;
ALTER TABLE runs ADD COLUMN batch_index INTEGER;
CREATE INDEX runs_by_batch ON runs(batch_id, batch_index);
)sql";

// v5: every prompt and run records the model family it is for (model/family.hpp); rows made
// before there was more than one are Cosmos-Transfer1's.
constexpr std::string_view k_v5 = R"sql(
ALTER TABLE prompts ADD COLUMN model TEXT NOT NULL DEFAULT 'transfer1';
ALTER TABLE runs ADD COLUMN model TEXT NOT NULL DEFAULT 'transfer1';
)sql";

// v6: a prompt's control masks (Cosmos-Transfer2.5's spatiotemporal masks: modality -> mask
// video), as JSON like `controls`; the user model file a run used (its name and SHA-256).
constexpr std::string_view k_v6 = R"sql(
ALTER TABLE prompts ADD COLUMN masks TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN model_name TEXT;
ALTER TABLE runs ADD COLUMN model_hash TEXT;
)sql";

// v7: what a run cost: the GPU-seconds it held (its share of a batch's model load included) and
// the price per GPU-hour its host declared then; the sweep that queued it (docs/cost.md). Hosts
// a worker stopped after their idle time (stop_command), until started again.
constexpr std::string_view k_v7 = R"sql(
ALTER TABLE runs ADD COLUMN gpu_seconds REAL;
ALTER TABLE runs ADD COLUMN gpu_price_per_hour REAL;
ALTER TABLE runs ADD COLUMN sweep_id TEXT;
CREATE INDEX runs_by_sweep ON runs(sweep_id);
CREATE TABLE host_power (
    host       TEXT PRIMARY KEY,
    stopped_at TEXT NOT NULL,
    detail     TEXT
);
)sql";

// v8: GPU usage over time (docs/metrics.md "GPU samples"). nvidia-smi's samples per host and GPU:
// raw rows (span_s 0) while recent, merged into 60 s and then 3600 s buckets as they age (n
// samples each; means and peaks survive the merge), dropped after 30 days. A run records which
// GPUs it held (a comma list of indices) and, once it ends, its mean and peak utilisation and
// peak memory over that time, so they outlive the samples.
constexpr std::string_view k_v8 = R"sql(
CREATE TABLE gpu_samples (
    host          TEXT NOT NULL,
    gpu           INTEGER NOT NULL,
    span_s        INTEGER NOT NULL,
    t_ms          INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    util_mean     REAL NOT NULL,
    util_max      REAL NOT NULL,
    mem_mean_mib  REAL NOT NULL,
    mem_max_mib   REAL NOT NULL,
    mem_total_mib REAL NOT NULL,
    power_mean_w  REAL,
    power_max_w   REAL,
    temp_max_c    REAL,
    PRIMARY KEY (host, span_s, t_ms, gpu)
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN gpu_ids TEXT;
ALTER TABLE runs ADD COLUMN gpu_util_mean REAL;
ALTER TABLE runs ADD COLUMN gpu_util_peak REAL;
ALTER TABLE runs ADD COLUMN gpu_mem_peak_mib REAL;
)sql";

// v9: alerts (docs/alerts.md). One row per alert: a (rule, subject) fires once, so at most one
// firing row per pair (and one event row: a failed run is an event that never resolves); a
// delivery per sink and status (firing, resolved) with its attempts and backoff, claimed for a
// while by the process sending it. What the evaluator remembers between passes, in the database
// so that every process (workers, cosmos serve) agrees: when each rule began watching (failed
// runs before it are not alerted), the last progress seen of each running run, and the last
// probe of each host.
constexpr std::string_view k_v9 = R"sql(
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    condition   TEXT NOT NULL,
    subject     TEXT NOT NULL,             -- a run id, a host name or 'queue'
    state       TEXT NOT NULL,             -- firing | resolved | event
    host        TEXT,
    run_id      TEXT,
    summary     TEXT NOT NULL,
    fired_at    TEXT NOT NULL,
    resolved_at TEXT
);
CREATE UNIQUE INDEX alerts_firing ON alerts(rule, subject) WHERE state = 'firing';
CREATE UNIQUE INDEX alerts_event ON alerts(rule, subject) WHERE state = 'event';
CREATE INDEX alerts_by_time ON alerts(fired_at);
CREATE TABLE alert_deliveries (
    id               INTEGER PRIMARY KEY,
    alert_id         INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    sink             TEXT NOT NULL,
    status           TEXT NOT NULL,        -- firing | resolved
    state            TEXT NOT NULL,        -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at_ms       INTEGER NOT NULL,
    claimed_until_ms INTEGER,
    last_error       TEXT,
    delivered_at     TEXT,
    UNIQUE (alert_id, sink, status)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_at_ms);
CREATE TABLE alert_rules (
    rule  TEXT PRIMARY KEY,
    since TEXT NOT NULL
);
CREATE TABLE alert_progress (
    run_id     TEXT PRIMARY KEY,
    progress   REAL NOT NULL,
    changed_ms INTEGER NOT NULL
);
CREATE TABLE alert_probes (
    host                 TEXT PRIMARY KEY,
    probed_ms            INTEGER NOT NULL DEFAULT 0,
    claimed_until_ms     INTEGER,
    reachable            INTEGER,
    unreachable_since_ms INTEGER,
    free_bytes           INTEGER,
    error                TEXT
);
)sql";

// v10: a run's rating, 1 to 5 stars (NULL: not rated), set by `cosmos rate` and the web UI and
// kept by the import from the Python tool. The index holds rated runs only (a partial index: the
// rating filters of `list runs` and the API imply rating IS NOT NULL), in the order the lists
// show, so a filtered page is a short index range and unrated runs cost nothing to insert.
constexpr std::string_view k_v10 = R"sql(
ALTER TABLE runs ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
CREATE INDEX runs_by_rating ON runs(rating, created_at) WHERE rating IS NOT NULL;
)sql";

constexpr std::array<std::string_view, 10> k_migrations = {
    k_v1, k_v2, k_queue_migration, k_v4, k_v5, k_v6, k_v7, k_v8, k_v9, k_v10};

}  // namespace

int current_schema_version() {
    return static_cast<int>(k_migrations.size());
}

core::Status migrate(const Database& db) {
    for (;;) {
        int version = db.schema_version();
        if (version > current_schema_version()) {
            return core::fail(core::ErrorCode::io,
                              fmt::format("database {} has schema version {}, newer than this "
                                          "cosmos understands ({})",
                                          db.path().string(),
                                          version,
                                          current_schema_version()),
                              "upgrade cosmos");
        }
        if (version == current_schema_version()) {
            return {};
        }
        // Re-read the version inside the write lock: another process may have migrated.
        auto s = db.transaction([&]() -> core::Status {
            int now = db.schema_version();
            if (now != version) {
                return {};
            }
            if (auto r = db.exec(k_migrations[static_cast<std::size_t>(version)]); !r) {
                return r;
            }
            return db.exec(fmt::format("PRAGMA user_version = {}", version + 1));
        });
        if (!s) {
            return s;
        }
    }
}

}  // namespace cosmos::store
