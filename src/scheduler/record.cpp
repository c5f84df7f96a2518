#include "scheduler/record.hpp"

#include "core/log.hpp"
#include "scheduler/gpu_sampling.hpp"
#include "store/run_store.hpp"

namespace cosmos::scheduler {

store::RunStatus status_of(Verdict verdict) {
    switch (verdict) {
        case Verdict::succeeded:
            return store::RunStatus::succeeded;
        case Verdict::cancelled:
            return store::RunStatus::cancelled;
        case Verdict::requeue:
            return store::RunStatus::queued;
        case Verdict::failed:
            break;
    }
    return store::RunStatus::failed;
}

OutcomeFacts outcome_facts(const runtime::Observed& state,
                           const model::ProgressTracker& log,
                           const std::string& host) {
    OutcomeFacts f;
    f.state = state.state;
    f.exit_code = state.exit_code;
    f.scheduler_reason = state.reason;
    f.transient = state.transient;
    f.guardrail_blocked = log.guardrail_blocked();
    f.model_error = log.error_line();
    f.host = host;
    return f;
}

core::Result<bool> requeue_run(const store::Database& db,
                               const std::string& id,
                               const std::string& why) {
    COSMOS_TRY(auto run, store::require_run(db, id));
    if (store::is_terminal(run.status)) {
        return false;
    }
    if (auto s = store::record_progress(db, id, 0); !s) {
        return core::fail(s.error());
    }
    if (auto s = store::record_batch(db, id, std::nullopt, std::nullopt); !s) {
        return core::fail(s.error());
    }
    return store::transition_run(db, id, store::RunStatus::queued, why);
}

core::Result<bool> record_end(const store::Database& db,
                              const std::string& id,
                              const Outcome& outcome,
                              int exit_code,
                              const std::optional<std::string>& output_video) {
    if (outcome.verdict == Verdict::requeue) {
        return requeue_run(db, id, outcome.error);
    }
    COSMOS_TRY(auto run, store::require_run(db, id));
    if (store::is_terminal(run.status)) {
        return false;
    }
    // Its GPU use over its run time, before it is seen ended (gpu_sampling.hpp).
    core::warn_on_error(record_run_gpu_usage(db, run), "record_run_gpu_usage");
    bool succeeded = outcome.verdict == Verdict::succeeded;
    store::OutcomeRecord rec{exit_code >= 0 ? std::optional<std::int64_t>(exit_code) : std::nullopt,
                             succeeded ? std::nullopt : std::optional<std::string>(outcome.error),
                             output_video};
    if (auto s = store::record_outcome(db, id, rec); !s) {
        return core::fail(s.error());
    }
    if (succeeded) {
        if (auto s = store::record_progress(db, id, 1.0); !s) {
            return core::fail(s.error());
        }
    }
    return store::transition_run(db, id, status_of(outcome.verdict), outcome.error);
}

}  // namespace cosmos::scheduler
