#pragma once
// The persistent run queue: one job per queued run (jobs + job_runs tables), ordered by
// priority (higher first) then position (smaller first). Workers claim jobs atomically with a
// lease (owner, expiry) inside one BEGIN IMMEDIATE transaction, placing each on a host with
// enough free GPUs (GPUs in use are those of running jobs in this table, whoever holds them).
// A job whose lease expired is taken over by another worker (claim_expired_job), which
// re-attaches to the run instead of starting it again. Everything here is SQL; the decisions
// about runs (execute, attach, kill) live in services/queue and services/worker.

#include <cstdint>
#include <map>
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

// What a job's dependency (a run) looks like now.
struct DependencyState {
    bool succeeded = false;
    std::optional<std::string> running_on;  // the host of its running job, if any
};

// The queue as a claim sees it, read in the claim's transaction (queue_snapshot); the policy
// over it is scheduler/placement.
struct QueueSnapshot {
    // Claimable jobs in claim order (priority, position, age): queued, not paused or cancelled,
    // past their backoff, their dependency succeeded or running.
    std::vector<JobRecord> candidates;
    std::map<std::string, std::set<int>> used;            // host -> GPU slots held
    std::map<std::string, DependencyState> dependencies;  // run id -> state
    // batch key -> host -> recency (larger: more recent; a running job beats finished ones)
    std::map<std::string, std::map<std::string, std::int64_t>> warm;
    double work_in_flight = 0;  // runs' worth of work the running jobs still have
};

// Cancels queued jobs (and their runs) whose dependency ended without success, or is a pending
// run that no job will ever run.
core::Status cancel_broken_dependencies(const Database& db);

// The queue as a claim sees it at `now_ms` (call inside the claim's transaction).
core::Result<QueueSnapshot> queue_snapshot(const Database& db, std::int64_t now_ms);

// A claim decided by the scheduler (scheduler/claim.hpp): jobs `job_ids` (still queued) go to
// `host` on slots `gpu_ids` under `owner`'s lease; several share a new batch_id (bat_…) with
// batch_index 0, 1, … in that order.
struct ClaimWrite {
    std::string host;
    std::vector<int> gpu_ids;
    std::vector<std::string> job_ids;
    std::string owner;
    std::int64_t lease_ms = 30000;
    std::int64_t now_ms = 0;
};
// Writes `claim` and returns the claimed jobs as they are now.
core::Result<std::vector<JobRecord>> write_claim(const Database& db, const ClaimWrite& claim);

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
