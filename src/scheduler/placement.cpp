#include "scheduler/placement.hpp"

#include <algorithm>
#include <cmath>

namespace cosmos::scheduler {

int slots_of(const HostCapacity& host, const store::JobRecord& job) {
    return host.slots_are_jobs ? 1 : job.gpus;
}

std::optional<std::string> chain_host(const DependencyState& dep,
                                      const std::vector<HostCapacity>& hosts) {
    if (dep.succeeded) {
        return std::string();
    }
    for (const auto& h : hosts) {
        if (dep.running_on && h.chains && h.name == *dep.running_on) {
            return *dep.running_on;
        }
    }
    return std::nullopt;
}

const HostCapacity* place(const store::JobRecord& job,
                          const std::vector<HostCapacity>& hosts,
                          const std::map<std::string, std::set<int>>& used,
                          const std::map<std::string, std::int64_t>& warm) {
    const HostCapacity* best = nullptr;
    std::pair<std::int64_t, int> best_score{-1, -1};
    for (const auto& h : hosts) {
        if (job.want_host && *job.want_host != h.name) {
            continue;
        }
        auto u = used.find(h.name);
        int free = h.gpus - (u == used.end() ? 0 : static_cast<int>(u->second.size()));
        if (free < slots_of(h, job)) {
            continue;
        }
        auto w = warm.find(h.name);
        std::pair<std::int64_t, int> score{w == warm.end() ? 0 : w->second, free};
        if (score > best_score) {
            best = &h;
            best_score = score;
        }
    }
    return best;
}

std::vector<int> free_ids(const HostCapacity& host, const std::set<int>& used, int count) {
    std::vector<int> ids;
    for (int g = 0; g < host.gpus && static_cast<int>(ids.size()) < count; ++g) {
        if (used.count(g) == 0) {
            ids.push_back(g);
        }
    }
    return ids;
}

int batch_size(int ready, double in_flight, int slots, int compatible, int max_batch) {
    // Fair share: the work left — claimable runs plus what running jobs have still to do —
    // split evenly over every slot, so that all of them finish at about the same time: a batch
    // taken now is as long as what the busy GPUs still have ahead of them, never the whole rest
    // of the queue. Rounded down: the work in flight is counted in whole lines and without the
    // load a new batch pays, so it is an overestimate; rounding up made the last GPUs to start
    // take a run more than the others and finish a run later.
    double work = static_cast<double>(ready) + in_flight;
    auto share = static_cast<int>(std::floor(work / std::max(1, slots) + 1e-9));
    int cap = std::max(1, std::min(max_batch, share));
    // A remainder of less than half a share would cost a model load of its own later for a few
    // runs: it joins this batch instead (within max_batch).
    int rest = compatible + 1 - cap;
    if (rest > 0 && 2 * rest < cap && cap + rest <= max_batch) {
        cap += rest;
    }
    return cap;
}

namespace {

// `dep`'s placement rule, or "nowhere" when the view does not know the run.
std::optional<std::string> chain_of(const QueueSnapshot& view,
                                    const std::string& dep,
                                    const std::vector<HostCapacity>& hosts) {
    auto it = view.dependencies.find(dep);
    if (it == view.dependencies.end()) {
        return std::nullopt;
    }
    return chain_host(it->second, hosts);
}

bool dependency_succeeded(const QueueSnapshot& view, const store::JobRecord& job) {
    if (!job.depends_on) {
        return true;
    }
    auto where = chain_of(view, *job.depends_on, {});
    return where && where->empty();
}

// The compatible candidates that may join `job`'s batch on `host`, in claim order.
std::vector<const store::JobRecord*> compatible_with(const QueueSnapshot& view,
                                                     const store::JobRecord& job,
                                                     const std::string& host) {
    std::vector<const store::JobRecord*> out;
    for (const auto& other : view.candidates) {
        if (other.id != job.id && other.batch_key == job.batch_key && other.gpus == job.gpus &&
            (!other.want_host || *other.want_host == host) && dependency_succeeded(view, other)) {
            out.push_back(&other);  // only a job whose dependency succeeded joins a batch
        }
    }
    return out;
}

}  // namespace

std::optional<ClaimPlan> plan_claim(const QueueSnapshot& view,
                                    const std::vector<HostCapacity>& hosts,
                                    int max_batch) {
    int ready = 0;
    for (const auto& c : view.candidates) {
        ready += dependency_succeeded(view, c) ? 1 : 0;
    }
    static const std::map<std::string, std::int64_t> k_cold;
    for (const auto& listed : view.candidates) {
        store::JobRecord job = listed;
        if (job.depends_on) {
            // A dependency that has not succeeded yet runs now: only a host that chains (Slurm
            // afterok) and runs it can take this job, and only that host.
            auto host = chain_of(view, *job.depends_on, hosts);
            if (!host) {
                continue;
            }
            if (!host->empty()) {
                if (job.want_host && *job.want_host != *host) {
                    continue;
                }
                job.want_host = *host;
            }
        }
        auto w = job.batch_key ? view.warm.find(*job.batch_key) : view.warm.end();
        const auto* best = place(job, hosts, view.used, w == view.warm.end() ? k_cold : w->second);
        if (best == nullptr) {
            continue;  // does not fit now; a smaller job behind it may (backfill)
        }
        auto u = view.used.find(best->name);
        ClaimPlan plan;
        plan.host = best->name;
        plan.gpu_ids = free_ids(
            *best, u == view.used.end() ? std::set<int>{} : u->second, slots_of(*best, job));
        plan.job_ids.push_back(job.id);
        if (job.batch_key && best->batches && max_batch > 1) {
            int slots = 0;
            for (const auto& h : hosts) {
                slots += h.gpus / std::max(1, slots_of(h, job));
            }
            auto compatible = compatible_with(view, job, best->name);
            int cap = batch_size(
                ready, view.work_in_flight, slots, static_cast<int>(compatible.size()), max_batch);
            for (const auto* other : compatible) {
                if (static_cast<int>(plan.job_ids.size()) >= cap) {
                    break;
                }
                plan.job_ids.push_back(other->id);
            }
        }
        return plan;
    }
    return std::nullopt;
}

}  // namespace cosmos::scheduler
