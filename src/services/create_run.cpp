#include "services/create_run.hpp"

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "model/modality.hpp"
#include "model/spec.hpp"
#include "model/transfer25.hpp"
#include "scheduler/run_spec.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<std::vector<config::UserModel>> user_models(const App& app) {
    return config::load_user_models(config::models_dir(app.config.paths.config_dir));
}

core::Result<ModelChoice> choose_model(const App& app,
                                       const store::PromptRecord& prompt,
                                       const RunOptions& o) {
    if (!o.model) {
        return ModelChoice{prompt.model, std::nullopt};
    }
    if (auto family = model::parse_family(*o.model)) {
        return ModelChoice{*family, std::nullopt};
    }
    COSMOS_TRY(auto models, user_models(app));
    for (auto& m : models) {
        if (m.name == *o.model) {
            auto family = m.family;
            return ModelChoice{family, std::move(m)};
        }
    }
    std::string names = "transfer1, transfer2.5";
    for (const auto& m : models) {
        names += ", " + m.name;
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("unknown model '{}'", *o.model),
                fmt::format("models: {} (cosmos models list; model files live in {})",
                            names,
                            config::models_dir(app.config.paths.config_dir).string()));
}

namespace {

// The weights a run gets when none are given: [run.weights] for Transfer1 (depth/seg/keypoint
// only when the prompt has that control video, otherwise the model would run extra estimators
// on every GPU); for a family with its own defaults, 1.0 for each of its controls the prompt has
// a video for, else edge (computed from the input).
std::map<std::string, double> default_weights(const config::RunDefaults& d,
                                              const store::PromptRecord& prompt,
                                              model::Family family) {
    std::map<std::string, double> weights;
    if (family == model::Family::cosmos3) {
        return weights;  // video-to-video: no control weights
    }
    if (family == model::Family::transfer1) {
        for (const auto& [m, w] : d.weights) {
            bool available = model::is_computed_from_input(m) || prompt.controls.count(m) != 0;
            weights[m] = available ? w : 0.0;
        }
        return weights;
    }
    for (auto m : model::k_transfer25_controls) {
        if (prompt.controls.count(std::string(m)) != 0) {
            weights[std::string(m)] = 1.0;
        }
    }
    if (weights.empty()) {
        weights["edge"] = 1.0;
    }
    return weights;
}

// Options that only Transfer2.5 takes are refused for Transfer1 (they would be dropped).
core::Status check_family_options(model::Family family, const RunOptions& o) {
    if (family != model::Family::transfer1) {
        return {};
    }
    for (auto [set, flag] : {std::pair{o.variant.has_value(), "--variant"},
                             std::pair{o.resolution.has_value(), "--resolution"},
                             std::pair{o.max_frames.has_value(), "--max-frames"},
                             std::pair{o.chunk_frames.has_value(), "--chunk-frames"},
                             std::pair{o.conditional_frames.has_value(), "--conditional-frames"},
                             std::pair{!o.mask_prompts.empty(), "--mask-prompt"}}) {
        if (set) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} applies to Cosmos-Transfer2.5 runs; this run is "
                                    "Cosmos-Transfer1's",
                                    flag),
                        "add --model transfer2.5, or leave the option out");
        }
    }
    return {};
}

// A user model's settings and [defaults] over the family's defaults.
void apply_user_model(const config::UserModel& m, model::RunParams& p) {
    const auto& d = m.defaults;
    p.num_steps = static_cast<int>(d.num_steps.value_or(p.num_steps));
    p.guidance = d.guidance.value_or(p.guidance);
    p.seed = static_cast<std::uint64_t>(d.seed.value_or(static_cast<std::int64_t>(p.seed)));
    p.resolution = d.resolution.value_or(p.resolution);
    p.variant = d.variant.value_or(p.variant);
    p.checkpoint_path = m.checkpoint_path;
    p.experiment = m.experiment;
    p.extra_flags = m.extra_flags;
}

// The parameters before the options: the family's own defaults, else [run]'s.
model::RunParams base_params(const config::RunDefaults& d,
                             model::Family family,
                             const RunOptions& o) {
    if (auto own = model::model_family(family).own_defaults(o.variant.value_or(""))) {
        return *own;
    }
    model::RunParams p;
    p.num_steps = d.num_steps;
    p.guidance = d.guidance;
    p.seed = d.seed;
    p.sigma_max = d.sigma_max;
    p.fps = d.fps;
    p.num_gpus = d.num_gpus;
    p.blur_strength = d.blur_strength;
    p.canny_threshold = d.canny_threshold;
    p.offload = d.offload;
    return p;
}

