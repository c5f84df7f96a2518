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
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// Whether the parent must already have its output when the upscale run is created.
enum class ParentOutput {
    required,        // the parent succeeded (run the upscale now)
    may_come_later,  // the parent may be queued or running (queue the upscale after it)
};

// Creates a pending upscale run of `parent_run_id`. Fails with not_found for an unknown run,
// conflict when the parent is itself not a transfer run, when it failed or was cancelled, or
// (ParentOutput::required) when it has no output video yet, and invalid_input for a weight that
// is not a number >= 0 or a bad num_gpus. The upscaler spec is built when the run executes
// (run_spec), from the parent's output then.
core::Result<store::RunRecord> create_upscale_run(
    const App& app,
    const std::string& parent_run_id,
    double weight,
    std::optional<int> num_gpus = std::nullopt,
    ParentOutput parent_output = ParentOutput::required);

// Returns the spec a run sends, with local absolute paths: a transfer spec from its prompt, or
// the upscaler spec over its parent's output. Fails with conflict for an upscale run whose parent
// has no output video (not succeeded yet, failed, or its output deleted).
// An upscale chained to its transfer in the host's scheduler: the transfer's job, still
// running, will write its video at `spec`'s input path on the host; the upscale's job waits
// for it there (slurm: --dependency=afterok).
struct ChainedUpscale {
    nlohmann::ordered_json spec;
    std::string parent_job_dir;  // on the host
};

// The chain of upscale run `run` on `host` when `host` is a slurm host and the run's parent
// runs there now (queued jobs are placed so: scheduler::HostCapacity::chains); nothing otherwise.
core::Result<std::optional<ChainedUpscale>> chained_upscale(const App& app,
                                                            const store::RunRecord& run,
                                                            const config::HostConfig& host);

core::Result<nlohmann::ordered_json> run_spec(const App& app,
                                              const store::PromptRecord& prompt,
                                              const store::RunRecord& run);

// Returns the --num_steps flag a run of this kind is launched with (the upscaler's 10).
std::optional<int> num_steps_flag(const store::RunRecord& run);

}  // namespace cosmos::services
