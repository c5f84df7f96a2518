#pragma once
// The Slurm host kind as a runtime::Runtime: the model runs as the body of a Slurm batch job
// (backends/slurm_job.hpp writes the script) instead of a detached process, and the runtime's
// protocol maps onto Slurm's commands, run through the host's Shell (this machine when the
// orchestrator sits on the login node, SSH otherwise):
//
//   launch   sbatch --parsable job.sbatch; the job id is kept in <job_dir>/slurm_job_id. A job
//            dir whose job Slurm still holds is refused (attach to it); one whose job ended
//            (the queue retries a node failure or preemption) is submitted again, the earlier
//            attempt's log, exit code and id kept with the old id as suffix.
//   status   `exited CODE` once the script recorded the model's exit code, else what
//            `scontrol show job` says: pending/running → running (reason: why it waits),
//            TIMEOUT / OUT_OF_MEMORY / CANCELLED / FAILED without a code → exited with the state
//            as the reason, NODE_FAIL / PREEMPTED / BOOT_FAIL → exited, transient.
//   kill     scancel, then waits (5 s at most) until Slurm lets go of the job.
//   follow   prints run.log (Slurm's --output file, appended) as it grows until the job ends.
//
// So the stage → launch → watch → collect path, batches, re-attaching after a worker died and
// `cosmos kill` / `cosmos logs -f` work on a cluster exactly as on an SSH host. The script runs
// the model in the foreground, in the node's Python environment (`native`), in `apptainer exec`
// of an image, or in a `docker run` of an image (a wrapper stops and removes the container when
// Slurm ends the job: the container is the daemon's child, outside the job's cgroup). Slurm
// binds the GPUs (CUDA_VISIBLE_DEVICES is Slurm's, never ours; a container gets the indexes
// Slurm allocated). docs/slurm.md.

#include <chrono>
#include <memory>
#include <string>

#include "backends/remote_job.hpp"
#include "backends/slurm_job.hpp"
#include "config/config.hpp"
#include "runtime/runtime.hpp"

namespace cosmos::backends {

struct SlurmSettings {
    std::string partition;
    std::string account;     // empty: the user's default
    std::string time_limit;  // empty: the partition's default
    int cpus_per_task = 0;   // 0: Slurm's default
    // How the job runs the model (kind native, docker or apptainer; image, docker CLI...), and
    // the shared dir, which containers mount at its own path (job dirs, the input cache and
    // the outputs a chained job reads all live there).
    runtime::RuntimeOptions container;
    std::string shared_dir;
};

// The settings of an opened slurm host (its resolved paths and runtime options).
SlurmSettings slurm_settings(const RemoteHost& host);

std::unique_ptr<runtime::Runtime> make_slurm_runtime(SlurmSettings settings);

// The Slurm job name of a cosmos job: "cosmos-" + its id (run or batch).
std::string slurm_job_name(const std::string& job_id);

// Submits the staged job `request` (its launch files written) on slurm host `host`. Jobs this
// process submits to the same host with the same resources within `window` of each other go
// in together: several become one job array (one sbatch, one scheduler entry; each task runs
// its job dir's own job.sbatch, so each dir keeps its script, log and exit code, and gets the
// task's id N_TASK), a lone one a plain job. Fails with invalid_input for a script the
// header cannot carry (removing the secret file), remote_failed with sbatch's message when
// Slurm refuses.
core::Status submit_slurm_job(const RemoteHost& host,
                              const runtime::LaunchRequest& request,
                              std::chrono::milliseconds window = std::chrono::milliseconds(300));

// `cosmos status` of a slurm host: its partition's nodes and GPUs (sinfo) and our jobs in it
// (squeue). Never fails: problems are reported in `error`.
struct SlurmHostStatus {
    bool reachable = false;  // sinfo answered
    std::string error;
    std::vector<SlurmNode> nodes;
    int gpus_total = 0;
    int gpus_free = 0;  // on nodes that take jobs (not down, drained or failing)
    std::vector<SlurmQueueEntry> jobs;
    double latency_ms = 0;
};

SlurmHostStatus slurm_host_status(const RemoteHost& host);

}  // namespace cosmos::backends
