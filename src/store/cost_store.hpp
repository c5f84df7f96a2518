#pragma once
// What runs cost (docs/cost.md): the GPU-seconds each run held and the price per GPU-hour of
// its host then, summed by prompt, host, model, sweep or day; and an estimate of a planned run's
// GPU-seconds from the history of similar finished runs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

// Marks runs as queued by one sweep.
core::Status tag_sweep(const Database& db,
                       const std::string& sweep_id,
                       const std::vector<std::string>& run_ids);

// One line of `cosmos cost`.
struct CostRow {
    std::string key;            // the prompt id, host, model, sweep id or day (YYYY-MM-DD)
    std::int64_t runs = 0;      // finished runs that held GPUs
    double gpu_seconds = 0;     // all of them
    double cost = 0;            // of the runs whose host had a price
    std::int64_t unpriced = 0;  // runs without a price (their GPU-seconds count, no money)
};

enum class CostGrouping { prompt, host, model, sweep, day };

// Finished runs with recorded GPU-seconds, created at or after `since` (ISO; empty: all),
// grouped; the biggest spender first. Runs of no sweep are left out of the sweep grouping.
core::Result<std::vector<CostRow>> cost_report(const Database& db,
                                               const std::string& since,
                                               CostGrouping by);

// A planned run's GPU-seconds learned from history: the mean over succeeded runs of the same
// model, GPU count, step count and input frame count (`samples` of them); nullopt without any.
struct Estimate {
    double gpu_seconds = 0;
    std::int64_t samples = 0;
};
core::Result<std::optional<Estimate>> estimate_gpu_seconds(
    const Database& db, const std::string& model, int num_gpus, int num_steps, std::int64_t frames);

}  // namespace cosmos::store
