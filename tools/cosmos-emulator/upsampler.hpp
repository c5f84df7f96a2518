#pragma once
// The emulated `cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py`: the
// Pixtral-12B prompt upsampler run on its own (docs/emulator.md, "Prompt upsampler").

#include <string>
#include <vector>

#include "transfer.hpp"

namespace cosmos::emulator {

// Path of the script relative to the checkout root.
inline constexpr const char* k_upsampler_script =
    "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py";

// Runs the script with its arguments (sys.argv[1:]) and returns its exit status: 0, 1 (Python
// exception), 2 (usage), 130 / 143 (SIGINT / SIGTERM).
int run_upsampler(const std::vector<std::string>& argv, TransferContext& ctx);

// The script path tracebacks name in upsampler mode: $COSMOS_EMULATOR_SCRIPT (set by the
// installed wrapper), else cwd/k_upsampler_script.
std::string upsampler_script_path();

}  // namespace cosmos::emulator