void apply_options(const RunOptions& o, model::RunParams& p) {
    p.num_steps = static_cast<int>(o.num_steps.value_or(p.num_steps));
    p.guidance = o.guidance.value_or(p.guidance);
    p.seed = static_cast<std::uint64_t>(o.seed.value_or(static_cast<std::int64_t>(p.seed)));
    p.sigma_max = o.sigma_max.value_or(p.sigma_max);
    p.fps = static_cast<int>(o.fps.value_or(p.fps));
    p.num_gpus = static_cast<int>(o.num_gpus.value_or(p.num_gpus));
    p.blur_strength = o.blur_strength.value_or(p.blur_strength);
    p.canny_threshold = o.canny_threshold.value_or(p.canny_threshold);
    p.offload = o.offload.value_or(p.offload);
    p.variant = o.variant.value_or(p.variant);
    p.resolution = o.resolution.value_or(p.resolution);
    if (o.max_frames) {
        p.max_frames = *o.max_frames;
    }
    if (o.chunk_frames) {
        p.chunk_frames = static_cast<int>(*o.chunk_frames);
    }
    if (o.conditional_frames) {
        p.conditional_frames = static_cast<int>(*o.conditional_frames);
    }
    for (const auto& [m, text] : o.mask_prompts) {
        p.mask_prompts[m] = text;
    }
}

// Range checks on the raw integers, before they are narrowed (an out-of-range value must not
// wrap into a valid one).
core::Status check_raw_integers(const RunOptions& o, model::Family family) {
    if (o.num_steps) {
        COSMOS_CHECK(model::check_num_steps(*o.num_steps));
    }
    if (o.seed && (family == model::Family::transfer1 || *o.seed < 0)) {
        COSMOS_CHECK(model::check_seed(*o.seed));
    }
    if (o.fps) {
        COSMOS_CHECK(model::check_fps(*o.fps));
    }
    if (o.num_gpus) {
        COSMOS_CHECK(model::check_num_gpus(*o.num_gpus));
    }
    for (auto [v, what] : {std::pair{o.chunk_frames, "chunk frames"},
                           std::pair{o.conditional_frames, "conditional frames"},
                           std::pair{o.max_frames, "max frames"}}) {
        if (v && (*v < 0 || *v > 100000)) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} {} is out of range 0-100000", what, *v));
        }
    }
    return {};
}

// resolve_run_params for a model already chosen (the model files are read once per run).
core::Result<model::RunParams> params_for(const App& app,
                                          const store::PromptRecord& prompt,
                                          const ModelChoice& choice,
                                          const RunOptions& o) {
    model::Family family = choice.family;
    const config::RunDefaults& d = app.config.run;
    COSMOS_CHECK(check_family_options(family, o));
    model::RunParams p = base_params(d, family, o);
    if (choice.user) {
        apply_user_model(*choice.user, p);
    }
    if (o.weights) {
        const char* keys[4] = {"vis", "edge", "depth", "seg"};
        for (int i = 0; i < 4; ++i) {
            p.weights[keys[i]] = (*o.weights)[static_cast<std::size_t>(i)];
        }
    } else if (choice.user && !choice.user->defaults.weights.empty()) {
        p.weights = choice.user->defaults.weights;
    } else if (o.weight.empty() || family == model::Family::transfer1) {
        p.weights = default_weights(d, prompt, family);
    }
    for (const auto& [m, w] : o.weight) {
        p.weights[m] = w;
    }
    COSMOS_CHECK(check_raw_integers(o, family));
    apply_options(o, p);
    COSMOS_CHECK(model::model_family(family).check_params(p));
    return p;
}

}  // namespace

core::Result<model::RunParams> resolve_run_params(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const RunOptions& o) {
    COSMOS_TRY(auto choice, choose_model(app, prompt, o));
    return params_for(app, prompt, choice, o);
}

core::Result<store::RunRecord> plan_run(const App& app,
                                        const store::PromptRecord& prompt,
                                        const RunOptions& opts) {
    COSMOS_TRY(auto choice, choose_model(app, prompt, opts));
    COSMOS_TRY(auto params, params_for(app, prompt, choice, opts));
    store::RunRecord run;
    run.id = core::new_id(core::IdKind::run);
    run.prompt_id = prompt.id;
    run.model = choice.family;
    if (choice.user) {
        run.model_name = choice.user->name;
        run.model_hash = choice.user->sha256;
    }
    run.params = std::move(params);
    run.created_at = core::now_iso();
    run.updated_at = run.created_at;
    COSMOS_TRY(auto spec, scheduler::local_spec(prompt, run));
    (void)spec;  // built once here, so a stored run is always runnable
    return run;
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
    COSMOS_TRY(auto run, plan_run(app, *prompt, opts));
    COSMOS_CHECK(store::insert_run(app.db, run));
    return run;
}

}  // namespace cosmos::services
