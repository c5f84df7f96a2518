// decide_outcome's table: every combination of how a model job can end, for a single run and a
// line of a batch.

#include "scheduler/outcome.hpp"

#include <gtest/gtest.h>

namespace cosmos::scheduler {
namespace {

using runtime::ProcessState;

OutcomeFacts exited(int code, bool video) {
    OutcomeFacts f;
    f.state = ProcessState::exited;
    f.exit_code = code;
    f.has_video = video;
    f.host = "gpu1";
    return f;
}

struct Row {
    const char* name;
    OutcomeFacts facts;
    Verdict verdict;
    const char* error;  // substring of the error ("" on success)
};

OutcomeFacts with(OutcomeFacts f, void (*change)(OutcomeFacts&)) {
    change(f);
    return f;
}

TEST(DecideOutcome, Table) {
    const Row rows[] = {
        {"exit 0 with video", exited(0, true), Verdict::succeeded, ""},
        {"exit 0 without video",
         exited(0, false),
         Verdict::failed,
         "exited 0 but wrote no output video"},
        {"exit 0, guardrail",
         with(exited(0, false), [](OutcomeFacts& f) { f.guardrail_blocked = true; }),
         Verdict::failed,
         "safety guardrail blocked this prompt"},
        {"exit 1 with error line",
         with(exited(1, false), [](OutcomeFacts& f) { f.model_error = "CUDA out of memory"; }),
         Verdict::failed,
         "the model failed: CUDA out of memory"},
        {"exit 1, no error line", exited(1, false), Verdict::failed, "exited with code 1"},
        {"exit 1 but a video (single run)", exited(1, true), Verdict::failed, "exited with code 1"},
        {"killed by SIGKILL", exited(137, false), Verdict::failed, "exited with code 137"},
        {"gone without exit code on a full disk",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.state = ProcessState::absent;
                  f.disk_full = "12 bytes free in /scratch/w";
              }),
         Verdict::failed,
         "gone without an exit code; the disk on gpu1 is full (12 bytes free in /scratch/w)"},
        {"a model error on a full disk",
         with(exited(1, false),
              [](OutcomeFacts& f) {
                  f.model_error = "OSError: [Errno 28] No space left on device";
                  f.disk_full = "0 bytes free in /w";
              }),
         Verdict::failed,
         "No space left on device; the disk on gpu1 is full (0 bytes free in /w)"},
        {"gone without exit code",
         with(exited(-1, false), [](OutcomeFacts& f) { f.state = ProcessState::absent; }),
         Verdict::failed,
         "on gpu1 is gone without an exit code"},
        {"cancelled by us",
         with(exited(143, true), [](OutcomeFacts& f) { f.cancelled = true; }),
         Verdict::cancelled,
         "cancelled"},
        {"cancelled beats a video",
         with(exited(0, true), [](OutcomeFacts& f) { f.cancelled = true; }),
         Verdict::cancelled,
         "cancelled"},
        {"slurm timeout",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.scheduler_reason = "TIMEOUT";
                  f.model_error = "step 3";
              }),
         Verdict::failed,
         "TIMEOUT (the job ran into the host's time limit); the model's last error: step 3"},
        {"slurm out of memory",
         with(exited(137, false), [](OutcomeFacts& f) { f.scheduler_reason = "OUT_OF_MEMORY"; }),
         Verdict::failed,
         "OUT_OF_MEMORY"},
        {"node failure, worker owns it",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.scheduler_reason = "NODE_FAIL";
                  f.transient = true;
                  f.requeue_transient = true;
              }),
         Verdict::requeue,
         "NODE_FAIL (the cluster's fault, not the run's)"},
        {"node failure, foreground run",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.scheduler_reason = "NODE_FAIL";
                  f.transient = true;
              }),
         Verdict::failed,
         "NODE_FAIL"},
        {"scancel outside cosmos",
         with(exited(-1, false), [](OutcomeFacts& f) { f.scheduler_reason = "CANCELLED by 0"; }),
         Verdict::cancelled,
         "scancel outside cosmos"},
        {"afterok dependency failed",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.scheduler_reason = "CANCELLED";
                  f.waited_for = "rs_parent";
              }),
         Verdict::cancelled,
         "the job it waited for (run rs_parent) did not succeed"},
        {"upsampler exit 0 needs no video",
         with(exited(0, false), [](OutcomeFacts& f) { f.expects_video = false; }),
         Verdict::succeeded,
         ""},
        {"upsampler exit 1",
         with(exited(1, false), [](OutcomeFacts& f) { f.expects_video = false; }),
         Verdict::failed,
         "exited with code 1"},
        // Lines of a batch.
        {"batch line with video after a crash",
         with(exited(1, true), [](OutcomeFacts& f) { f.batch_line = 0; }),
         Verdict::succeeded,
         ""},
        {"batch line guardrail",
         with(exited(0, false),
              [](OutcomeFacts& f) {
                  f.batch_line = 2;
                  f.guardrail_blocked = true;
              }),
         Verdict::failed,
         "no video for batch line 2: the safety guardrail"},
        {"batch line no video, exit 0",
         with(exited(0, false), [](OutcomeFacts& f) { f.batch_line = 1; }),
         Verdict::failed,
         "wrote no video for batch line 1"},
        {"first line without video takes the blame",
         with(exited(1, false),
              [](OutcomeFacts& f) {
                  f.batch_line = 1;
                  f.model_error = "RuntimeError: boom";
              }),
         Verdict::failed,
         "the model failed: RuntimeError: boom"},
        {"later lines never ran",
         with(exited(1, false),
              [](OutcomeFacts& f) {
                  f.batch_line = 2;
                  f.blame_taken = true;
              }),
         Verdict::requeue,
         "before line 2 ran"},
        {"batch on a failed node: every line back",
         with(exited(-1, false),
              [](OutcomeFacts& f) {
                  f.batch_line = 0;
                  f.scheduler_reason = "NODE_FAIL";
                  f.transient = true;
              }),
         Verdict::requeue,
         "NODE_FAIL"},
        {"batch cancelled",
         with(exited(143, false),
              [](OutcomeFacts& f) {
                  f.batch_line = 0;
                  f.cancelled = true;
              }),
         Verdict::cancelled,
         "cancelled"},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.name);
        auto out = decide_outcome(row.facts);
        EXPECT_EQ(out.verdict, row.verdict);
        if (*row.error == '\0') {
            EXPECT_EQ(out.error, "");
        } else {
            EXPECT_NE(out.error.find(row.error), std::string::npos) << out.error;
        }
    }
}

}  // namespace
}  // namespace cosmos::scheduler
