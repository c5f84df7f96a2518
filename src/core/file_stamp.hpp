#pragma once
// What a local file looked like when its content was last read (size, modification and change
// times, inode, device), and a hash cache keyed by it: a file whose stamp is unchanged keeps its
// recorded SHA-256 and is not read again. Staging (transport/staging.cpp) keeps one in
// <data_dir>/staging/local-hashes.json; the checkpoint verifier (backends/checkpoint_hash.cpp)
// takes its modification times from here too.
//
// The limit of any stat-based cache (docs/ssh.md, "The input cache"): a change the file system
// does not record is not seen. Rewriting a file in place with the same size and putting its
// mtime back (touch -d) still moves its ctime, which no user can set, so that is caught here
// (the checkpoint verifier's listing has size and mtime only, and misses it). Not caught: a
// write inside one timestamp tick of the recorded stat on a file system with coarse times, a
// clock set back to the recorded ctime, or writes that bypass the file system.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <sys/stat.h>

#include "core/result.hpp"

namespace cosmos::core {

struct FileStamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;  // nanoseconds since the epoch
    std::int64_t ctime_ns = 0;
    std::uint64_t inode = 0;
    std::uint64_t device = 0;
    bool operator==(const FileStamp&) const = default;
};

std::int64_t mtime_ns_of(const struct ::stat& st);
FileStamp stamp_of(const struct ::stat& st);

// The stamp of `path` (following links); fails with io when it cannot be stat'ed.
Result<FileStamp> stamp_file(const std::filesystem::path& path);

// path → (stamp, sha256), kept in a JSON file (none: this process only). Thread-safe; several
// processes may share the file (each write merges what is there, last writer wins per entry).
class HashCacheFile {
public:
    static constexpr std::uint64_t k_max_file_bytes = 32u << 20;  // a bigger file is ignored
    static constexpr std::size_t k_max_entries = 20000;

    explicit HashCacheFile(std::filesystem::path file);

    const std::filesystem::path& file() const { return m_file; }
    // The recorded hash of `path` when its stamp is still `stamp`.
    std::optional<std::string> lookup(const std::string& path, const FileStamp& stamp);
    // Records a hash and rewrites the file; a failed write only costs a re-hash later.
    Status remember(const std::string& path, const FileStamp& stamp, const std::string& sha256);

private:
    struct Entry {
        FileStamp stamp;
        std::string sha256;
    };
    std::map<std::string, Entry> read_file() const;
    void load_locked();

    std::filesystem::path m_file;
    std::mutex m_mutex;
    bool m_loaded = false;
    std::map<std::string, Entry> m_entries;
};

}  // namespace cosmos::core
