// Submitting many runs to the queue at once (see submit.hpp): validation of every entry before
// anything is written, then creation and queueing in one transaction.

#include "services/submit.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "model/upscale_command.hpp"
#include "services/upscale.hpp"
#include "store/cost_store.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

core::Error with_origin(core::Error e, const std::string& origin) {
    if (!origin.empty()) {
        e.message = fmt::format("{}: {}", origin, e.message);
    }
    return e;
}

// The prompt `ref` names: an id, or else a name that exactly one prompt has.
core::Result<store::PromptRecord> resolve_prompt(const App& app, const std::string& ref) {
    COSMOS_TRY(auto by_id, store::get_prompt(app.db, ref));
    if (by_id) {
        return *by_id;
    }
    std::vector<store::PromptRecord> named;
    if (auto found = store::search_prompts(app.db, ref, 1000); found) {
        for (auto& p : *found) {
            if (p.name == ref) {
                named.push_back(std::move(p));
            }
        }
    }
    if (named.size() == 1) {
        return named.front();
    }
    if (named.empty()) {
        return fail(ErrorCode::not_found,
                    fmt::format("no prompt {}", ref),
                    "list prompts with `cosmos list prompts`");
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("{} prompts are named '{}'", named.size(), ref),
                "name the prompt by its id (cosmos search)");
}

// The most GPUs a run queued with `q` can get.
core::Result<int> gpu_capacity(const App& app, const QueueOptions& q) {
    if (q.host) {
        COSMOS_TRY(auto host, config::find_host(app.config, *q.host));
        return host.gpus;
    }
    int most = 0;
    for (const auto& [name, h] : app.config.hosts) {
        most = std::max(most, h.gpus);
    }
    return most;
}

core::Result<PlannedRun> plan_one(const App& app,
                                  const SubmitEntry& e,
                                  std::map<std::string, store::PromptRecord>& prompts) {
    auto it = prompts.find(e.prompt);
    if (it == prompts.end()) {
        COSMOS_TRY(auto prompt, resolve_prompt(app, e.prompt));
        it = prompts.emplace(e.prompt, std::move(prompt)).first;
    }
    COSMOS_TRY(auto params, resolve_run_params(app, it->second, e.options));
    COSMOS_TRY(int most, gpu_capacity(app, e.queue));
    if (params.num_gpus > most) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("the run asks for {} GPUs but {} has at most {}",
                                params.num_gpus,
                                e.queue.host ? "host " + *e.queue.host : std::string("any host"),
                                most),
                    "lower num_gpus, or declare the host's gpus (cosmos hosts add --gpus N)");
    }
    if (e.upscale) {
        if (auto s = model::check_upscale_weight(*e.upscale); !s) {
            return fail(s.error());
        }
    }
    return PlannedRun{e, it->second.id, std::move(params)};
}

// Queues `run` with `options`, after run `after` when given.
core::Result<QueuedRun> queue_new_run(const App& app,
                                      const store::RunRecord& run,
                                      const QueueOptions& options,
                                      const std::string* after) {
    QueueOptions q;
    q.priority = options.priority;
    q.host = options.host;
    q.max_attempts = options.max_attempts;
    if (after != nullptr) {
        q.depends_on = *after;
    }
    COSMOS_TRY(auto job, enqueue_run(app, run.id, q));
    COSMOS_TRY(auto queued, store::get_run(app.db, run.id));
    return QueuedRun{queued.value_or(run), std::move(job)};
}

}  // namespace

core::Result<std::vector<PlannedRun>> plan_runs(const App& app,
                                                const std::vector<SubmitEntry>& entries) {
    std::map<std::string, store::PromptRecord> prompts;
    std::vector<PlannedRun> plan;
    plan.reserve(entries.size());
    for (const auto& e : entries) {
        auto planned = plan_one(app, e, prompts);
        if (!planned) {
            return fail(with_origin(std::move(planned).error(), e.origin));
        }
        plan.push_back(std::move(*planned));
    }
    return plan;
}

