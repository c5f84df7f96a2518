#pragma once
// Lays out an emulated Cosmos-Transfer1 checkout (see docs/emulator.md).

#include <filesystem>

#include "core/result.hpp"

namespace cosmos::services {

// Returns the cosmos-emulator binary: $COSMOS_EMULATOR_BIN, else next to this executable.
core::Result<std::filesystem::path> find_emulator_binary();

// Installs the emulator into `dir` (idempotent).
core::Status install_emulator(const std::filesystem::path& dir,
                              const std::filesystem::path& emulator_binary);

}  // namespace cosmos::services
