#pragma once
// The per-host input cache: files are stored under their content's SHA-256, so an input used by
// many runs is sent once, and a half-sent one resumes. Works over any Shell (local or SSH).
//
// Layout (docs/ssh.md, "The input cache"):
//   <cache_dir>/<sha256><ext>                  a cached file, e.g. cache/9f86d0...15b0.mp4
//   <cache_dir>/.incoming-<id><ext>.part       an upload under way (<id>: 32 hex of the
//                                              SHA-256 of the local file's absolute path)
//   <cache_dir>.stamps/<sha256><ext>           "size inode mtime" of the cached file when it
//                                              was last proven to hash to its name
// A cached file is used only when proven: its stamp matches (one stat), or sha256sum on the
// host agrees with its name (then it is stamped again); a file that fails is removed and sent
// again. An upload hashes the local file while sending it, resumes a .part only after the
// host's hash of it matched the local prefix, and is renamed to the name its hash gives.

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
    std::uint64_t hashed_bytes = 0;    // local bytes hashed this time (0: local hash cache hit)
    std::uint64_t read_bytes = 0;      // local bytes read this time, for hashing and sending
    // How the host's copy was proven: "stamp" (unchanged since proven), "host-hash" (sha256sum
    // on the host), "sent" (hashed here while sending; a resumed prefix checked on the host).
    std::string proof;
    bool repaired = false;  // a cached copy or .part on the host was wrong and was replaced
};

// The extension kept on cached names: the local one (".mp4") when it is 1-16 letters and
// digits, else none (so a hostile name adds nothing odd to the remote path).
std::string cache_extension(const std::filesystem::path& local);

// The name of the upload under way for `local` in the cache dir (see the layout above).
std::string incoming_name(const std::filesystem::path& local);

// Keeps the hashes of local files in `file` (<data_dir>/staging/local-hashes.json) across
// processes, keyed by their stamp (core/file_stamp.hpp), so staging unchanged inputs again
// reads nothing. Set once at start; unset, hashes are remembered for this process only.
void set_local_hash_cache(const std::filesystem::path& file);

// Stages `local` into the cache unless a proven copy is there (see above). `progress` sees the
// upload (resumed bytes count as done); fails with io when the local file cannot be read and
// with the Shell's errors otherwise.
core::Result<StagedFile> stage_file(Shell& shell,
                                    const std::filesystem::path& local,
                                    const std::string& cache_dir,
                                    const ProgressFn& progress = {});

}  // namespace cosmos::transport
