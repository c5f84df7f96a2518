#include "services/create_run.hpp"

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "model/modality.hpp"
#include "model/spec.hpp"
#include "scheduler/run_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<model::RunParams> resolve_run_params(const config::RunDefaults& d,
                                                  const store::PromptRecord& prompt,
                                                  const RunOptions& o) {
    model::RunParams p;
    if (o.weights) {
        const char* keys[4] = {"vis", "edge", "depth", "seg"};
        for (int i = 0; i < 4; ++i) {
            p.weights[keys[i]] = (*o.weights)[static_cast<std::size_t>(i)];
        }
    } else {
        for (const auto& [m, w] : d.weights) {
            bool available = model::is_computed_from_input(m) || prompt.controls.count(m) != 0;
            p.weights[m] = available ? w : 0.0;
        }
    }
    for (const auto& [m, w] : o.weight) {
        p.weights[m] = w;
    }
    p.num_steps = static_cast<int>(o.num_steps.value_or(d.num_steps));
    p.guidance = o.guidance.value_or(d.guidance);
    p.seed = static_cast<std::uint64_t>(o.seed.value_or(static_cast<std::int64_t>(d.seed)));
    p.sigma_max = o.sigma_max.value_or(d.sigma_max);
    p.fps = static_cast<int>(o.fps.value_or(d.fps));
    p.num_gpus = static_cast<int>(o.num_gpus.value_or(d.num_gpus));
    p.blur_strength = o.blur_strength.value_or(d.blur_strength);
    p.canny_threshold = o.canny_threshold.value_or(d.canny_threshold);
    p.offload = o.offload.value_or(d.offload);
    // Range checks on the raw values first, so out-of-range integers are not truncated.
    for (const core::Status& s :
         {o.num_steps ? model::check_num_steps(*o.num_steps) : core::Status{},
          o.seed ? model::check_seed(*o.seed) : core::Status{},
          o.fps ? model::check_fps(*o.fps) : core::Status{},
          o.num_gpus ? model::check_num_gpus(*o.num_gpus) : core::Status{}}) {
        if (!s) {
            return fail(s.error());
        }
    }
    if (auto s = model::validate(p); !s) {
        return fail(s.error());
    }
    return p;
}

core::Result<store::RunRecord> create_run(const App& app,
                                          const std::string& prompt_id,
                                          const RunOptions& opts) {
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found,
                    fmt::format("no prompt {}", prompt_id),
                    "list prompts with `cosmos list prompts`");
    }
    COSMOS_TRY(auto params, resolve_run_params(app.config.run, *prompt, opts));
    store::RunRecord run;
    run.id = core::new_id(core::IdKind::run);
    run.prompt_id = prompt->id;
    run.model = prompt->model;
    run.params = std::move(params);
    run.created_at = core::now_iso();
    run.updated_at = run.created_at;
    if (auto spec = scheduler::local_spec(*prompt, run); !spec) {
        return fail(std::move(spec).error());
    }
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    return run;
}

}  // namespace cosmos::services
