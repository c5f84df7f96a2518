#pragma once
// Runs in the store, with every status transition recorded as an event with its timestamp.

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace cosmos::store {

struct RunQuery {
    std::optional<RunStatus> status;
    std::optional<std::string> prompt_id;
    std::optional<std::string> host;
    std::optional<std::string> since;  // created_at >= since (ISO 8601, a prefix like 2026-11-30)
    std::optional<std::string> until;  // created_at < until
    std::optional<std::string> text;   // id, prompt id, host or error contains it
    bool with_output = false;          // only runs with an output video recorded
    std::optional<int> rating;         // only runs rated exactly this (1-5)
    std::optional<int> min_rating;     // only runs rated at least this (unrated runs never)
    int limit = 50;
    int offset = 0;
};

// Inserts `r` and its first event; fails with conflict when its id exists.
core::Status insert_run(const Database& db, const RunRecord& r);

core::Result<std::optional<RunRecord>> get_run(const Database& db, const std::string& id);

// Returns runs newest first, filtered by `q`.
core::Result<std::vector<RunRecord>> list_runs(const Database& db, const RunQuery& q);

// Counts the runs matching `q` (its limit and offset ignored).
core::Result<std::int64_t> count_runs(const Database& db, const RunQuery& q);

// Runs updated at or after `since` (ISO 8601) and every queued or running run (their progress
// changes without touching updated_at): what a watcher polls for changes.
core::Result<std::vector<RunRecord>> runs_changed_since(const Database& db,
                                                        const std::string& since);

// Returns the runs of `prompt_ids` (newest first, at most `limit`).
core::Result<std::vector<RunRecord>> runs_for_prompts(const Database& db,
                                                      const std::vector<std::string>& prompt_ids,
                                                      int limit);

// Moves run `id` to `to` and records the event, unless the run is already in a terminal state
// (then nothing changes and false is returned). Sets started_at on running and finished_at on
// terminal states.
core::Result<bool> transition_run(const Database& db,
                                  const std::string& id,
                                  RunStatus to,
                                  const std::string& detail = {});

struct LaunchRecord {
    std::string host;
    std::string command;  // JSON argv
    std::string spec;     // spec JSON as sent
    std::string output_dir;
    std::string log_path;
};
// Records how run `id` is being launched.
core::Status record_launch(const Database& db, const std::string& id, const LaunchRecord& l);

struct OutcomeRecord {
    std::optional<std::int64_t> exit_code;
    std::optional<std::string> error;         // one-line summary, redacted
    std::optional<std::string> output_video;  // absolute path, when produced
};
core::Status record_outcome(const Database& db, const std::string& id, const OutcomeRecord& o);

struct RemoteRecord {
    std::optional<std::string> runtime;     // native | docker
    std::optional<std::string> remote_dir;  // the job dir on the host
    std::optional<std::string> image;       // docker: "sha256:<id> <repo digest>"
};
// Records where on its host run `id` lives.
core::Status record_remote(const Database& db, const std::string& id, const RemoteRecord& r);

// The run `id`; fails with not_found ("no run ID") when there is none.
core::Result<RunRecord> require_run(const Database& db, const std::string& id);

// Ends run `id` as failed with `error` (recorded as its error and on its events) and returns
// it as it is now. A run that already ended keeps its outcome.
core::Result<RunRecord> fail_run(const Database& db,
                                 const std::string& id,
                                 const std::string& error);

// Records that run `id` runs as line `index` of batch `batch_id` (one model load for several
// runs; scheduler/batch); nothing for both: it runs on its own (again).
core::Status record_batch(const Database& db,
                          const std::string& id,
                          const std::optional<std::string>& batch_id,
                          std::optional<int> index);

// The runs of batch `batch_id`, by line.
core::Result<std::vector<RunRecord>> batch_runs(const Database& db, const std::string& batch_id);

struct CostRecord {
    std::optional<std::int64_t> uploaded_bytes;
    std::optional<double> upload_seconds;
    std::optional<double> run_seconds;
    std::optional<double> download_seconds;
    std::optional<double> gpu_seconds;         // GPUs held x seconds (a batch: its share)
    std::optional<double> gpu_price_per_hour;  // the host's price then (docs/cost.md)
};
// Records what run `id` cost; fields left empty keep their stored value.
core::Status record_costs(const Database& db, const std::string& id, const CostRecord& c);

core::Status record_progress(const Database& db, const std::string& id, double progress);

// A rating is 1 to 5 stars (the column's CHECK says the same).
inline constexpr int k_min_rating = 1;
inline constexpr int k_max_rating = 5;

// Sets run `id`'s rating (nullopt clears it). Fails with invalid_input outside 1-5 and not_found
// when there is no such run. Touches updated_at, so watchers (the web UI's events) see it.
core::Status set_run_rating(const Database& db, const std::string& id, std::optional<int> rating);

// The files a run's row names, for checking them against the disk (`cosmos verify`).
struct RunFiles {
    std::string id;
    RunStatus status = RunStatus::pending;
    std::string source;  // "cli", "web", "import:<file>", ...
    std::optional<std::string> output_video;
    std::optional<std::string> log_path;
    std::optional<std::string> output_dir;
};
// Every run's files, by id (one pass over the table, without the heavy columns).
core::Result<std::vector<RunFiles>> all_run_files(const Database& db);

// Which recorded paths of a run to forget (`cosmos verify --repair`: files that are gone).
struct ForgottenFiles {
    bool output_video = false;
    bool log = false;
    bool output_dir = false;
};
// Clears those paths of run `id` and records `detail` as an event (its status unchanged), in one
// transaction.
core::Status forget_run_files(const Database& db,
                              const std::string& id,
                              const ForgottenFiles& files,
                              const std::string& detail);

// The GPUs run `id` holds on its host ("0,1"), recorded when it is launched.
core::Status record_gpu_ids(const Database& db, const std::string& id, const std::string& ids);

// Its mean and peak GPU utilisation (percent) and peak memory, recorded once it ended.
core::Status record_gpu_usage(const Database& db,
                              const std::string& id,
                              double util_mean,
                              double util_peak,
                              double mem_peak_mib);

// Appends an event with `detail` to run `id` without changing its status (e.g. "checkpoint
// verify skipped (--skip-verify)").
core::Status add_run_note(const Database& db, const std::string& id, const std::string& detail);

core::Result<std::vector<RunEvent>> run_events(const Database& db, const std::string& id);

// Deletes the run and its events.
core::Status delete_run(const Database& db, const std::string& id);

core::Result<std::int64_t> count_runs(const Database& db);

}  // namespace cosmos::store
