#pragma once
// The one whole-file reader: every file cosmos reads whole (configuration, batch and import
// files, manifests, model files, tokens, logs, known_hosts) goes through read_file, which
// refuses what is not a regular file (a FIFO would block, /dev/zero would never end) and
// anything over a size cap named by the caller.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;

// Caps per kind of file, named so a reader states what it reads.
inline constexpr std::uint64_t kConfigFileMax = 1 * kMiB;       // config.toml
inline constexpr std::uint64_t kTemplateFileMax = 1 * kMiB;     // templates, model files
inline constexpr std::uint64_t kSecretFileMax = 64 * kKiB;      // token files
inline constexpr std::uint64_t kKnownHostsMax = 16 * kMiB;      // known_hosts
inline constexpr std::uint64_t kManifestFileMax = 16 * kMiB;    // checkpoint / install manifests
inline constexpr std::uint64_t kSpecFileMax = 16 * kMiB;        // spec / JSON files
inline constexpr std::uint64_t kBatchFileMax = 64 * kMiB;       // batch files
inline constexpr std::uint64_t kImportFileMax = 64 * kMiB;      // files named by an import
inline constexpr std::uint64_t kLogFileMax = 256 * kMiB;        // run logs read back whole
inline constexpr std::uint64_t kImageFileMax = 512 * kMiB;      // still images
inline constexpr std::uint64_t kTransferFileMax = 4096 * kMiB;  // files copied whole

// Reads the whole regular file at `path`, at most `max_bytes`. `what` names the file in errors
// ("configuration file", "batch file"). Fails with not_found when it is missing, invalid_input
// when it is not a regular file (FIFO, device, directory, socket) or larger than the cap, io when
// it can't be read. Never blocks on a FIFO: it is opened O_NONBLOCK and refused after fstat.
Result<std::string> read_file(const std::filesystem::path& path,
                              std::uint64_t max_bytes,
                              std::string_view what);

// Reads at most the first `n` bytes of the regular file at `path` (fewer when it is shorter),
// with read_file's checks but no size cap: a header to tell what kind of file it is.
Result<std::string> read_file_head(const std::filesystem::path& path,
                                   std::size_t n,
                                   std::string_view what);

// "1 MiB", "64 KiB", "1234 bytes": a size for messages.
std::string format_size(std::uint64_t bytes);

}  // namespace cosmos::core
