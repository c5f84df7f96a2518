#pragma once
// How a model job ended, as one pure decision: every host kind (local, ssh, slurm) and every job
// shape (a single run, a line of a batch) reaches its run's final status through
// decide_outcome(), so the same facts always give the same status and the same error sentence.
// The facts come from the runtime (exit code, the scheduler's reason), the collected outputs
// (video present) and the collected log (guardrail, the model's last error line).

#include <optional>
#include <string>

#include "runtime/runtime.hpp"

namespace cosmos::scheduler {

struct OutcomeFacts {
    runtime::ProcessState state = runtime::ProcessState::absent;  // exited or absent at the end
    int exit_code = -1;                                           // -1: none recorded
    std::string scheduler_reason;    // why a scheduler ended the job ("TIMEOUT", "CANCELLED by 0")
    bool transient = false;          // ended by the cluster's fault (node failure, preemption)
    bool cancelled = false;          // stopped by us: Ctrl-C in a foreground run, `cosmos kill`
    bool has_video = false;          // the run's (or this batch line's) video was collected
    bool expects_video = true;       // false for the prompt upsampler (its result is in the log)
    bool guardrail_blocked = false;  // the log says the safety guardrail blocked a prompt
    std::optional<std::string> model_error;  // the model's last error line in its log
    std::string host;                        // for messages
    std::optional<std::string> waited_for;   // run id this job waited for (Slurm afterok)
    // A line of a batch: its index, and whether an earlier line already took the blame for the
    // model's failure (later lines never ran: they go back to the queue).
    std::optional<int> batch_line;
    bool blame_taken = false;
    bool requeue_transient = false;  // a worker owns the run: a transient end requeues it
    // The host's disk was full when the job ended ("N bytes free in DIR"): said in the error of a
    // failed run, since the model could not write its error, video or exit code.
    std::optional<std::string> disk_full;
};

enum class Verdict {
    succeeded,
    failed,
    cancelled,
    requeue,  // nothing of the run is at fault (the cluster ended it, or its batch line never
              // ran): back to the queue, within its attempt limit
};

struct Outcome {
    Verdict verdict = Verdict::failed;
    std::string error;  // one line; empty on success
};

// Decides how the job ended (the table in tests/unit/scheduler/outcome_test.cpp).
Outcome decide_outcome(const OutcomeFacts& facts);

// "Slurm ended the job: TIMEOUT (...)", with the model's last error line when it printed one.
std::string scheduler_ended(const std::string& reason,
                            bool transient,
                            const std::optional<std::string>& model_error);

}  // namespace cosmos::scheduler
