#pragma once
// Submitting many runs to the queue at once: `cosmos sweep` (services/sweep), `cosmos batch
// FILE` (services/batch_file) and `cosmos inference --queue`. Every entry is validated first
// (prompt, parameters, host, GPUs, upscale weight) and only then are all runs created and queued in
// one transaction, so one bad entry creates nothing. An entry with `upscale` also queues an upscale
// run that depends on its transfer run.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/run_params.hpp"
#include "services/app.hpp"
#include "services/create_run.hpp"
#include "services/queue.hpp"
#include "services/upscale.hpp"
#include "store/queue_store.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// One transfer run to create and queue.
struct SubmitEntry {
    std::string prompt;  // a prompt id, or a prompt name that names exactly one prompt
    RunOptions options;
    QueueOptions queue;             // priority, host (depends_on is ignored)
    std::optional<double> upscale;  // also queue an upscale run of this weight after it
    std::string origin;             // where the entry came from, prefixed to its errors
};

// An entry once validated: what would be created, nothing written yet.
struct PlannedRun {
    SubmitEntry entry;
    std::string prompt_id;
    model::RunParams params;
};

// A run created and queued (a transfer run, or an upscale run whose job depends on one).
struct QueuedRun {
    store::RunRecord run;
    store::JobRecord job;
};

// Validates every entry without writing: the prompt exists (id, or a unique name), the
// parameters pass the model checks, the host exists and has the GPUs, the upscale weight is
// valid. Fails with the first error, prefixed with the entry's origin.
core::Result<std::vector<PlannedRun>> plan_runs(const App& app,
                                                const std::vector<SubmitEntry>& entries);

// plan_runs, then creates and queues every run (each upscale run right after its transfer run,
// depending on it) in one transaction: on any failure nothing is created. Returns the queued
// runs in order. With `sweep_id`, every run created is tagged with it (cosmos cost --by sweep).
core::Result<std::vector<QueuedRun>> submit_runs(const App& app,
                                                 const std::vector<SubmitEntry>& entries,
                                                 const std::string& sweep_id = {});

// What a plan will cost, learned from the history of similar finished runs (same model, GPU
// count, steps and input frames: store::estimate_gpu_seconds). Runs without such history are
// counted in `unknown` and left out of the sums.
struct PlanEstimate {
    double gpu_seconds = 0;       // of the runs with history
    std::int64_t known = 0;       // runs with history
    std::int64_t unknown = 0;     // runs without
    std::optional<double> price;  // per GPU-hour: the planned host's, or the one all priced
                                  // hosts share; nullopt when it is not one price
    std::vector<std::optional<double>> per_run;  // GPU-seconds of each planned run, in order
};
core::Result<PlanEstimate> estimate_plan(const App& app, const std::vector<PlannedRun>& plan);

// Creates an upscale run of each of `parent_run_ids` (pending, queued, running or succeeded
// transfer runs) and queues it, depending on its parent unless that one already succeeded; all
// in one transaction. Fails as create_upscale_run and enqueue_run.
core::Result<std::vector<QueuedRun>> queue_upscale_runs(
    const App& app,
    const std::vector<std::string>& parent_run_ids,
    const UpscaleOptions& options,
    const QueueOptions& queue);

// The JSON of a run that was or would be queued (`run` and `job` null in a dry run).
nlohmann::ordered_json planned_json(const PlannedRun& p);
nlohmann::ordered_json queued_json(const QueuedRun& q);

}  // namespace cosmos::services