#pragma once
// The emulated `python cosmos_transfer1/diffusion/inference/transfer.py ARGS`.

#include <string>
#include <vector>

#include "config.hpp"
#include "gpu_locks.hpp"
#include "record.hpp"

namespace cosmos::emulator {

struct TransferContext {
    const EmulatorConfig& config;
    Recorder& recorder;
    std::string script_path;  // the script as tracebacks name it
    GpuHold& gpus;            // the GPUs the model holds, from load to exit
};

// Runs the script with its arguments (sys.argv[1:]), printing what the real one prints, and
// returns its exit status: 0, 1 (Python exception), 2 (usage), 130 / 143 (SIGINT / SIGTERM).
int run_transfer(const std::vector<std::string>& argv, TransferContext& ctx);

// The script path tracebacks name in transfer mode: $COSMOS_EMULATOR_SCRIPT (set by the
// installed transfer.py wrapper), else cwd/cosmos_transfer1/diffusion/inference/transfer.py.
std::string transfer_script_path();

}  // namespace cosmos::emulator
