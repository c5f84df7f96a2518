#include "services/upscale.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "model/batch_file.hpp"
#include "model/spec.hpp"
#include "model/upscale_command.hpp"
#include "services/create_run.hpp"
#include "services/enhance.hpp"
#include "services/remote_run.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<store::RunRecord> create_upscale_run(const App& app,
                                                  const std::string& parent_run_id,
                                                  double weight,
                                                  std::optional<int> num_gpus,
                                                  ParentOutput parent_output) {
    if (auto s = model::check_upscale_weight(weight); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, parent_run_id));
    if (!parent) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", parent_run_id));
    }
    if (parent->kind != core::RunKind::transfer) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} is an {} run; only transfer runs can be upscaled",
                                parent_run_id,
                                parent->kind));
    }
    // A pending parent is not "unfinished": nothing will ever run it unless someone does, so an
    // upscale queued after it would wait forever (and `worker --exit-when-idle` with it).
    if (parent_output == ParentOutput::may_come_later &&
        parent->status == store::RunStatus::pending) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} never ran (pending): an upscale queued after it would "
                                "wait forever",
                                parent_run_id),
                    fmt::format("queue it first: cosmos run {} --queue", parent_run_id));
    }
    bool unfinished =
        parent->status == store::RunStatus::queued || parent->status == store::RunStatus::running;
    bool later_ok = parent_output == ParentOutput::may_come_later && unfinished;
    if (!later_ok && (parent->status != store::RunStatus::succeeded || !parent->output_video)) {
        if (parent_output == ParentOutput::may_come_later) {
            return fail(ErrorCode::conflict,
                        fmt::format("run {} is {}{}; it will never have an output to upscale",
                                    parent_run_id,
                                    store::to_string(parent->status),
                                    parent->status == store::RunStatus::succeeded
                                        ? " but its output video is gone"
                                        : ""),
                        "upscale a queued, running or succeeded transfer run");
        }
        return fail(ErrorCode::conflict,
                    fmt::format("run {} is {} and has no output video to upscale",
                                parent_run_id,
                                store::to_string(parent->status)),
                    "upscale a succeeded run (cosmos list runs --status succeeded)");
    }
    store::RunRecord run;
    run.id = core::new_id(core::IdKind::run);
    run.prompt_id = parent->prompt_id;
    run.model = parent->model;
    run.kind = core::RunKind::upscale;
    run.parent_run_id = parent->id;
    run.params = parent->params;
    run.params.weights = {{"upscale", weight}};
    run.params.num_steps = model::k_upscale_num_steps;
    if (num_gpus) {
        if (auto s = model::check_num_gpus(*num_gpus); !s) {
            return fail(s.error());
        }
        run.params.num_gpus = *num_gpus;
    }
    if (std::find(run.params.offload.begin(), run.params.offload.end(), "text_encoder_model") ==
        run.params.offload.end()) {
        run.params.offload.push_back("text_encoder_model");
    }
    run.created_at = core::now_iso();
    run.updated_at = run.created_at;
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    return run;
}

core::Result<std::optional<ChainedUpscale>> chained_upscale(const App& app,
                                                            const store::RunRecord& run,
                                                            const config::HostConfig& host) {
    if (run.kind != core::RunKind::upscale || host.kind != core::HostKind::slurm ||
        !run.parent_run_id) {
        return std::optional<ChainedUpscale>();
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, *run.parent_run_id));
    if (!parent || parent->status != store::RunStatus::running || parent->host != host.name) {
        return std::optional<ChainedUpscale>();
    }
    // The parent's job dir follows from its claim: its batch's when it shares one, else its own.
    COSMOS_TRY(auto job, store::job_for_run(app.db, parent->id));
    if (!job || job->state != store::JobState::running) {
        return std::optional<ChainedUpscale>();
    }
    COSMOS_TRY(auto remote, open_host(host));
    std::string job_dir;
    std::string video;
    if (job->batch_id) {
        job_dir = remote.job_dir(*job->batch_id);
        video = job_dir + "/outputs/" + model::batch_output_video(job->batch_index.value_or(0));
    } else {
        job_dir = remote.job_dir(parent->id);
        video = job_dir + "/outputs/output.mp4";
    }
    auto it = run.params.weights.find("upscale");
    double weight = it == run.params.weights.end() ? model::k_default_upscale_weight : it->second;
    COSMOS_TRY(auto spec, model::build_upscale_run_spec(model::UpscaleInput{video, weight}));
    return std::optional<ChainedUpscale>(ChainedUpscale{std::move(spec), job_dir});
}

core::Result<nlohmann::ordered_json> run_spec(const App& app,
                                              const store::PromptRecord& prompt,
                                              const store::RunRecord& run) {
    if (run.kind == core::RunKind::enhance) {
        return enhance_spec(app, prompt, run);
    }
    if (run.kind != core::RunKind::upscale) {
        return local_spec(prompt, run);
    }
    if (!run.parent_run_id) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("upscale run {} names no parent run", run.id));
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, *run.parent_run_id));
    if (!parent) {
        return fail(
            ErrorCode::not_found,
            fmt::format("upscale run {}: its parent run {} is gone", run.id, *run.parent_run_id));
    }
    if (parent->status != store::RunStatus::succeeded || !parent->output_video) {
        return fail(
            ErrorCode::conflict,
            fmt::format("upscale run {}: its parent run {} is {} and has no output video{}",
                        run.id,
                        parent->id,
                        store::to_string(parent->status),
                        parent->status == store::RunStatus::succeeded ? " any more" : " yet"),
            "an upscale runs after its transfer run succeeded; queue it behind that run "
            "(cosmos upscale RUN_ID --queue)");
    }
    auto it = run.params.weights.find("upscale");
    double weight = it == run.params.weights.end() ? model::k_default_upscale_weight : it->second;
    return model::build_upscale_run_spec(model::UpscaleInput{*parent->output_video, weight});
}

std::optional<int> num_steps_flag(const store::RunRecord& run) {
    if (run.kind == core::RunKind::upscale) {
        return run.params.num_steps;
    }
    return std::nullopt;
}

}  // namespace cosmos::services
