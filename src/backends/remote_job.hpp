#pragma once
// A model job on a host reached through a transport::Shell, in four phases that the services
// layer records in the store: stage (inputs into the host's content-addressed cache, linked into
// the job dir, spec written) → launch (the runtime starts the model detached) → watch (follow
// the log, re-attaching after a dropped connection) → collect (log and outputs brought home,
// also after a failure or a kill). The job dir is <work_dir>/jobs/<run_id>, so any process that
// knows the run id and host can re-attach, kill or collect: nothing lives only in memory.
//
// Everything here works through Shell and Runtime, so the SSH path and the docker and native
// runtimes are one code path apart from the commands the runtime builds.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/job_event.hpp"
#include "config/config.hpp"
#include "core/kinds.hpp"
#include "core/result.hpp"
#include "model/family.hpp"
#include "model/run_params.hpp"
#include "model/transfer_command.hpp"
#include "runtime/runtime.hpp"
#include "transport/shell.hpp"

namespace cosmos::backends {

// A host ready for jobs: its shell, its runtime, and its directories with `~` resolved.
struct RemoteHost {
    config::HostConfig config;
    std::shared_ptr<transport::Shell> shell;
    std::shared_ptr<runtime::Runtime> runtime;
    runtime::RuntimeOptions runtime_options;
    std::string work_dir;  // absolute on the host
    std::string cosmos_dir;
    std::map<model::Family, std::string> checkouts;  // per-family checkouts, resolved
    std::string checkpoint_dir;
    std::string torchrun;

    // Where `family`'s checkout is: its own ([hosts.NAME.checkouts]), else cosmos_dir.
    const std::string& checkout(model::Family family) const {
        auto it = checkouts.find(family);
        return it == checkouts.end() ? cosmos_dir : it->second;
    }

    // Set for hosts whose jobs a scheduler places (Slurm): it binds the GPUs (the queue's slot
    // ids are no GPU ids) and the login node's files say nothing about the compute node's.
    bool scheduler_binds_gpus = false;
    // How a staged job is launched when not by the runtime's launch command (Slurm: sbatch,
    // grouped into one job array with the jobs submitted at the same moment).
    std::function<core::Status(const RemoteHost&, const runtime::LaunchRequest&)> submit;

