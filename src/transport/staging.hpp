#pragma once
// The per-host input cache: files are stored under their content's SHA-256, so an input used by
// many runs is sent once, and a half-sent one resumes. Works over any Shell (local or SSH).
//
// Layout: <cache_dir>/<sha256><ext>, e.g. cache/9f86d0...15b0.mp4; while being sent the data is
// in <name>.part (see Shell::upload). A file whose name is present with the right size is
// complete: uploads only ever rename a finished .part over it.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"
#include "transport/shell.hpp"

namespace cosmos::transport {

struct StagedFile {
    std::string remote_path;           // <cache_dir>/<sha256><ext>
    std::string sha256;                // lower-case hex of the content
    std::uint64_t size = 0;            // bytes of the file
    std::uint64_t uploaded_bytes = 0;  // bytes sent this time (0 when it was already cached)
};

// The extension kept on cached names: the local one (".mp4") when it is 1-16 letters and
// digits, else none (so a hostile name adds nothing odd to the remote path).
std::string cache_extension(const std::filesystem::path& local);

// Hashes `local` (streaming), and uploads it to the cache unless a complete copy is there.
// `progress` sees the upload (resumed bytes count as done); fails with io when the local file
// cannot be read and with the Shell's errors otherwise.
core::Result<StagedFile> stage_file(Shell& shell,
                                    const std::filesystem::path& local,
                                    const std::string& cache_dir,
                                    const ProgressFn& progress = {});

}  // namespace cosmos::transport
