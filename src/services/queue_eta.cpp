#include "services/queue_eta.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

#include "core/clock.hpp"
#include "model/family.hpp"
#include "store/cost_store.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

namespace {

// A GPU's free time; k_unknown: busy with a job of unknown length.
constexpr std::int64_t k_unknown = std::numeric_limits<std::int64_t>::max();

// The time `gpus` of `slots` are free (the gpus-th earliest), or k_unknown.
std::int64_t free_at(std::vector<std::int64_t> slots, int gpus) {
    if (gpus <= 0 || static_cast<std::size_t>(gpus) > slots.size()) {
        return k_unknown;
    }
    std::nth_element(slots.begin(), slots.begin() + (gpus - 1), slots.end());
    return slots[static_cast<std::size_t>(gpus - 1)];
}

// Takes the `gpus` earliest-free slots until `until`.
void occupy(std::vector<std::int64_t>& slots, int gpus, std::int64_t until) {
    std::sort(slots.begin(), slots.end());
    for (int i = 0; i < gpus && static_cast<std::size_t>(i) < slots.size(); ++i) {
        slots[static_cast<std::size_t>(i)] = until;
    }
}

std::int64_t end_of(std::int64_t start, const std::optional<double>& seconds) {
    if (!seconds || start == k_unknown) {
        return k_unknown;
    }
    return start + static_cast<std::int64_t>(*seconds * 1000);
}

}  // namespace

std::map<std::string, Eta> estimate_queue(const std::vector<EtaHost>& hosts,
                                          const std::vector<EtaJob>& jobs,
                                          std::int64_t now_ms) {
    std::map<std::string, std::vector<std::int64_t>> slots;
    for (const auto& h : hosts) {
        slots[h.name].assign(static_cast<std::size_t>(std::max(h.gpus, 1)), now_ms);
    }
    std::map<std::string, std::int64_t> run_finish;  // run id -> its estimated finish
    std::map<std::string, Eta> out;
    auto record = [&](const EtaJob& j, std::int64_t start, std::int64_t finish) {
        Eta e;
        if (start != k_unknown) {
            e.start_ms = start;
        }
        if (finish != k_unknown) {
            e.finish_ms = finish;
        }
        out[j.id] = e;
        run_finish[j.run_id] = finish;
    };
    for (const auto& j : jobs) {
        if (!j.running || !j.host || !slots.count(*j.host)) {
            continue;
        }
        std::int64_t start = j.started_ms.value_or(now_ms);
        std::int64_t finish = end_of(start, j.seconds);
        // Past its estimate: it ends any moment now, as far as anyone can tell.
        if (finish != k_unknown) {
            finish = std::max(finish, now_ms);
        }
        occupy(slots[*j.host], j.gpus, finish);
        record(j, start, finish);
    }
    for (const auto& j : jobs) {
        if (j.running || j.paused) {
            continue;
        }
        std::int64_t ready = std::max(now_ms, j.not_before_ms.value_or(now_ms));
        if (j.depends_on) {
            auto it = run_finish.find(*j.depends_on);
            // A parent that is not in the queue has finished (or the job waits forever: the
            // queue itself reports that).
            if (it != run_finish.end()) {
                ready = it->second == k_unknown ? k_unknown : std::max(ready, it->second);
            }
        }
        std::string best;
        std::int64_t best_start = k_unknown;
        for (auto& [name, s] : slots) {
            if ((j.host && *j.host != name) || static_cast<std::size_t>(j.gpus) > s.size()) {
                continue;  // another host's, or more GPUs than this host has
            }
            std::int64_t start = std::max(ready, free_at(s, j.gpus));
            if (best.empty() || start < best_start) {
                best = name;
                best_start = start;
            }
        }
        if (best.empty()) {
            continue;  // no host holds it
        }
        std::int64_t finish = end_of(best_start, j.seconds);
        occupy(slots[best], j.gpus, finish);
        record(j, best_start, finish);
    }
    return out;
}

core::Result<std::map<std::string, Eta>> queue_etas(
    const App& app,
    const std::vector<store::JobRecord>& jobs,
    const std::map<std::string, store::RunRecord>& runs) {
    COSMOS_TRY(bool paused, store::queue_paused(app.db));
    if (paused) {
        return std::map<std::string, Eta>{};
    }
    std::vector<EtaHost> hosts;
    for (const auto& [name, h] : app.config.hosts) {
        hosts.push_back({name, h.gpus});
    }
    // One history query per kind of run.
    std::map<std::tuple<std::string, int, int, std::int64_t>, std::optional<double>> known;
    std::map<std::string, std::int64_t> frames_of;  // prompt id -> its input frames
    std::vector<EtaJob> eta_jobs;
    for (const auto& job : jobs) {
        bool running = job.state == store::JobState::running;
        if (!running && job.state != store::JobState::queued) {
            continue;
        }
        std::optional<store::RunRecord> run;
        if (auto it = runs.find(job.run_id); it != runs.end()) {
            run = it->second;
        } else {
            COSMOS_TRY(run, store::get_run(app.db, job.run_id));
        }
        if (!run) {
            continue;
        }
        auto frames = frames_of.find(run->prompt_id);
        if (frames == frames_of.end()) {
            COSMOS_TRY(auto prompt, store::get_prompt(app.db, run->prompt_id));
            frames = frames_of.emplace(run->prompt_id, prompt ? prompt->video.frames : 0).first;
        }
        EtaJob e;
        e.id = job.id;
        e.run_id = job.run_id;
        e.running = running;
        e.host = running ? job.host : job.want_host;
        e.gpus = std::max(job.gpus, 1);
        e.paused = job.paused;
        e.not_before_ms = job.not_before_ms;
        e.depends_on = job.depends_on;
        if (running && run->started_at) {
            e.started_ms = core::ms_from_iso(*run->started_at);
        }
        std::tuple<std::string, int, int, std::int64_t> key{
            std::string(model::to_string(run->model)),
            run->params.num_gpus,
            run->params.num_steps,
            frames->second};
        auto it = known.find(key);
        if (it == known.end()) {
            COSMOS_TRY(auto found,
                       store::estimate_gpu_seconds(app.db,
                                                   std::get<0>(key),
                                                   std::get<1>(key),
                                                   std::get<2>(key),
                                                   std::get<3>(key)));
            std::optional<double> wall;
            if (found) {
                wall = found->gpu_seconds / std::max(run->params.num_gpus, 1);
            }
            it = known.emplace(key, wall).first;
        }
        e.seconds = it->second;
        eta_jobs.push_back(std::move(e));
    }
    return estimate_queue(hosts, eta_jobs, core::now_ms());
}

void add_eta(nlohmann::ordered_json& job, const std::map<std::string, Eta>& etas) {
    auto it = etas.find(job.value("job", std::string()));
    auto iso = [](const std::optional<std::int64_t>& ms) {
        return ms ? nlohmann::ordered_json(core::iso_from_ms(*ms))
                  : nlohmann::ordered_json(nullptr);
    };
    job["estimated_start"] = it == etas.end() ? nullptr : iso(it->second.start_ms);
    job["estimated_finish"] = it == etas.end() ? nullptr : iso(it->second.finish_ms);
}

}  // namespace cosmos::services
