#pragma once
// What the commands that queue many runs share (sweep, batch, inference --queue, upscale
// --queue): the optional value of --upscale [W], and how queued (or, in a dry run, planned)
// runs are printed: one line each, or one JSON array, then a note on how to work the queue.

#include <optional>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "core/result.hpp"
#include "services/submit.hpp"

namespace cosmos::cli {

// Parses the optional value of --upscale [W]: nullopt when the flag is absent, the default
// weight when it has no value; fails with invalid_input for a value that is not a number.
core::Result<std::optional<double>> upscale_weight(const std::vector<std::string>& given,
                                                   bool present);

// Prints the queued runs (a line `RUN JOB KIND PROMPT PARAMS` each, or a JSON array of
// services::queued_json) and notes on stderr how many were queued and that `cosmos worker`
// works them.
void print_queued(const Context& ctx, const std::vector<services::QueuedRun>& queued);

// Prints what a dry run would queue (services::planned_json) and notes that nothing was created.
// A dry run: what would be queued, with each run's estimated GPU-seconds and cost (--json) and
// the plan's total (stderr).
void print_planned(const Context& ctx,
                   const std::vector<services::PlannedRun>& plan,
                   const services::PlanEstimate& estimate);

}  // namespace cosmos::cli
