#pragma once
// The checkpoint files a Cosmos-Transfer2.5 run loads. The real model downloads them from Hugging
// Face (nvidia/Cosmos-Transfer2.5-2B and friends, referenced by UUID) into its cache; the emulator
// reads them from `checkpoints/` under the working directory, in the repositories' own layout
// (docs/emulator.md, "Cosmos-Transfer2.5"), and "downloads" a missing one only with HF_TOKEN set.

#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::emulator {

class Log25;

struct Checkpoints25Request {
    std::vector<std::string> hint_keys;  // the batch's controls (CONTROL_KEYS order)
    bool distilled = false;              // --model edge/distilled
    bool guardrails = true;              // not --disable-guardrails
    std::string checkpoint_path;         // --checkpoint-path when it names a local file, else ""
};

// The files, relative to the working directory (checkpoints/nvidia/...), or the
// --checkpoint-path file in place of the control's. Fails with KeyError for a distilled model
// of a control that has none (only edge has one).
core::Result<std::vector<std::string>> transfer25_checkpoints(const Checkpoints25Request& request);

// Every file exists, or is written as a placeholder when HF_TOKEN is set (a download, logged);
// without a token a missing file fails like the gated Hugging Face download
// (subprocess.CalledProcessError, with hf's 401 message on stderr).
core::Status fetch_transfer25_checkpoints(const std::vector<std::string>& files, Log25& log);

// True when `uri` is one of the model's checkpoint UUIDs.
bool is_transfer25_checkpoint_uuid(const std::string& uri);

}  // namespace cosmos::emulator
