#pragma once
// `cosmos create run`: a prompt + parameters -> a stored run in status `pending`.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
};

// Returns the parameters a run of `prompt` gets from `opts` over the configured defaults.
// Default weights apply to vis and edge always, and to depth/seg/keypoint only when the prompt
// has that control video (otherwise the model would run extra estimators on every GPU).
// Fails with invalid_input naming the first value out of range.
core::Result<model::RunParams> resolve_run_params(const config::RunDefaults& defaults,
                                                  const store::PromptRecord& prompt,
                                                  const RunOptions& opts);

// Creates a pending transfer run of `prompt_id`. Fails with not_found for an unknown prompt and
// invalid_input when the spec could not be built (so a stored run is always runnable).
core::Result<store::RunRecord> create_run(const App& app,
                                          const std::string& prompt_id,
                                          const RunOptions& opts);

}  // namespace cosmos::services
