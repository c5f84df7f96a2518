#pragma once
// The persistent run queue: one job per queued run (jobs + job_runs tables), ordered by
// priority (higher first) then position (smaller first). Workers claim jobs atomically with a
// lease (owner, expiry) inside one BEGIN IMMEDIATE transaction, placing each on a host with
// enough free GPUs (GPUs in use are those of running jobs in this table, whoever holds them).
// A job whose lease expired is taken over by another worker (claim_expired_job), which
// re-attaches to the run instead of starting it again. Everything here is SQL; the decisions
// about runs (execute, attach, kill) live in services/queue and services/worker.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

enum class JobState { queued, running, done, failed, cancelled };

std::string_view to_string(JobState s);
std::optional<JobState> job_state_from(std::string_view s);

struct JobRecord {
    std::string id;
    std::string run_id;
    JobState state = JobState::queued;
    int priority = 0;
    double position = 0;
    std::optional<std::string> host;       // where it runs (set on claim)
    std::optional<std::string> want_host;  // the host it asked for; empty: any
    int gpus = 1;
    std::vector<int> gpu_ids;  // held while running
    int attempts = 0;          // claims that started it (re-attaching is not one)
    int max_attempts = 3;
    std::optional<std::string> lease_owner;
    std::optional<std::int64_t> lease_expires_ms;
    std::optional<std::int64_t> not_before_ms;  // retry backoff
    std::optional<std::string> reason;          // why it waits / why it ended
    std::optional<std::string> depends_on;      // a run that must succeed first
    bool paused = false;
    bool cancel_requested = false;
    std::string created_at;
    std::string updated_at;
    std::optional<std::string> batch_key;  // runs with equal keys may share one model load
    std::optional<std::string> batch_id;   // set on claim when it shares one with other jobs
    std::optional<int> batch_index;        // its line in that batch's file
    bool gpus_released = false;            // its model ended; it only collects now
};

struct EnqueueRequest {
    std::string run_id;
    int priority = 0;
    int gpus = 1;
    std::optional<std::string> want_host;
    std::optional<std::string> depends_on;
    int max_attempts = 3;
    std::optional<std::string> batch_key;  // services/batching; empty: never batched
};

// Adds a queued job for `req.run_id` at the end of its priority and moves the run to `queued`.
// Fails with conflict when the run already has an unfinished job or is not pending/queued.
core::Result<JobRecord> enqueue_job(const Database& db, const EnqueueRequest& req);

core::Result<std::optional<JobRecord>> get_job(const Database& db, const std::string& id);
// The newest job of `run_id`.
core::Result<std::optional<JobRecord>> job_for_run(const Database& db, const std::string& run_id);

// Jobs in claim order: running first, then queued by priority and position; finished ones
// (newest first, at most `finished_limit`) after them.
core::Result<std::vector<JobRecord>> list_jobs(const Database& db, int finished_limit = 0);

struct HostCapacity {
    std::string name;
    int gpus = 1;
    bool batches = false;  // the host can run a batch file (one model load, several runs)
    // `gpus` counts jobs, not GPUs: each job takes one slot whatever its GPU count (a Slurm
    // partition, where `gpus` is the number of jobs kept submitted and Slurm places them).
    bool slots_are_jobs = false;
    // The host's scheduler can hold a job until another succeeded (Slurm's afterok): a job whose
    // dependency runs here now may be claimed onto this host at once instead of after it.
    bool chains = false;
};

struct ClaimRequest {
    std::string owner;
    std::int64_t lease_ms = 30000;
    std::int64_t now_ms = 0;
    std::vector<HostCapacity> hosts;  // where this worker may place jobs (healthy ones)
    int max_batch = 1;                // most runs one model load may serve
};

