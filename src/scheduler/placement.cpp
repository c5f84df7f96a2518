#include "scheduler/placement.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

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
        if ((job.want_host && *job.want_host != h.name) ||
            h.serves != is_served_key(job.batch_key)) {
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

namespace {

// The fair share of the work left at time `t`: the runs not claimed yet plus what the slots
// still have to do, over every slot, rounded down (the load a batch pays is not counted: the
// share then never makes the last GPUs to start finish a run later than the others).
int fair_share(const std::vector<int>& left, const std::vector<double>& slots, double t) {
    double work = 0;
    for (int n : left) {
        work += n;
    }
    for (double s : slots) {
        work += std::max(0.0, s - t);
    }
    auto count = static_cast<double>(std::max<std::size_t>(1, slots.size()));
    return std::max(1, static_cast<int>(std::floor(work / count + 1e-9)));
}

// When the queue's plan ends if groups[0]'s batch now takes `first` runs: then, as the workers
// will, each next claim (claim order: the first group with runs left) goes to the slot free
// first and takes a fair share, each batch paying a model load.
double plan_end(const BatchDemand& d, int first) {
    std::vector<double> slots = d.slots.empty() ? std::vector<double>{0.0} : d.slots;
    std::vector<int> left = d.groups;
    auto slot = std::min_element(slots.begin(), slots.end());
    *slot += d.load_runs + first;
    left[0] -= first;
    for (std::size_t g = 0; g < left.size();) {
        if (left[g] <= 0) {
            ++g;
            continue;
        }
        slot = std::min_element(slots.begin(), slots.end());
        int runs = std::min({left[g], fair_share(left, slots, *slot), std::max(1, d.max_batch)});
        *slot += d.load_runs + runs;
        left[g] -= runs;
    }
    return *std::max_element(slots.begin(), slots.end());
}

}  // namespace

int batch_size(const BatchDemand& d) {
    if (d.groups.empty() || d.groups.front() < 1) {
        return 1;
    }
    int cap = std::max(1, d.max_batch);
    int split = std::min({d.groups.front(), fair_share(d.groups, d.slots, 0.0), cap});
    int whole = std::min(d.groups.front(), cap);
    if (whole == split) {
        return split;
    }
    // The whole group saves model loads; it wins unless the plan then ends later (GPUs left idle
    // while one works through it). A tie goes to fewer loads.
    return plan_end(d, whole) <= plan_end(d, split) + 1e-9 ? whole : split;
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

// The demand a claim of `job` (with `group` runs it may batch) sees: every ready group, this
// one first, and every slot of `hosts` with the work in flight spread over the used ones.
BatchDemand demand_of(const QueueSnapshot& view,
                      const std::vector<HostCapacity>& hosts,
                      const store::JobRecord& job,
                      std::size_t group,
                      int max_batch) {
    BatchDemand d;
    d.max_batch = max_batch;
    d.groups.push_back(static_cast<int>(group));
    std::map<std::string, std::size_t> index;  // batch key -> its entry in d.groups
    index[*job.batch_key] = 0;
    for (const auto& c : view.candidates) {
        if (!dependency_succeeded(view, c)) {
            continue;
        }
        if (!c.batch_key) {
            d.groups.push_back(1);  // a run that never batches: a load of its own
        } else if (index.emplace(*c.batch_key, d.groups.size()).second) {
            d.groups.push_back(1);
        } else if (*c.batch_key != *job.batch_key) {
            ++d.groups[index[*c.batch_key]];
        }
    }
    std::size_t used = 0;
    for (const auto& h : hosts) {
        auto u = view.used.find(h.name);
        std::size_t busy = u == view.used.end() ? 0 : u->second.size();
        auto total = static_cast<std::size_t>(std::max(0, h.gpus / std::max(1, slots_of(h, job))));
        used += std::min(busy, total);
        d.slots.insert(d.slots.end(), total - std::min(busy, total), 0.0);
    }
    for (std::size_t i = 0; i < used; ++i) {
        d.slots.push_back(view.work_in_flight / static_cast<double>(used));
    }
    return d;
}

}  // namespace

std::optional<ClaimPlan> plan_claim(const QueueSnapshot& view,
                                    const std::vector<HostCapacity>& hosts,
                                    int max_batch) {
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
            auto compatible = compatible_with(view, job, best->name);
            int cap = batch_size(demand_of(view, hosts, job, compatible.size() + 1, max_batch));
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

std::string served_key(model::Family family) {
    return fmt::format("served:{}", model::to_string(family));
}

bool is_served_key(const std::optional<std::string>& key) {
    return key && key->rfind("served:", 0) == 0;
}

core::Status check_host_runs(const config::HostConfig& host, model::Family family) {
    bool served = model::model_family(family).served();
    if (served == host.serves()) {
        return {};
    }
    if (served) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("host {} runs model scripts; {} runs are requests to a model "
                                      "server",
                                      host.name,
                                      model::model_family(family).display_name()),
                          "pick an http host (cosmos hosts add NAME --kind http --url URL) or an "
                          "ssh host with a [hosts.NAME.serve] table (docs/serving.md)");
    }
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("host {} serves a model over HTTP; {} runs need a host that runs "
                                  "its scripts",
                                  host.name,
                                  model::model_family(family).display_name()),
                      "pick a local, ssh or slurm host with --host");
}

}  // namespace cosmos::scheduler
