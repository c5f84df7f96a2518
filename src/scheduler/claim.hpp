#pragma once
// A worker's claim on the queue: one transaction that reads the queue (store::queue_snapshot),
// decides by the placement policy (scheduler/placement: pure) and writes the claim
// (store::write_claim), so two workers never take the same job or the same GPU.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "scheduler/placement.hpp"
#include "store/database.hpp"
#include "store/queue_store.hpp"

namespace cosmos::scheduler {

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
// paused. Before choosing, jobs whose dependency failed, was cancelled or will never run are
// cancelled with their runs. The host: one where a job of the same batch key runs or ran last
// (warm), else the one with the most free GPUs. When the job has a batch key, the host batches
// and `req.max_batch` > 1, later claimable jobs of the same key, GPU count and host join it, up
// to max_batch and to a plan over every group (placement.hpp: batch_size); the jobs of a
// batch share a new batch_id (bat_…) and its GPUs, with batch_index 0, 1, … in queue order.
// Returns the claimed jobs (empty: nothing can be claimed now).
core::Result<std::vector<store::JobRecord>> claim_batch(const store::Database& db,
                                                        const ClaimRequest& req);

// claim_batch with max_batch 1: one job or none.
core::Result<std::optional<store::JobRecord>> claim_job(const store::Database& db,
                                                        const ClaimRequest& req);

}  // namespace cosmos::scheduler