// Claims the first claimable job that fits on one of `req.hosts`, giving it the lowest free
// GPU ids. Claimable: queued, not paused, past its backoff, its dependency (if any) succeeded
// — or runs now on a host that `chains`, which it is then placed on — and the queue not
// paused. Before choosing, jobs whose dependency failed or was cancelled are
// cancelled with their runs. The host: one where a job of the same batch key runs or ran last
// (warm), else the one with the most free GPUs. When the job has a batch key, the host batches
// and `req.max_batch` > 1, later claimable jobs of the same key, GPU count and host join it, up
// to max_batch and to a fair share — the work left (claimable jobs, plus 1 − progress of each
// run of a running job) divided by all GPU slots of `req.hosts`, rounded down —
// so that the GPUs finish together instead of one batch taking what would keep another GPU
// busy (a remainder of the key smaller than half a share joins rather than costing a load later);
// the jobs of a batch share a new batch_id (bat_…) and its GPUs, with batch_index 0, 1, … in queue
// order. Returns the claimed jobs (empty: nothing can be claimed now).
core::Result<std::vector<JobRecord>> claim_batch(const Database& db, const ClaimRequest& req);

// claim_batch with max_batch 1: one job or none.
core::Result<std::optional<JobRecord>> claim_job(const Database& db, const ClaimRequest& req);

// Takes over a running job whose lease expired (its worker died), with every running job of
// its batch: the leases move to `owner`; host and GPUs stay. Returns them (empty: none).
core::Result<std::vector<JobRecord>> claim_expired_jobs(const Database& db,
                                                        const std::string& owner,
                                                        std::int64_t lease_ms,
                                                        std::int64_t now_ms);

// The model of running jobs `job_ids` held by `owner` ended: their GPUs are free for other jobs
// while these collect their outputs (pipelining).
core::Status release_gpus(const Database& db,
                          const std::vector<std::string>& job_ids,
                          const std::string& owner);

// Extends the lease of `job_id` held by `owner`; false when it is no longer theirs.
core::Result<bool> renew_lease(const Database& db,
                               const std::string& job_id,
                               const std::string& owner,
                               std::int64_t lease_ms,
                               std::int64_t now_ms);

// Gives a running job back to the queue (retry after `not_before_ms`), freeing its GPUs. When
// it already used max_attempts it fails instead. Returns the new state; fails with conflict
// when `owner` does not hold it.
core::Result<JobState> release_job(const Database& db,
                                   const std::string& job_id,
                                   const std::string& owner,
                                   std::int64_t not_before_ms,
                                   const std::string& reason);

// Ends a job held by `owner` (done, failed or cancelled), freeing its GPUs.
core::Status complete_job(const Database& db,
                          const std::string& job_id,
                          const std::string& owner,
                          JobState state,
                          const std::string& reason = {});

// Cancels a queued job and its run at once; for a running job sets cancel_requested (its
// worker stops it) and returns false. Fails with conflict when the job already ended.
core::Result<bool> cancel_job(const Database& db, const std::string& job_id);

// Pauses or resumes one queued job.
core::Status set_job_paused(const Database& db, const std::string& job_id, bool paused);
// Pauses or resumes the whole queue (nothing is claimed while paused; running jobs go on).
core::Status set_queue_paused(const Database& db, bool paused);
core::Result<bool> queue_paused(const Database& db);

// Moves queued job `job_id` to 1-based `position` among queued jobs (it takes the priority of
// the job it lands beside), or sets its priority when `priority` is given (end of that priority).
core::Status move_job(const Database& db,
                      const std::string& job_id,
                      std::optional<int> position,
                      std::optional<int> priority);

// Counts jobs a worker could still have to do: queued and not paused (the queue not paused),
// plus every running one (its worker may die and leave it to be taken over once its lease
// expires; `now_ms` is kept for a finer rule later).
core::Result<std::int64_t> pending_work(const Database& db, std::int64_t now_ms);

// Host health: a host that failed is skipped until `until_ms`.
core::Status mark_host_unhealthy(const Database& db,
                                 const std::string& host,
                                 std::int64_t until_ms,
                                 const std::string& reason);
core::Status mark_host_healthy(const Database& db, const std::string& host);
core::Result<std::set<std::string>> unhealthy_hosts(const Database& db, std::int64_t now_ms);

}  // namespace cosmos::store
