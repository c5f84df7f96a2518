#pragma once
// The run queue as users see it: enqueue runs (with priority, host, dependency), list them with
// their place and progress, pause / resume / cancel / move, and the retry policy workers apply
// (which failures are transient, how long to back off). The SQL lives in store/queue_store;
// workers (services/worker) claim and execute the jobs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"
#include "store/queue_store.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct QueueOptions {
    int priority = 0;                       // higher runs first
    std::optional<std::string> host;        // only this host; default: any host a worker serves
    std::optional<std::string> depends_on;  // a run that must succeed first (else cancelled)
    int max_attempts = 3;                   // claims before a transient failure becomes final
};

// Queues pending run `run_id`. Fails with not_found (run, host, dependency), conflict (already
// queued, not pending) or invalid_input (no host with enough GPUs).
core::Result<store::JobRecord> enqueue_run(const App& app,
                                           const std::string& run_id,
                                           const QueueOptions& options);

// The batch key of `run` (model/batch_file.hpp): runs with equal keys may share one model load.
// Nothing for runs that are never batched (upscale, enhance) or whose spec cannot be built.
std::optional<std::string> batch_key_of(const App& app, const store::RunRecord& run);

// Finds the job named by `id`: a job id (job_…) or a run id (rs_…, its newest job).
core::Result<store::JobRecord> find_job(const App& app, const std::string& id);

// Cancels the job named by `id`: a queued one at once (job and run cancelled); a running one is
// flagged for its worker and, on an ssh host, killed now (services::kill_run).
core::Result<store::JobRecord> cancel_queued(const App& app, const std::string& id);

// A queue row for `cosmos queue` and the web UI: the job with its run's status and progress.
nlohmann::ordered_json job_json(const store::JobRecord& job,
                                const std::optional<store::RunRecord>& run,
                                std::optional<int> position);

// Failures of a queued run.
enum class FailureClass {
    transient,  // host unreachable, timeout, connection lost: retry with backoff
    permanent,  // bad spec, guardrail, model error, anything else: never retried
};
FailureClass classify_failure(const core::Error& e);

// Backoff before attempt `attempts` + 1: base · 2^(attempts-1), at most 5 minutes.
std::int64_t retry_backoff_ms(int attempts, std::int64_t base_ms);

}  // namespace cosmos::services
