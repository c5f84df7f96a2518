#pragma once
// Estimated start and finish of each queue job (`cosmos queue`, GET /api/queue; docs/queue.md
// "Estimated times"): the queue replayed on the hosts' GPUs in claim order, each job lasting what
// similar finished runs took (store::estimate_gpu_seconds over its GPU count). A job whose
// length is unknown (no such history) gets a start but no finish, and the GPUs it takes have no
// known free time after it, so later jobs there get no estimate either. Batching (several runs
// on one model load) is not modelled: estimates err long.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"
#include "store/queue_store.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct EtaHost {
    std::string name;
    int gpus = 1;
};

struct EtaJob {
    std::string id;
    std::string run_id;
    bool running = false;
    std::optional<std::string> host;  // where it runs, or the host it asked for
    int gpus = 1;
    std::optional<double> seconds;              // estimated wall time; nullopt: unknown
    std::optional<std::int64_t> started_ms;     // running jobs
    std::optional<std::int64_t> not_before_ms;  // retry backoff
    std::optional<std::string> depends_on;      // a run that must succeed first
    bool paused = false;
};

struct Eta {
    std::optional<std::int64_t> start_ms;
    std::optional<std::int64_t> finish_ms;
};

// The estimates of `jobs` (running ones, then queued ones in claim order) on `hosts` at `now_ms`,
// by job id. Paused jobs, jobs no host can hold, and jobs behind an unknown get no entry fields.
std::map<std::string, Eta> estimate_queue(const std::vector<EtaHost>& hosts,
                                          const std::vector<EtaJob>& jobs,
                                          std::int64_t now_ms);

// estimate_queue for the queue's running and queued jobs in `jobs` (store::list_jobs order),
// with their runs' lengths learned from history. A paused queue has no estimates.
// `runs` holds the jobs' runs by id when the caller has them already (else they are read).
core::Result<std::map<std::string, Eta>> queue_etas(
    const App& app,
    const std::vector<store::JobRecord>& jobs,
    const std::map<std::string, store::RunRecord>& runs = {});

// Adds "estimated_start" and "estimated_finish" (ISO 8601, or null) to a job_json object.
void add_eta(nlohmann::ordered_json& job, const std::map<std::string, Eta>& etas);

}  // namespace cosmos::services
