#pragma once
// The job runner of one run, on any host kind, recorded in the store: execute (stage → launch →
// attach), attach (follow to the end, collect, record the outcome; what `cosmos logs -f` does for
// a run started with --detach or whose watcher died), and kill. Each step leaves the run in a
// state another process can pick up from: the run row names its host and job dir, and the job
// dir on the host holds everything (spec, log, pid/exit files, outputs).

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backends/job_event.hpp"
#include "backends/remote_job.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "model/model_log.hpp"
#include "scheduler/app.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

// Connects to `host` (an ssh host) and resolves its directories.
core::Result<backends::RemoteHost> open_host(const config::HostConfig& host);

struct AttachOptions {
    backends::EventSink sink;                 // may be empty
    const std::atomic<bool>* stop = nullptr;  // Ctrl-C
    bool kill_on_stop = false;  // true: stopping kills the model (foreground runs); false: detach
    bool mirror_log = false;    // true: write the log into the run dir as it streams
    std::function<void()> on_model_end;  // the model ended (before collecting): GPUs are free
    // A job the cluster ended (runtime::Observed::transient: node failure, preemption) puts its
    // run back in the queue instead of failing it (set by workers; a foreground run fails).
    bool requeue_transient = false;
};

struct RemoteExecuteOptions {
    AttachOptions attach;
    bool detach = false;                      // return once the model started
    std::vector<int> gpu_ids;                 // CUDA_VISIBLE_DEVICES; empty: 0 .. num_gpus-1
    bool requeue_transient = false;           // see ExecuteOptions::requeue_transient
    std::vector<std::string> after_job_dirs;  // see backends::RemoteJobSpec::after_job_dirs
};

// Appends to `out` the local files `spec` names (input video, control videos, an upscaled run's
// output): every string value that is an absolute path of an existing file, once each. These
// are what staging uploads.
void spec_inputs(const nlohmann::ordered_json& spec, std::vector<std::filesystem::path>& out);

// Reads a collected log again from its first line (progress trackers of a watcher that
// re-attached, or never attached, saw only part of it) into `tracker` (the family's log reader).
model::ProgressTracker scan_log(const std::filesystem::path& log, model::ProgressTracker tracker);

// backends::stage_job and backends::launch_job, retried with backoff for up to 90 s while the
// connection drops; a launch whose reply was lost is not repeated when the model started.
core::Result<backends::StagedJob> stage_with_reconnect(const backends::RemoteHost& host,
                                                       const backends::RemoteJobSpec& job,
                                                       const backends::StageProgressFn& progress);
core::Status launch_with_reconnect(const backends::RemoteHost& host,
                                   const runtime::LaunchRequest& request);

// True for failures worth retrying later (host unreachable, timeout): the host or network, not
// the run, was at fault.
bool is_transient(const core::Error& e);

// Stages, launches and (unless detached) attaches to pending run `run` of `prompt` on `host`.
core::Result<store::RunRecord> execute_remote_run(const App& app,
                                                  const store::RunRecord& run,
                                                  const store::PromptRecord& prompt,
                                                  const config::HostConfig& host,
                                                  const nlohmann::ordered_json& local_spec,
                                                  const RemoteExecuteOptions& options);

// Follows running run `run_id` to its end, collects its log and outputs and records the
// outcome. Fails with interrupted when detached by `stop` (the run keeps going), conflict when
// the run is not running on an ssh host.
core::Result<store::RunRecord> attach_run(const App& app,
                                          const std::string& run_id,
                                          const AttachOptions& options);

// Stops run `run_id` and marks it cancelled: a pending/queued run at once; a running remote run
// once its process is gone (within seconds), after which its log and outputs are collected.
core::Result<store::RunRecord> kill_run(const App& app, const std::string& run_id);

// Returns the log of `run_id`: the local copy once collected, else the host's current log.
core::Result<std::string> read_run_log(const App& app, const std::string& run_id);

}  // namespace cosmos::scheduler
