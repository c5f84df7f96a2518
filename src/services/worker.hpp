#pragma once
// A queue worker: claims jobs (store/queue_store) for the hosts it serves, runs each on its own
// thread (execute_run with the claimed GPU ids, or attach_run for a run already on its host),
// renews the leases while they run, retries transient failures with backoff, and routes around
// hosts that failed (host_health). Any number of workers in any processes can share a
// database; a worker that dies leaves leases that expire, and the next worker re-attaches to
// the still-running remote jobs instead of starting them again.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

struct WorkerOptions {
    std::string owner;               // lease owner; default: <hostname>:<pid>:<random>
    std::vector<std::string> hosts;  // hosts to place runs on; empty: every local and ssh host
    bool exit_when_idle = false;     // return once nothing is queued or left to re-attach
    std::int64_t lease_ms = 30000;
    std::int64_t poll_ms = 1000;
    std::int64_t retry_base_ms = 5000;  // backoff of the first retry (doubling, ≤ 5 min)
    std::int64_t unhealthy_ms = 60000;  // how long a host that failed is skipped
    int max_batch = 8;  // most compatible runs one model load serves on an ssh host; 1: none
    const std::atomic<bool>* stop = nullptr;       // stop claiming; return once running jobs ended
    std::function<void(const std::string&)> note;  // one line per event (may be empty)
};

// Fails with invalid_input naming the first option out of range: a lease under 1 s or under
// three polls (it would expire between renewals), a poll outside 10 ms..1 h, negative back-offs,
// a max batch under 1.
core::Status check_worker_options(const WorkerOptions& options);

// Works the queue until stopped (or idle with exit_when_idle). Fails only when the store
// fails; run failures are recorded on the runs and jobs.
core::Status run_worker(const App& app, const WorkerOptions& options);

}  // namespace cosmos::services
