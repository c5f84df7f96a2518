#pragma once
// `cosmos create run`: a prompt + parameters -> a stored run in status `pending`.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model_files.hpp"
#include "core/result.hpp"
#include "model/run_params.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct RunOptions {
    std::optional<std::array<double, 4>> weights;  // --weights VIS EDGE DEPTH SEG
    std::map<std::string, double> weight;          // --weight MODALITY=W (wins over --weights)
    std::optional<std::int64_t> num_steps;
    std::optional<double> guidance;
    std::optional<std::int64_t> seed;
    std::optional<double> sigma_max;
    std::optional<std::int64_t> fps;
    std::optional<std::int64_t> num_gpus;
    std::optional<std::string> blur_strength;
    std::optional<std::string> canny_threshold;
    std::optional<std::vector<std::string>> offload;  // default: [run] offload
    std::optional<std::string> model;                 // a family; default: the prompt's
    // Cosmos-Transfer2.5 only (refused for Transfer1 runs): its --model variant, resolution,
    // frames generated, native long-video chunking and per-control mask prompts.
    std::optional<std::string> variant;
    std::optional<std::string> resolution;
    std::optional<std::int64_t> max_frames;
    std::optional<std::int64_t> chunk_frames;
    std::optional<std::int64_t> conditional_frames;
    std::map<std::string, std::string> mask_prompts;
};

// The model a run of `prompt` with `opts` is for: opts.model (a family, or a user model file's
// name: docs/models/model-files.md), else the prompt's family.
struct ModelChoice {
    model::Family family;
    std::optional<config::UserModel> user;
};

// Fails with invalid_input for an unknown name (listing the known ones) and with a config error
// "FILE:LINE: ..." when a model file is broken.
core::Result<ModelChoice> choose_model(const App& app,
                                       const store::PromptRecord& prompt,
                                       const RunOptions& opts);

// The user model files of <config_dir>/models, sorted by name.
core::Result<std::vector<config::UserModel>> user_models(const App& app);

// Returns the parameters a run of `prompt` gets from `opts` over the defaults: [run]'s for
// Transfer1 (default weights apply to vis and edge always, and to depth/seg/keypoint only when
// the prompt has that control video: otherwise the model would run extra estimators on every
// GPU), the family's own for Transfer2.5 (guidance 3, seed 2025; each control the prompt has a
// video for, else edge). Fails with invalid_input naming the first value outside the family's
// rules.
core::Result<model::RunParams> resolve_run_params(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const RunOptions& opts);

// The run `opts` make of `prompt`, not stored: a new id, its family and parameters, its spec
// checked (so a stored run is always runnable). Fails as resolve_run_params and the spec.
core::Result<store::RunRecord> plan_run(const App& app,
                                        const store::PromptRecord& prompt,
                                        const RunOptions& opts);

// Creates a pending transfer run of `prompt_id`. Fails with not_found for an unknown prompt and
// invalid_input when the spec could not be built (so a stored run is always runnable).
core::Result<store::RunRecord> create_run(const App& app,
                                          const std::string& prompt_id,
                                          const RunOptions& opts);

}  // namespace cosmos::services
