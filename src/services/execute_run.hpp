#pragma once
// Executes a pending run on a host and records its whole life in the store: running (with the
// exact command and spec), progress, and succeeded / failed (exit code, error summary) /
// cancelled. The log and any outputs stay in the run's directory also on failure.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backends/job_event.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/preflight.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct ExecuteOptions {
    std::optional<std::string> host;            // default: [run] host
    const std::atomic<bool>* cancel = nullptr;  // set to true to cancel (Ctrl-C)
    backends::EventSink sink;                   // may be empty
    bool detach = false;  // return once the model started (`cosmos logs -f` attaches)
    // Supply-chain overrides (docs/supply-chain.md); each one used is noted on the run.
    bool skip_verify = false;     // start although the host's checkpoint verify failed/is stale
    bool allow_unpinned = false;  // run a docker image without a version tag or digest
    std::vector<int> gpu_ids;     // CUDA_VISIBLE_DEVICES chosen by the scheduler; empty: 0..n-1
    // A transient failure before launch (host unreachable, timeout) moves the run
    // back to `queued` instead of `failed`, so the queue can retry it (services/queue.hpp).
    bool requeue_transient = false;
    // Called once the model ended, before its outputs are collected (the queue frees
    // the run's GPUs for the next run then: pipelining).
    std::function<void()> on_model_end;
};

// Runs `run_id` to its end and returns the final record. Fails with not_found (run, host),
// conflict (the run is not pending) or invalid_input (host cannot take it); a failure of the
// model itself is not an error here: it returns the run in status failed.
core::Result<store::RunRecord> execute_run(const App& app,
                                           const std::string& run_id,
                                           const ExecuteOptions& options);

// Executes pending runs `run_ids` in the foreground, like execute_run each, except that
// compatible ones (equal batch keys: services::batch_key_of) share one model load as a batch of
// at most `max_batch` lines (scheduler/batch). A batch line that never ran (the model died
// before it) goes back to `pending`, to be run again with `cosmos run`. Returns the runs' final
// records in the order given; stops after the run or batch during which options.cancel was set.
// A refusal (execute_run's errors) ends it: runs not started yet are left as they were.
core::Result<std::vector<store::RunRecord>> execute_runs(const App& app,
                                                         const std::vector<std::string>& run_ids,
                                                         const ExecuteOptions& options,
                                                         int max_batch = 8);

// Before a run starts on `host` (docs/supply-chain.md): a docker image must be pinned (unless
// allow_unpinned), the host's checkpoints must not have failed their last verify (unless
// skip_verify; overrides are noted on the run), and the Hugging Face token joins host.env.
core::Status check_supply_chain(const App& app,
                                const store::RunRecord& run,
                                config::HostConfig& host,
                                const ExecuteOptions& options);

// The checks above (the emulator's install on the embedded host, the supply chain with
// options' overrides) as the engine's preflight of a batch (scheduler/preflight.hpp).
scheduler::Preflight preflight(const App& app, const ExecuteOptions& options);

// Makes sure the host's Cosmos checkout is usable: installs the emulator first for the
// embedded default host; fails with not_found naming what is missing otherwise.
core::Status ensure_host_ready(const config::HostConfig& host);

}  // namespace cosmos::services
