#pragma once
// Enhance runs: Cosmos-Transfer1's Pixtral-12B prompt upsampler rewrites a prompt's text from its
// words and the first frames of its video (model/enhance_command.hpp has the contract). The run
// hands the upsampler a downscaled two-frame clip (the upsampler refuses frames above ~497k
// pixels), and its result becomes a new prompt over the same inputs whose parent_id is the
// original prompt and whose source is "enhance:<run_id>".

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// Creates a pending enhance run of `prompt_id` (one GPU; `offload` adds
// --offload_prompt_upsampler). Fails with not_found for an unknown prompt and invalid_input when
// the prompt has no video to show the upsampler.
core::Result<store::RunRecord> create_enhance_run(const App& app,
                                                  const std::string& prompt_id,
                                                  bool offload);

// Returns the enhance run's record of what it sends: {"prompt", "input_video" (the downscaled
// clip in the run dir, written here when missing), "offload_prompt_upsampler"}.
core::Result<nlohmann::ordered_json> enhance_spec(const App& app,
                                                  const store::PromptRecord& prompt,
                                                  const store::RunRecord& run);

// Reads the upsampled prompt from a finished enhance run's log and stores it as a new prompt
// (child of the run's prompt). Fails with remote_failed when the log holds no upsampled prompt.
core::Result<store::PromptRecord> adopt_enhanced_prompt(const App& app,
                                                        const store::RunRecord& run);

// The prompt an enhance run created, if any.
core::Result<std::optional<store::PromptRecord>> enhanced_prompt_of(const App& app,
                                                                    const std::string& run_id);

}  // namespace cosmos::services
