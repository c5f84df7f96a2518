#include "services/upscale.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "model/batch_file.hpp"
#include "model/family.hpp"
#include "model/spec.hpp"
#include "model/upscale_command.hpp"
#include "scheduler/job.hpp"
#include "services/create_run.hpp"
#include "services/enhance.hpp"
#include "services/prompt_checks.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<store::RunRecord> plan_upscale_run(const App& app,
                                                const std::string& parent_run_id,
                                                const UpscaleOptions& options,
                                                ParentOutput parent_output) {
    double weight = options.weight;
    const auto& num_gpus = options.num_gpus;
    if (auto s = model::check_upscale_weight(weight); !s) {
        return fail(s.error());
    }
    if (!options.prompt.empty()) {
        COSMOS_CHECK(check_prompt_text(options.prompt, "upscale prompt"));
    }
    COSMOS_TRY(auto parent, store::get_run(app.db, parent_run_id));
    if (!parent) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", parent_run_id));
    }
    if (!model::model_family(parent->model).runs(core::RunKind::upscale)) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} ran {}, which has no upscaler",
                                parent_run_id,
                                model::model_family(parent->model).display_name()),
                    "upscale runs of Cosmos-Transfer1");
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
    run.params.upscale_prompt = options.prompt;
    run.created_at = core::now_iso();
    run.updated_at = run.created_at;
    return run;
}

core::Result<store::RunRecord> create_upscale_run(const App& app,
                                                  const std::string& parent_run_id,
                                                  const UpscaleOptions& options,
                                                  ParentOutput parent_output) {
    COSMOS_TRY(auto run, plan_upscale_run(app, parent_run_id, options, parent_output));
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    return run;
}

core::Result<store::RunRecord> create_upscale_run(const App& app,
                                                  const std::string& parent_run_id,
                                                  double weight,
                                                  std::optional<int> num_gpus,
                                                  ParentOutput parent_output) {
    return create_upscale_run(
        app, parent_run_id, UpscaleOptions{weight, num_gpus, {}}, parent_output);
}

}  // namespace cosmos::services
