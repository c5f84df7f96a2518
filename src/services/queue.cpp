// The run queue as users see it (see queue.hpp).

#include "services/queue.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/ids.hpp"
#include "model/batch_file.hpp"
#include "model/family.hpp"
#include "scheduler/job.hpp"
#include "scheduler/placement.hpp"
#include "scheduler/run_spec.hpp"
#include "services/upscale.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

std::optional<std::string> batch_key_of(const App& app, const store::RunRecord& run) {
    if (run.kind != core::RunKind::transfer) {
        return std::nullopt;
    }
    auto prompt = store::get_prompt(app.db, run.prompt_id);
    if (!prompt || !*prompt) {
        return std::nullopt;
    }
    auto spec = scheduler::run_spec(app, **prompt, run);
    if (!spec) {
        return std::nullopt;  // it fails on its own when it runs
    }
    return model::model_family(run.model).batch_key(model::BatchFacts{run.kind,
                                                                      *spec,
                                                                      run.params,
                                                                      (*prompt)->video.width,
                                                                      (*prompt)->video.height,
                                                                      (*prompt)->video.frames});
}

core::Result<store::JobRecord> enqueue_run(const App& app,
                                           const std::string& run_id,
                                           const QueueOptions& options) {
    COSMOS_TRY(auto run, store::get_run(app.db, run_id));
    if (!run) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", run_id));
    }
    int most = 0;
    if (options.host) {
        COSMOS_TRY(auto host, config::find_host(app.config, *options.host));
        COSMOS_CHECK(scheduler::check_host_runs(host, run->model));
        most = host.gpus;
    } else {
        for (const auto& [name, h] : app.config.hosts) {
            most = std::max(most, h.gpus);
        }
    }
    if (run->params.num_gpus > most) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("run {} asks for {} GPUs but {} has at most {}",
                                run_id,
                                run->params.num_gpus,
                                options.host ? "host " + *options.host : std::string("any host"),
                                most),
                    "lower --num-gpus, or declare the host's gpus (cosmos hosts add --gpus N)");
    }
    if (options.depends_on) {
        COSMOS_TRY(auto dep, store::get_run(app.db, *options.depends_on));
        if (!dep) {
            return fail(ErrorCode::not_found, fmt::format("no run {}", *options.depends_on));
        }
    }
    store::EnqueueRequest req;
    req.run_id = run_id;
    req.priority = options.priority;
    req.gpus = run->params.num_gpus;
    // A served run's key marks it for hosts that serve (scheduler/placement); it never shares a
    // load with other runs: the server is loaded once and takes requests.
    bool served = model::model_family(run->model).served();
    req.batch_key = served ? std::optional<std::string>(scheduler::served_key(run->model))
                           : batch_key_of(app, *run);
    req.want_host = options.host;
    req.depends_on = options.depends_on;
    req.max_attempts = options.max_attempts;
    return store::enqueue_job(app.db, req);
}

core::Result<store::JobRecord> find_job(const App& app, const std::string& id) {
    core::IdKind kind{};
    if (core::id_kind_of(id, kind) && kind == core::IdKind::run) {
        COSMOS_TRY(auto job, store::job_for_run(app.db, id));
        if (!job) {
            return fail(ErrorCode::not_found, fmt::format("run {} was never queued", id));
        }
        return *job;
    }
    COSMOS_TRY(auto job, store::get_job(app.db, id));
    if (!job) {
        return fail(ErrorCode::not_found,
                    fmt::format("no job {}", id),
                    "see `cosmos queue` for job and run ids");
    }
    return *job;
}

core::Result<store::JobRecord> cancel_queued(const App& app, const std::string& id) {
    COSMOS_TRY(auto job, find_job(app, id));
    COSMOS_TRY(bool now, store::cancel_job(app.db, job.id));
    if (!now) {
        COSMOS_TRY(auto run, store::get_run(app.db, job.run_id));
        if (run && run->remote_dir && run->status == store::RunStatus::running) {
            COSMOS_TRY(auto killed, scheduler::kill_run(app, job.run_id));
            (void)killed;
        } else if (run && job.batch_id && run->status == store::RunStatus::running) {
            // Its batch is still being staged: the run ends cancelled now (its line may still be
            // generated with the batch; a cancelled run keeps its outcome).
            std::string why = "cancelled by user";
            COSMOS_CHECK(store::record_outcome(
                app.db, run->id, store::OutcomeRecord{std::nullopt, why, std::nullopt}));
            COSMOS_TRY(bool moved,
                       store::transition_run(app.db, run->id, store::RunStatus::cancelled, why));
            (void)moved;
        }
    }
    COSMOS_TRY(auto after, store::get_job(app.db, job.id));
    return *after;
}

nlohmann::ordered_json job_json(const store::JobRecord& job,
                                const std::optional<store::RunRecord>& run,
                                std::optional<int> position) {
    nlohmann::ordered_json j;
    j["job"] = job.id;
    j["run"] = job.run_id;
    j["state"] = store::to_string(job.state);
    j["run_status"] = run ? nlohmann::ordered_json(store::to_string(run->status))
                          : nlohmann::ordered_json(nullptr);
    j["position"] = position ? nlohmann::ordered_json(*position) : nlohmann::ordered_json(nullptr);
    j["priority"] = job.priority;
    j["host"] = job.host ? nlohmann::ordered_json(*job.host) : nlohmann::ordered_json(nullptr);
    j["want_host"] =
        job.want_host ? nlohmann::ordered_json(*job.want_host) : nlohmann::ordered_json(nullptr);
    j["gpus"] = job.gpus;
    j["gpu_ids"] = job.gpu_ids;
    j["batch_key"] =
        job.batch_key ? nlohmann::ordered_json(*job.batch_key) : nlohmann::ordered_json(nullptr);
    j["batch_id"] =
        job.batch_id ? nlohmann::ordered_json(*job.batch_id) : nlohmann::ordered_json(nullptr);
    j["batch_index"] = job.batch_index ? nlohmann::ordered_json(*job.batch_index)
                                       : nlohmann::ordered_json(nullptr);
    j["progress"] = run ? run->progress : 0.0;
    j["attempts"] = job.attempts;
    j["max_attempts"] = job.max_attempts;
    j["paused"] = job.paused;
    j["depends_on"] =
        job.depends_on ? nlohmann::ordered_json(*job.depends_on) : nlohmann::ordered_json(nullptr);
    j["lease_owner"] = job.lease_owner ? nlohmann::ordered_json(*job.lease_owner)
                                       : nlohmann::ordered_json(nullptr);
    j["reason"] =
        job.reason ? nlohmann::ordered_json(*job.reason) : nlohmann::ordered_json(nullptr);
    j["created_at"] = job.created_at;
    return j;
}

FailureClass classify_failure(const core::Error& e) {
    return scheduler::is_transient(e) ? FailureClass::transient : FailureClass::permanent;
}

std::int64_t retry_backoff_ms(int attempts, std::int64_t base_ms) {
    std::int64_t ms = base_ms;
    for (int i = 1; i < attempts && ms < 300000; ++i) {
        ms *= 2;
    }
    return std::min<std::int64_t>(ms, 300000);
}

}  // namespace cosmos::services
