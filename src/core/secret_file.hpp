#pragma once
// Reading a secret (an API key, a token) from a file that only its owner may read: the rules of
// docs/supply-chain.md's token files. The value is registered with core::register_secret as soon
// as it is read, so it never reaches a log line or an error message.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

// Reads the one-line secret in `path` (`what` names it in messages: "API key file"). Fails with
// not_found when it is missing, invalid_input when group or others may read or write it (naming
// the mode and the chmod that fixes it), when it is no regular file, larger than 64 KiB, empty,
// or more than one line (the cap: core::kSecretFileMax).
Result<std::string> read_secret_file(const std::filesystem::path& path, std::string_view what);

}  // namespace cosmos::core
