#pragma once
// SHA-256 of bytes and files (OpenSSL), used for content-addressed inputs and manifests.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

// Returns the lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Returns the lower-case hex SHA-256 of the file's contents; fails with io when it can't be read.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace cosmos::core
