#pragma once
// Lays out an emulated Cosmos checkout (Transfer1 and Transfer2.5 side by side) driven by the
// cosmos-emulator binary (docs/emulator.md), so a host without GPUs can run the whole orchestration
// path.

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::services {

// Returns the cosmos-emulator binary: $COSMOS_EMULATOR_BIN when set (not_found when that file
// does not exist), else `cosmos-emulator` beside the running executable; not_found with a hint
// when neither is there.
core::Result<std::filesystem::path> find_emulator_binary();

// Lays out an emulated checkout in `dir` (created when missing), idempotently:
//   .emulator/cosmos-emulator and .emulator/VERSION   a copy of `emulator_binary` and its marker
//   cosmos_transfer1/diffusion/inference/transfer.py  sh wrapper: the emulator's transfer mode
//   cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py
//                                                     sh wrapper: the emulator's upsampler mode
//   examples/inference.py                             sh wrapper: the emulator's transfer25 mode
//                                                     (Cosmos-Transfer2.5's entry point)
//   bin/torchrun, bin/nvidia-smi, bin/vllm, bin/sglang sh wrappers: the emulator's other modes
//   checkpoints/...                                   small placeholder checkpoint files
//   scripts/download_checkpoints.py                   stand-in download script (same flags;
//                                                     writes the placeholders; needs a token)
// The wrappers find the emulator relative to themselves, so the checkout can be moved or copied.
// Fails with not_found when `emulator_binary` is missing and io when writing fails.
core::Status install_emulator(const std::filesystem::path& dir,
                              const std::filesystem::path& emulator_binary);

// The placeholder checkpoint files install_emulator writes for Transfer1 (and that the stand-in
// download script writes), relative to dir/checkpoints.
const std::vector<std::string>& emulated_checkpoint_files();

// The placeholder checkpoint files install_emulator writes for Transfer2.5 (the emulator's
// layout of the Hugging Face repositories it reads, docs/emulator.md), relative to
// dir/checkpoints. One of them, the guardrail model, is also in emulated_checkpoint_files().
const std::vector<std::string>& emulated_transfer25_checkpoint_files();

}  // namespace cosmos::services
