#pragma once
// Which queued jobs a worker claims next, where, on which GPU slots, and which of them share
// one model load: pure functions over a snapshot of the queue (store::QueueSnapshot), so the
// policy — priority order, backfill, warm-host placement, dependency chaining, fair-share batch
// sizes — is tested without a database. scheduler::claim_batch (scheduler/claim.hpp) reads the
// snapshot, plans and writes the claim inside one store transaction.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "model/family.hpp"
#include "store/queue_store.hpp"

namespace cosmos::scheduler {

using store::DependencyState;
using store::QueueSnapshot;

// What a worker offers on one host.
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
    // Runs here are requests to a model server (an http host, or one whose server cosmos runs):
    // only served runs go here, and served runs go nowhere else.
    bool serves = false;
};

// The batch key that marks a served run's queue job ("served:<family>"): served runs never share
// a load, and placement sends them to hosts that serve only.
std::string served_key(model::Family family);
bool is_served_key(const std::optional<std::string>& key);

// Fails with invalid_input when `host` cannot run runs of `family` (a script family on a host
// that serves, a served family on one that does not), saying where such runs go.
core::Status check_host_runs(const config::HostConfig& host, model::Family family);

struct ClaimPlan {
    std::string host;
    std::vector<int> gpu_ids;          // the slots the job (or batch) takes
    std::vector<std::string> job_ids;  // the first is the job claimed; the rest join its batch
};

// Slots `job` takes on `host`: its GPUs, or one where slots are jobs.
int slots_of(const HostCapacity& host, const store::JobRecord& job);

// Where a job depending on `dep` may go: "" (anywhere) when it succeeded; the host its running
// job is on when that host chains (Slurm afterok) and is among `hosts`; nothing otherwise.
std::optional<std::string> chain_host(const DependencyState& dep,
                                      const std::vector<HostCapacity>& hosts);

// The host for `job`: one with enough free slots, preferring the warmest for its batch key
// (its model's files are in the page cache, its inputs often staged), then the most free slots.
// nullptr when it fits nowhere now.
const HostCapacity* place(const store::JobRecord& job,
                          const std::vector<HostCapacity>& hosts,
                          const std::map<std::string, std::set<int>>& used,
                          const std::map<std::string, std::int64_t>& warm);

// The lowest `count` slot ids of `host` not in `used`.
std::vector<int> free_ids(const HostCapacity& host, const std::set<int>& used, int count);

// What one model load costs, in runs of work: a Transfer1 load takes about 90 s on an H100, a
// 121-frame run about 3.5 minutes (docs/queue.md).
inline constexpr double k_load_cost_runs = 0.45;

// The queue's demand as a claim sees it, for sizing a batch.
struct BatchDemand {
    // Ready runs of each compatible group (one model load can serve a group), in claim order;
    // the first is the group being claimed.
    std::vector<int> groups;
    // When each slot of the hosts is free, in runs of work from now (0: free now).
    std::vector<double> slots;
    double load_runs = k_load_cost_runs;
    int max_batch = 8;
};

// How many runs of groups[0] one model load should take now: a plan over all groups at once
// that counts model loads. The candidates are a fair share of the work left (every slot busy
// until about the same time) and the whole group (within max_batch: loads saved); each is
// played out, the next claims going in claim order to the slot free first with a fair share,
// and the one whose plan ends first wins (a tie: the whole group, fewer loads). At least 1.
int batch_size(const BatchDemand& demand);

// The next claim: the first candidate (in order) that fits on one of `hosts`, with the
// compatible candidates that join it as one batch when the host batches and max_batch > 1.
std::optional<ClaimPlan> plan_claim(const QueueSnapshot& view,
                                    const std::vector<HostCapacity>& hosts,
                                    int max_batch);

}  // namespace cosmos::scheduler
