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

// The enhance run create_enhance_run would store, not stored (`cosmos prompt-enhance --dry-run`).
core::Result<store::RunRecord> plan_enhance_run(const App& app,
                                                const std::string& prompt_id,
                                                bool offload);

// Creates a pending enhance run of `prompt_id` (one GPU; `offload` adds
// --offload_prompt_upsampler). Fails with not_found for an unknown prompt and invalid_input when
// the prompt has no video to show the upsampler.
core::Result<store::RunRecord> create_enhance_run(const App& app,
                                                  const std::string& prompt_id,
                                                  bool offload);

}  // namespace cosmos::services
