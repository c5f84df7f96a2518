#pragma once
// Which checkpoint files a run loads, under --checkpoint_dir (the model contract's list).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "options.hpp"

namespace cosmos::emulator {

// The default ControlNet checkpoint of modality `key` (joined to args.checkpoint_dir), e.g.
// "checkpoints/nvidia/Cosmos-Transfer1-7B/edge_control_distilled.pt" with --use_distilled.
std::string default_control_checkpoint(const std::string& key, const TransferArgs& args);

// Every file the run loads: base model, each modality's ckpt_path, the tokenizer's three files,
// and the prompt upsampler with --upsample_prompt.
std::vector<std::string> required_checkpoints(const TransferArgs& args,
                                              const nlohmann::ordered_json& controls);

// Fails with FileNotFoundError naming the first missing file of required_checkpoints().
core::Status check_checkpoints(const TransferArgs& args, const nlohmann::ordered_json& controls);

}  // namespace cosmos::emulator
