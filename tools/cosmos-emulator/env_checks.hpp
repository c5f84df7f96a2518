#pragma once
// The environment checks the real script makes implicitly: importing cosmos_transfer1 (via
// PYTHONPATH), torch.distributed's RANK / WORLD_SIZE, and the visible CUDA devices.

#include "config.hpp"
#include "core/result.hpp"
#include "options.hpp"

namespace cosmos::emulator {

// Fails with ModuleNotFoundError "No module named 'cosmos_transfer1'" unless an entry of
// PYTHONPATH (relative entries and "" resolve against the cwd) holds a cosmos_transfer1 folder.
core::Status check_import();

// --num_gpus must be 1, 2, 4 or 8 (ValueError); num_gpus > 1 or --upsample_prompt need RANK
// (KeyError 'RANK' without torchrun); num_gpus must equal WORLD_SIZE (RuntimeError); the
// visible devices (CUDA_VISIBLE_DEVICES, else COSMOS_EMULATOR_GPUS) must number at least
// num_gpus (RuntimeError "No CUDA GPUs are available" / "invalid device ordinal").
core::Status check_distributed(const TransferArgs& args, const EmulatorConfig& config);

// The number of GPUs the process can see.
int visible_gpus(const EmulatorConfig& config);

}  // namespace cosmos::emulator
