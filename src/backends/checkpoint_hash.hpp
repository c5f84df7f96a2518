#pragma once
// Hashing a checkpoint tree, incrementally: files whose size and mtime match the previous pass
// keep their recorded SHA-256 and are not read again. On a host the work runs there through
// the Shell (one constant `find` to list, `xargs -0 -P N sha256sum -z` to hash in parallel;
// paths travel on stdin, never in a command line or script); on this machine the same listing
// and cache rules run with core::sha256_file on a thread pool.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "transport/shell.hpp"

namespace cosmos::backends {

struct HashedFile {
    std::string path;  // relative to the tree's root
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
    std::string sha256;
};

// The previous pass, by relative path.
using HashCache = std::map<std::string, HashedFile>;

struct HashReport {
    std::vector<HashedFile> files;  // every regular file (ignored_checkpoint_path() excluded)
    std::size_t files_read = 0;     // hashed this time (the others came from the cache)
    std::uint64_t bytes_read = 0;
    std::int64_t newest_mtime_ns = 0;  // over all files (0 for an empty tree)
};

// One file as listed, before hashing.
struct ListedFile {
    std::string path;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
};

// Parses `find -printf '%s %T@ %P\0'` output; fails with remote_failed on a malformed record.
core::Result<std::vector<ListedFile>> parse_find_listing(std::string_view out);

// Parses `sha256sum -z` output ("<hex>  <path>\0"...) into path → hash.
core::Result<std::map<std::string, std::string>> parse_sha256sum(std::string_view out);

// Lists and hashes `root` on the host behind `shell` with `jobs` parallel sha256sum processes.
// Fails with not_found when `root` is not a directory there.
core::Result<HashReport> hash_tree(transport::Shell& shell,
                                   const std::string& root,
                                   const HashCache& previous,
                                   int jobs);

// The same for a local directory, with `jobs` threads.
core::Result<HashReport> hash_local_tree(const std::filesystem::path& root,
                                         const HashCache& previous,
                                         int jobs);

// Lists `root` on the host without hashing: the newest mtime (ns) of its checkpoint files, 0 when
// empty or absent. One `find` over the tree.
core::Result<std::int64_t> newest_mtime(transport::Shell& shell, const std::string& root);
std::int64_t newest_local_mtime(const std::filesystem::path& root);

}  // namespace cosmos::backends