    std::string cache_dir() const { return work_dir + "/cache"; }
    std::string jobs_dir() const { return work_dir + "/jobs"; }
    std::string job_dir(const std::string& run_id) const { return jobs_dir() + "/" + run_id; }
};

// The Shell and Runtime seams of every host, for tests: fakes put here replace how a host is
// reached and how the model runs on it, and the whole engine above them runs unchanged. Empty
// members: the real ones (backends::shell_for, the host kind's runtime).
struct HostSeams {
    std::function<core::Result<std::shared_ptr<transport::Shell>>(const config::HostConfig&)> shell;
    std::function<std::shared_ptr<runtime::Runtime>(const RemoteHost&)> runtime;
};
// Installs `seams` for this process and returns the ones before (tests only; not thread-safe
// against hosts being opened at the same moment).
HostSeams set_host_seams(HostSeams seams);
const HostSeams& host_seams();

// Connects (lazily) and resolves the host's directories. Fails with host_unreachable /
// auth_failed from the transport, config for an unknown runtime.
core::Result<RemoteHost> open_remote_host(const config::HostConfig& host,
                                          std::shared_ptr<transport::Shell> shell);

// Before staging (one command): the model's checkout must be on the host (cosmos_dir holds
// the transfer script) and, for the native runtime, the launcher (`torchrun`, or the path the
// host names) must be runnable as the model's process will run it (the host's env PATH
// included). Fails with not_found naming the host, what is missing and the setting that fixes
// it, with the transport's error (host_unreachable...) when the host cannot be reached: it is
// the engine's one round trip before staging. Slurm hosts are only reached (the job runs on a
// compute node).
core::Status check_host_ready(const RemoteHost& host, const model::ModelFamily& family);

struct RemoteJobSpec {
    std::string run_id;
    model::Family family = model::Family::transfer1;  // the model it runs
    core::RunKind kind = core::RunKind::transfer;     // transfer | upscale | enhance
    std::filesystem::path local_run_dir;              // log and outputs are collected here
    nlohmann::ordered_json spec;                      // with the local absolute paths of `inputs`
    std::vector<std::filesystem::path> inputs;        // files the spec names; staged and rewritten
    model::RunParams params;
    std::int64_t frames = 121;     // input frames, for the expected chunk count
    std::optional<int> num_steps;  // a --num_steps flag (the upscaler runs with 10)
    std::vector<int> gpu_ids;      // CUDA_VISIBLE_DEVICES; empty: 0 .. num_gpus-1
    // A batch (model/batch_file.hpp): one line per run, written as batch.jsonl in the job dir
    // (paths rewritten like the spec's) and passed as --batch_input_path. `run_id` is then the
    // batch id, which names the job dir and the process.
    std::vector<nlohmann::ordered_json> batch_lines;
    // Job dirs (on the host) of jobs this one must wait for (slurm hosts: Slurm's afterok).
    std::vector<std::string> after_job_dirs;
};

// What open_remote_host resolves, without connecting: `~` and relative paths stay relative to
// "~" (for showing a command, e.g. the web UI's preview, not for running one).
RemoteHost describe_remote_host(const config::HostConfig& host);

// The model command of `job` on `host` once staged (its spec, and batch.jsonl when `batch`, in
// host.job_dir(job.run_id)), with the host's environment (secrets excepted: they travel in the
// runtime's 0600 file). The one command builder: stage_job launches it, the preview shows it.
model::LaunchCommand job_command(const RemoteHost& host,
                                 const RemoteJobSpec& job,
                                 const nlohmann::ordered_json& spec,
                                 bool batch);

// GPUs the job asks its runtime for (1 for the prompt upsampler).
int job_gpus(const RemoteHost& host, const RemoteJobSpec& job);

struct StagedJob {
    runtime::LaunchRequest request;
    nlohmann::ordered_json remote_spec;                      // exactly as written to the host
    std::vector<nlohmann::ordered_json> remote_batch_lines;  // likewise, for a batch
    std::uint64_t uploaded_bytes = 0;
    double upload_seconds = 0;
};

// Uploads what the host lacks, links the inputs into the job dir and writes spec.json there.
// `progress` gets (file, done, total) for each upload.
using StageProgressFn =
    std::function<void(const std::string& file, std::uint64_t done, std::uint64_t total)>;
core::Result<StagedJob> stage_job(const RemoteHost& host,
                                  const RemoteJobSpec& job,
                                  const StageProgressFn& progress = {});

// The launch request of an already staged or launched job, rebuilt from the run id (what a
// re-attaching process has).
runtime::LaunchRequest job_request(const RemoteHost& host, const std::string& run_id);

// Starts the model detached. Fails with remote_failed and the runtime's stderr when it did not
// start (a running job of that id is refused by the runtime, never started twice).
core::Status launch_job(const RemoteHost& host, const runtime::LaunchRequest& request);

// The image that runs the model, "sha256:<id> <repo>@sha256:<digest>..." (docker), for the
// reproducibility record; nullopt for native or when it cannot be read.
std::optional<std::string> image_identity(const RemoteHost& host);

// The runtime's view of the job now.
core::Result<runtime::Observed> observe_job(const RemoteHost& host,
                                            const runtime::LaunchRequest& request);

struct WatchResult {
    runtime::Observed final_state;  // exited (with exit code) or absent
    std::int64_t lines = 0;         // log lines seen
};

// Follows the job's log until the model ends, appending each line (redacted) to
// `local_log` and emitting LogLine and Progress events (`tracker`: the model family's log
// reader). A dropped connection is re-attached with backoff for up to `reconnect_budget`,
// skipping lines already seen. Returns interrupted when `stop` became true (the job keeps
// running), host_unreachable when the host stayed away.
core::Result<WatchResult> watch_job(
    const RemoteHost& host,
    const runtime::LaunchRequest& request,
    model::ProgressTracker tracker,
    const std::filesystem::path& local_log,
    const EventSink& sink,
    const std::atomic<bool>* stop,
    std::chrono::seconds reconnect_budget = std::chrono::minutes(10));

// Stops the model; returns once the runtime reports it gone or exited (at most `wait`).
core::Status kill_job(const RemoteHost& host,
                      const runtime::LaunchRequest& request,
                      std::chrono::milliseconds wait = std::chrono::seconds(5));

// The job's log as the watcher mirrors it and as it is kept at home: lines split at '\n' and
// '\r' (tqdm redraws), empty ones dropped, each redacted and ended by '\n'.
std::string normalized_log(std::string_view raw);

struct Collected {
    std::uint64_t downloaded_bytes = 0;
    double download_seconds = 0;
    std::optional<std::string> output_video;  // local absolute path of outputs/output.mp4
    std::vector<std::string> files;           // local paths of everything collected
};

// Brings the full log (as run.log) and every file under the job's outputs/ into
// `local_run_dir`, skipping files already complete there. Safe to call from two processes at
// once (serialised by a lock file in the run dir) and again after a partial collection.
core::Result<Collected> collect_job(const RemoteHost& host,
                                    const runtime::LaunchRequest& request,
                                    const std::filesystem::path& local_run_dir);

// A failed job's job dir is on a full disk (less than k_disk_full_bytes free): "N bytes free in
// DIR", for the run's error (a model that cannot write its video, its log or its exit code ends
// without saying why). nullopt when there is room or the host does not tell.
inline constexpr std::uint64_t k_disk_full_bytes = 64ull << 20;
std::optional<std::string> disk_full_note(const RemoteHost& host,
                                          const runtime::LaunchRequest& request);

// Removes what the runtime left (stopped container); the job dir stays for inspection.
core::Status cleanup_job(const RemoteHost& host, const runtime::LaunchRequest& request);

}  // namespace cosmos::backends

