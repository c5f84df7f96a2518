#pragma once
// Batches: several compatible queued transfer runs (model/batch_file.hpp) served by
// one model load through transfer.py's --batch_input_path, recorded run by run in the store.
//
// A batch is a remote job like a single run's (backends/remote_job), named after its batch id
// (bat_…): <work_dir>/jobs/<batch_id> holds spec.json (the first run's spec: modalities and
// scalars, which every run shares), batch.jsonl (one line per run: its prompt, input video and
// per-modality weight and control video), the log and outputs/video_<i>/. Each run records the
// batch and its line (runs.batch_id, batch_index), the batch's job dir as remote_dir, and as
// its spec the effective one (the batch spec with its own line applied). Locally the batch's
// log and outputs are collected once into <data_dir>/batches/<batch_id>/ and each run's line is
// linked into its own run dir (run.log, outputs/output.mp4, outputs/output.txt), so a batched
// run looks like any other afterwards.
//
// Outcomes, per line (batch size 1 keeps line numbers, docs/models/transfer1.md: "Batches"): a line
// with its video and prompt file succeeded, whatever the exit code; a line without a video failed
// when the model exited 0 (the guardrail blocked it, or it wrote nothing); when the model failed,
// the first line without a video failed with the model's error and the lines after it never
// ran: they go back to `queued` (BatchResult::requeued) for the queue to run again.
//
// Cancelling one run of a running batch marks only that run cancelled (one line cannot be taken
// out of a running model); the process is stopped once every run of the batch is cancelled.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "backends/job_event.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"
#include "scheduler/preflight.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

struct BatchOptions {
    std::string host;                         // any host kind
    std::vector<int> gpu_ids;                 // CUDA_VISIBLE_DEVICES
    const std::atomic<bool>* stop = nullptr;  // stop following; with kill_on_stop, kill it
    bool kill_on_stop = true;
    backends::EventSink sink;            // events of every run of the batch
    std::function<void()> on_model_end;  // the model ended: its GPUs are free
    Preflight preflight;  // what the caller checks before the batch starts (may be empty)
};

struct BatchResult {
    std::vector<store::RunRecord> runs;  // every run of the batch, by line, as they ended
    std::vector<std::string> requeued;   // runs that never ran (the model died before them)
};

// Stages, launches and follows queued runs `run_ids` (line i = run_ids[i]) as batch
// `batch_id` on `options.host`, then collects and records each run's outcome. Fails with
// invalid_input when the runs are not compatible (nothing changes) and with the transport's
// error when the host cannot be reached before launch (the runs stay queued); a model failure
// is no error here: it shows in the runs.
core::Result<BatchResult> execute_batch(const App& app,
                                        const std::string& batch_id,
                                        const std::vector<std::string>& run_ids,
                                        const BatchOptions& options);

// Follows a launched batch to its end (again: after its worker died, or `cosmos logs -f` of one
// of its runs), collects and records the outcomes. Runs already ended keep their outcome.
core::Result<BatchResult> attach_batch(const App& app,
                                       const std::string& batch_id,
                                       const BatchOptions& options);

// Cancels run `run_id` of a running batch: the run is cancelled at once; the model is killed
// (and the batch collected) when no run of the batch is left running.
core::Result<store::RunRecord> cancel_batch_run(const App& app, const std::string& run_id);

// <data_dir>/batches/<batch_id>: the batch's collected log and outputs.
std::filesystem::path batch_dir(const App& app, const std::string& batch_id);

}  // namespace cosmos::scheduler
