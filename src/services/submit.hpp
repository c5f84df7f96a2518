#pragma once
// Submitting many runs to the queue at once: `cosmos sweep` (the cartesian product of weight
// grids, seeds and prompts), `cosmos batch FILE` (services/batch_file) and `cosmos inference
// --queue`. Every entry is validated first (prompt, parameters, host, GPUs, upscale weight) and
// only then are all runs created and queued in one transaction, so one bad entry creates
// nothing. An entry with `upscale` also queues an upscale run that depends on its transfer run.

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
// runs in order.
core::Result<std::vector<QueuedRun>> submit_runs(const App& app,
                                                 const std::vector<SubmitEntry>& entries);

// Creates an upscale run of each of `parent_run_ids` (pending, queued, running or succeeded
// transfer runs) and queues it, depending on its parent unless that one already succeeded; all
// in one transaction. Fails as create_upscale_run and enqueue_run.
core::Result<std::vector<QueuedRun>> queue_upscale_runs(
    const App& app,
    const std::vector<std::string>& parent_run_ids,
    double weight,
    std::optional<int> num_gpus,
    const QueueOptions& queue);

// --- Sweeps ---

// One axis of a weight grid: --weights-grid depth=0.2,0.4,0.6.
struct WeightAxis {
    std::string modality;
    std::vector<double> values;
};

struct SweepRequest {
    std::vector<std::string> prompts;
    RunOptions base;                  // applied to every run (the grid overrides weights / seed)
    std::vector<WeightAxis> weights;  // one axis per modality
    std::vector<std::int64_t> seeds;  // empty: the base seed
    QueueOptions queue;
    std::optional<double> upscale;
};

inline constexpr std::size_t k_default_max_sweep_runs = 1000;

// Parses MODALITY=V1,V2,... (numbers; the model checks run in plan_runs). Fails with
// invalid_input naming the text.
core::Result<WeightAxis> parse_weight_axis(std::string_view text);

// Parses a list of integers: "1,2,3", a range "1-8" (both ends included) or both ("1-3,10").
// Fails with invalid_input for an empty item, a non-number, a range whose end is below its
// start, or more than `limit` values.
core::Result<std::vector<std::int64_t>> parse_int_list(std::string_view flag,
                                                       std::string_view text,
                                                       std::size_t limit = 100000);

// The number of runs a sweep creates: prompts × values of each axis × seeds (saturating).
std::size_t sweep_size(const SweepRequest& req);

// Expands the sweep into entries, prompt-major, then weight axes in the order given, then
// seeds. Fails with invalid_input when a modality appears on two axes, when --seeds is combined
// with a base seed, or when the sweep has more than `max_runs` runs (0: no limit).
core::Result<std::vector<SubmitEntry>> expand_sweep(const SweepRequest& req, std::size_t max_runs);

// The JSON of a run that was or would be queued (`run` and `job` null in a dry run).
nlohmann::ordered_json planned_json(const PlannedRun& p);
nlohmann::ordered_json queued_json(const QueuedRun& q);

}  // namespace cosmos::services