namespace cosmos::backends {

struct GpuStatus {
    int index = 0;
    std::string name;
    int utilization_percent = 0;
    std::int64_t memory_used_mib = 0;
    std::int64_t memory_total_mib = 0;
};

struct HostStatus {
    bool reachable = false;
    std::string error;  // why not, when unreachable
    // The kind of that failure: host_unreachable, or auth_failed when the host answered but its
    // key is not trusted (unknown, changed, revoked) or the login was refused.
    core::ErrorCode error_code = core::ErrorCode::host_unreachable;
    std::vector<GpuStatus> gpus;
    std::string gpu_error;                    // nvidia-smi missing or failing
    std::optional<std::uint64_t> free_bytes;  // in the work dir's file system
    std::vector<std::string> jobs;            // those of the jobs asked about that are alive
    double latency_ms = 0;                    // one round trip of a trivial command
};

// Reachability, GPUs (nvidia-smi --query-gpu; the emulator's bin/nvidia-smi in the Cosmos dir
// when none is in PATH), free disk in the work dir, and which of `job_ids` are alive. Never
// fails: problems are reported in the fields.
HostStatus host_status(const RemoteHost& host, const std::vector<std::string>& job_ids);

// Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total
// --format=csv,noheader,nounits` output.
std::vector<GpuStatus> parse_gpu_query(const std::string& csv);

// The argv that runs nvidia-smi with `args` on a host (through its Shell): the one in PATH, else
// the emulator layout's bin/nvidia-smi in `cosmos_dir`; exit 127 with "nvidia-smi: not found"
// when there is neither. A constant script: the arguments travel as its own arguments.
std::vector<std::string> nvidia_smi_argv(const std::string& cosmos_dir,
                                         const std::vector<std::string>& args);

// The free bytes of `df -Pk DIR | tail -n 1` output (its fourth field, in KiB); nullopt when
// the line has no such number.
std::optional<std::uint64_t> parse_df_available(const std::string& out);

}  // namespace cosmos::backends
