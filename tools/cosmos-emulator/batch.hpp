#pragma once
// The runs of one invocation: the single run of the arguments, or one per line of the
// --batch_input_path JSONL file ({"prompt", "visual_input", "control_overrides"}).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "options.hpp"

namespace cosmos::emulator {

struct Sample {
    int index = 0;  // 0-based line of the batch file (0 for a single run)
    std::string prompt;
    std::string input_video_path;     // "" when the run has no input video
    nlohmann::ordered_json controls;  // the spec's controls with this run's overrides
};

// The single run described by the arguments and the spec's controls.
Sample single_sample(const TransferArgs& args, const nlohmann::ordered_json& controls);

// One sample per non-blank line of `path`. Fails with FileNotFoundError, JSONDecodeError,
// KeyError 'prompt' or TypeError for ill-typed fields; control_overrides of modalities the
// spec lacks are ignored with a warning.
core::Result<std::vector<Sample>> read_batch(const std::string& path,
                                             const nlohmann::ordered_json& controls);

}  // namespace cosmos::emulator
