#pragma once
// The Hugging Face token: $HF_TOKEN, else the file `[huggingface] token_file` names, which must
// not be readable by group or others (mode 0600 or stricter). The value is registered with
// core::register_secret as soon as it is read, and travels to hosts only in the runtime's 0600
// secret env file (never on a command line). See docs/supply-chain.md.

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::services {

// Reads the token file at `path`: fails with invalid_input when its mode lets group or others
// read or write it (naming the mode and the chmod that fixes it), not_found when it is missing,
// and invalid_input when it is empty or has more than one line.
core::Result<std::string> read_token_file(const std::filesystem::path& path);

// The token to use, or nullopt when neither $HF_TOKEN nor [huggingface] token_file is set.
core::Result<std::optional<std::string>> huggingface_token(const config::Config& config);

}  // namespace cosmos::services
