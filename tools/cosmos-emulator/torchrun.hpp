#pragma once
// The emulated `torchrun [options] SCRIPT [args]` (torch.distributed.run): one process stands in
// for rank 0 of --nproc_per_node workers.

#include <string>
#include <vector>

#include "config.hpp"
#include "gpu_locks.hpp"
#include "record.hpp"

namespace cosmos::emulator {

// Parses torchrun's options (exit 2 on an unknown one), resolves SCRIPT against the cwd (exit 2
// "can't open file" when missing), sets WORLD_SIZE / RANK / LOCAL_RANK / MASTER_* and runs
// transfer.py in-process. A failing worker is summarised as torchrun's ChildFailedError (exit 1).
int run_torchrun(const std::vector<std::string>& args,
                 const EmulatorConfig& config,
                 Recorder& recorder,
                 GpuHold& gpus);

}  // namespace cosmos::emulator
