#pragma once
// What a run sends its model: the spec built from its prompt and parameters by its model family
// (model/family.hpp), the prompt upsampler's input for an enhance run, the upscaler's spec over
// the parent's output for an upscale run; and what an enhance run's result becomes (a prompt).
// Enhance runs: Transfer1's prompt upsampler rewrites a prompt from its words and the first
// frames of its video; its result is a new prompt over the same inputs whose parent_id is the
// original prompt and whose source is "enhance:<run_id>".

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

// The spec of a transfer run of `prompt` with local absolute paths (what a local host is sent),
// built by the run's model family; fails with invalid_input naming the rule a value breaks.
core::Result<nlohmann::ordered_json> local_spec(const store::PromptRecord& prompt,
                                                const store::RunRecord& run);

// Whether building a run's spec may write the files it names (the enhance run's clip): a dry
// run (`--dry-run`) only names them.
enum class SpecFiles { write, name_only };

// Returns the spec a run sends, with local absolute paths: a transfer spec from its prompt, the
// upsampler's input for an enhance run, or the upscaler spec over its parent's output. Fails with
// conflict for an upscale run whose parent has no output video (not succeeded yet, failed, or
// its output deleted).
core::Result<nlohmann::ordered_json> run_spec(const App& app,
                                              const store::PromptRecord& prompt,
                                              const store::RunRecord& run,
                                              SpecFiles files = SpecFiles::write);

// Returns the --num_steps flag a run of this kind is launched with (the upscaler's 10).
std::optional<int> num_steps_flag(const store::RunRecord& run);

// An upscale chained to its transfer in the host's scheduler: the transfer's job, still
// running, will write its video at `spec`'s input path on the host; the upscale's job waits
// for it there (slurm: --dependency=afterok).
struct ChainedUpscale {
    nlohmann::ordered_json spec;
    std::string parent_job_dir;  // on the host
};

// The chain of upscale run `run` on `host` when `host` is a slurm host and the run's parent
// runs there now (queued jobs are placed so: HostCapacity::chains); nothing otherwise.
core::Result<std::optional<ChainedUpscale>> chained_upscale(const App& app,
                                                            const store::RunRecord& run,
                                                            const config::HostConfig& host);

// Fails with not_found naming the first input file of `prompt` that is gone.
core::Status check_inputs_exist(const store::PromptRecord& prompt);

// The video an enhance run shows the prompt upsampler: the prompt's input video, else its first
// control video; nothing when it has neither.
std::optional<std::string> enhance_source_video(const store::PromptRecord& prompt);

// The enhance run's record of what it sends: {"prompt", "input_video" (the downscaled clip in
// the run dir, written here when missing unless `files` is name_only),
// "offload_prompt_upsampler"}.
core::Result<nlohmann::ordered_json> enhance_spec(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const store::RunRecord& run,
                                                  SpecFiles files = SpecFiles::write);

// Reads the upsampled prompt from a finished enhance run's log and stores it as a new prompt
// (child of the run's prompt). Fails with remote_failed when the log holds no upsampled prompt.
core::Result<store::PromptRecord> adopt_enhanced_prompt(const App& app,
                                                        const store::RunRecord& run);

// The prompt an enhance run created, if any.
core::Result<std::optional<store::PromptRecord>> enhanced_prompt_of(const App& app,
                                                                    const std::string& run_id);

}  // namespace cosmos::scheduler
