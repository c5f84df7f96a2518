#include "scheduler/outcome.hpp"

#include <fmt/format.h>

namespace cosmos::scheduler {

std::string scheduler_ended(const std::string& reason,
                            bool transient,
                            const std::optional<std::string>& model_error) {
    std::string what = reason;
    if (what == "TIMEOUT") {
        what = "TIMEOUT (the job ran into the host's time limit)";
    } else if (what == "OUT_OF_MEMORY") {
        what = "OUT_OF_MEMORY (the job used more memory than Slurm allowed it)";
    } else if (transient) {
        what += " (the cluster's fault, not the run's)";
    }
    return fmt::format("Slurm ended the job: {}{}",
                       what,
                       model_error ? "; the model's last error: " + *model_error : "");
}

namespace {

// Why the model process failed, from what the runtime and the log say.
std::string model_failure(const OutcomeFacts& f) {
    bool exited_ok = f.state == runtime::ProcessState::exited && f.exit_code == 0;
    if (!f.scheduler_reason.empty() && !exited_ok) {
        return scheduler_ended(f.scheduler_reason, f.transient, f.model_error);
    }
    if (f.state == runtime::ProcessState::absent || f.exit_code < 0) {
        return fmt::format("the model process on {} is gone without an exit code", f.host);
    }
    return fmt::format("the model failed: {}",
                       f.model_error.value_or(fmt::format("exited with code {}", f.exit_code)));
}

std::string no_video(const OutcomeFacts& f) {
    if (f.batch_line) {
        return f.guardrail_blocked
                   ? fmt::format(
                         "no video for batch line {}: the safety guardrail blocked a "
                         "prompt of this batch",
                         *f.batch_line)
                   : fmt::format("the model exited 0 but wrote no video for batch line {}",
                                 *f.batch_line);
    }
    return f.guardrail_blocked ? std::string("no video: the safety guardrail blocked this prompt")
                               : std::string("the model exited 0 but wrote no output video");
}

}  // namespace

namespace {

Outcome decide(const OutcomeFacts& f);

}  // namespace

Outcome decide_outcome(const OutcomeFacts& f) {
    Outcome out = decide(f);
    if (out.verdict == Verdict::failed && f.disk_full) {
        out.error += fmt::format(
            "; the disk on {} is full ({}): free space there (cosmos hosts clean {}) or set a "
            "work_dir on a larger disk",
            f.host,
            *f.disk_full,
            f.host);
    }
    return out;
}

namespace {

Outcome decide(const OutcomeFacts& f) {
    if (f.cancelled) {
        return {Verdict::cancelled, "cancelled"};
    }
    bool exited_ok = f.state == runtime::ProcessState::exited && f.exit_code == 0;
    // A batch line whose video is there finished, whatever happened to the lines after it.
    if (f.batch_line && f.has_video) {
        return {Verdict::succeeded, {}};
    }
    if (f.transient && !exited_ok && (f.requeue_transient || f.batch_line)) {
        return {Verdict::requeue, scheduler_ended(f.scheduler_reason, true, f.model_error)};
    }
    if (f.scheduler_reason.rfind("CANCELLED", 0) == 0 && !exited_ok) {
        return {Verdict::cancelled,
                f.waited_for ? fmt::format("cancelled by Slurm: the job it waited for (run {}) did "
                                           "not succeed",
                                           *f.waited_for)
                             : std::string("cancelled by Slurm (scancel outside cosmos, or an "
                                           "administrator)")};
    }
    if (!exited_ok) {
        if (f.batch_line && f.blame_taken) {
            return {Verdict::requeue,
                    fmt::format("the batch ended before line {} ran", *f.batch_line)};
        }
        return {Verdict::failed, model_failure(f)};
    }
    if (f.expects_video && !f.has_video) {
        return {Verdict::failed, no_video(f)};
    }
    return {Verdict::succeeded, {}};
}

}  // namespace

}  // namespace cosmos::scheduler
