#pragma once
// Upscale runs: Cosmos-Transfer1's 4K upscaler applied to a finished transfer run's output
// (docs/models/transfer1.md: "Upscaler spec": {"input_video_path": ..., "upscale":
// {"control_weight": W}}, launched with --num_steps 10 and text-encoder offload). An upscale run
// belongs to the same prompt as its parent and names it in parent_run_id; its weight is kept as
// weights.upscale.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/upscale_command.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// Whether the parent must already have its output when the upscale run is created.
enum class ParentOutput {
    required,        // the parent succeeded (run the upscale now)
    may_come_later,  // the parent may be queued or running (queue the upscale after it)
};

struct UpscaleOptions {
    double weight = model::k_default_upscale_weight;
    std::optional<int> num_gpus;  // default: the parent's
    std::string prompt;           // the upscaler's guiding prompt; empty: the model's default
};

// The upscale run of `parent_run_id` that create_upscale_run would store, not stored (a new id;
// `cosmos upscale --dry-run`). Fails as create_upscale_run.
core::Result<store::RunRecord> plan_upscale_run(const App& app,
                                                const std::string& parent_run_id,
                                                const UpscaleOptions& options,
                                                ParentOutput parent_output);

// Creates a pending upscale run of `parent_run_id`. Fails with not_found for an unknown run,
// conflict when the parent is itself not a transfer run, when it failed or was cancelled, or
// (ParentOutput::required) when it has no output video yet, and invalid_input for a weight that
// is not a number >= 0 or a bad num_gpus. The upscaler spec is built when the run executes
// (run_spec), from the parent's output then. A guiding prompt is checked as prompt text is
// (services/prompt_checks.hpp).
core::Result<store::RunRecord> create_upscale_run(const App& app,
                                                  const std::string& parent_run_id,
                                                  const UpscaleOptions& options,
                                                  ParentOutput parent_output);
core::Result<store::RunRecord> create_upscale_run(
    const App& app,
    const std::string& parent_run_id,
    double weight,
    std::optional<int> num_gpus = std::nullopt,
    ParentOutput parent_output = ParentOutput::required);

}  // namespace cosmos::services
