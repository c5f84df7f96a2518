#pragma once
// The emulated nvidia-smi: `-L` and `--query-gpu=... --format=csv[,noheader][,nounits]`, with
// COSMOS_EMULATOR_GPUS devices of COSMOS_EMULATOR_GPU_MEMORY_GB each; a GPU whose lock a run
// holds (gpu_locks.hpp) shows 100 % utilisation and the model's memory in use.

#include <string>
#include <vector>

#include "config.hpp"

namespace cosmos::emulator {

// Prints what nvidia-smi prints for `args` on stdout and returns its exit status (0, or 2 with
// a message on stderr for arguments it does not understand).
// The UUID nvidia-smi prints for GPU `index` ("GPU-c05305e0-...").
std::string gpu_uuid(int index);

int run_nvidia_smi(const std::vector<std::string>& args, const EmulatorConfig& config);

}  // namespace cosmos::emulator
