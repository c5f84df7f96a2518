#pragma once
// The store bookkeeping of a job's end, written once for every host kind and job shape: a
// decided Outcome (scheduler/outcome.hpp) becomes the run's status, error, exit code and output,
// and a run that goes back to the queue forgets its progress and batch line.

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "model/model_log.hpp"
#include "runtime/runtime.hpp"
#include "scheduler/outcome.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

// The run status a verdict ends in (requeue: queued).
store::RunStatus status_of(Verdict verdict);

// The facts the runtime's last observation and the collected log give (exit code, scheduler's
// reason, guardrail, the model's last error line); the caller adds video, cancel and batch.
OutcomeFacts outcome_facts(const runtime::Observed& state,
                           const model::ProgressTracker& log,
                           const std::string& host);

// Puts run `id` back in the queue (progress 0, no batch line) with `why` on its events, unless
// it already ended. Returns whether it moved.
core::Result<bool> requeue_run(const store::Database& db,
                               const std::string& id,
                               const std::string& why);

// Records `outcome` on run `id` (exit code, error, output video, then the status) unless the
// run already ended (someone else's outcome stands). Returns whether it moved.
core::Result<bool> record_end(const store::Database& db,
                              const std::string& id,
                              const Outcome& outcome,
                              int exit_code,
                              const std::optional<std::string>& output_video);

}  // namespace cosmos::scheduler