core::Result<std::vector<QueuedRun>> submit_runs(const App& app,
                                                 const std::vector<SubmitEntry>& entries,
                                                 const std::string& sweep_id) {
    COSMOS_TRY(auto plan, plan_runs(app, entries));
    std::vector<QueuedRun> queued;
    auto s = app.db.transaction([&]() -> core::Status {
        for (const auto& p : plan) {
            auto one = [&]() -> core::Status {
                COSMOS_TRY(auto run, create_run(app, p.prompt_id, p.entry.options));
                COSMOS_TRY(auto transfer, queue_new_run(app, run, p.entry.queue, nullptr));
                queued.push_back(std::move(transfer));
                if (p.entry.upscale) {
                    COSMOS_TRY(auto up,
                               create_upscale_run(app,
                                                  run.id,
                                                  *p.entry.upscale,
                                                  std::nullopt,
                                                  ParentOutput::may_come_later));
                    COSMOS_TRY(auto after, queue_new_run(app, up, p.entry.queue, &run.id));
                    queued.push_back(std::move(after));
                }
                return {};
            };
            if (auto r = one(); !r) {
                return fail(with_origin(std::move(r).error(), p.entry.origin));
            }
        }
        if (sweep_id.empty()) {
            return {};
        }
        std::vector<std::string> ids;
        for (const auto& q : queued) {
            ids.push_back(q.run.id);
        }
        return store::tag_sweep(app.db, sweep_id, ids);
    });
    if (!s) {
        return fail(std::move(s).error());
    }
    return queued;
}

core::Result<PlanEstimate> estimate_plan(const App& app, const std::vector<PlannedRun>& plan) {
    PlanEstimate e;
    std::set<double> prices;
    for (const auto& [name, h] : app.config.hosts) {
        if (h.price_per_gpu_hour) {
            prices.insert(*h.price_per_gpu_hour);
        }
    }
    const auto& first_host =
        plan.empty() ? std::optional<std::string>() : plan.front().entry.queue.host;
    bool one_host = first_host.has_value();
    for (const auto& p : plan) {
        one_host = one_host && p.entry.queue.host == first_host;
        COSMOS_TRY(auto prompt, store::get_prompt(app.db, p.prompt_id));
        if (!prompt) {
            ++e.unknown;
            e.per_run.emplace_back();
            continue;
        }
        COSMOS_TRY(auto found,
                   store::estimate_gpu_seconds(app.db,
                                               std::string(model::to_string(prompt->model)),
                                               p.params.num_gpus,
                                               p.params.num_steps,
                                               prompt->video.frames));
        if (found) {
            e.gpu_seconds += found->gpu_seconds;
            ++e.known;
            e.per_run.emplace_back(found->gpu_seconds);
        } else {
            ++e.unknown;
            e.per_run.emplace_back();
        }
    }
    if (one_host) {
        auto host = config::find_host(app.config, *first_host);
        e.price = host ? host->price_per_gpu_hour : std::nullopt;
    } else if (prices.size() == 1) {
        e.price = *prices.begin();
    }
    return e;
}

core::Result<std::vector<QueuedRun>> queue_upscale_runs(
    const App& app,
    const std::vector<std::string>& parent_run_ids,
    const UpscaleOptions& options,
    const QueueOptions& queue) {
    std::vector<QueuedRun> queued;
    auto s = app.db.transaction([&]() -> core::Status {
        for (const auto& parent_id : parent_run_ids) {
            COSMOS_TRY(auto up,
                       create_upscale_run(app, parent_id, options, ParentOutput::may_come_later));
            COSMOS_TRY(auto parent, store::get_run(app.db, parent_id));
            bool wait = parent && parent->status != store::RunStatus::succeeded;
            COSMOS_TRY(auto after, queue_new_run(app, up, queue, wait ? &parent_id : nullptr));
            queued.push_back(std::move(after));
        }
        return {};
    });
    if (!s) {
        return fail(std::move(s).error());
    }
    return queued;
}

nlohmann::ordered_json planned_json(const PlannedRun& p) {
    const auto& q = p.entry.queue;
    nlohmann::ordered_json j;
    j["run"] = nullptr;
    j["job"] = nullptr;
    j["kind"] = "transfer";
    j["prompt_id"] = p.prompt_id;
    j["params"] = nlohmann::ordered_json::parse(model::to_json(p.params).dump());
    j["priority"] = q.priority;
    j["want_host"] = q.host ? nlohmann::ordered_json(*q.host) : nlohmann::ordered_json(nullptr);
    j["upscale"] = p.entry.upscale ? nlohmann::ordered_json(*p.entry.upscale)
                                   : nlohmann::ordered_json(nullptr);
    return j;
}

nlohmann::ordered_json queued_json(const QueuedRun& q) {
    nlohmann::ordered_json j = job_json(q.job, q.run, std::nullopt);
    j["kind"] = q.run.kind;
    j["prompt_id"] = q.run.prompt_id;
    j["params"] = nlohmann::ordered_json::parse(model::to_json(q.run.params).dump());
    return j;
}

}  // namespace cosmos::services