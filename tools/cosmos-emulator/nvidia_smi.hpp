#pragma once
// The emulated nvidia-smi: `-L` and `--query-gpu=... --format=csv[,noheader][,nounits]`, with
// COSMOS_EMULATOR_GPUS devices of COSMOS_EMULATOR_GPU_MEMORY_GB each.

#include <string>
#include <vector>

#include "config.hpp"

namespace cosmos::emulator {

// Prints what nvidia-smi prints for `args` on stdout and returns its exit status (0, or 2 with
// a message on stderr for arguments it does not understand).
int run_nvidia_smi(const std::vector<std::string>& args, const EmulatorConfig& config);

}  // namespace cosmos::emulator
