#include "transport/staging.hpp"

#include <cctype>
#include <map>
#include <mutex>
#include <system_error>
#include <tuple>

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/sha256.hpp"

namespace cosmos::transport {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

std::string cache_extension(const fs::path& local) {
    std::string ext = local.extension().string();
    if (ext.size() < 2 || ext.size() > 17) {
        return {};
    }
    for (std::size_t i = 1; i < ext.size(); ++i) {
        if (std::isalnum(static_cast<unsigned char>(ext[i])) == 0) {
            return {};
        }
    }
    return ext;
}

namespace {

// The SHA-256 of `local`, remembered for this process by (device, inode, size, mtime): a sweep
// stages the same input set for every run, and hashing it again each time was most of the
// per-run staging cost. A file changed in place gets a new mtime (or size), so a new hash.
core::Result<std::string> content_hash(const fs::path& local) {
    struct ::stat st {};
    if (::stat(local.c_str(), &st) != 0) {
        return core::sha256_file(local);
    }
    using Key = std::tuple<dev_t, ino_t, off_t, std::int64_t, std::int64_t>;
    Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    static std::mutex mutex;
    static std::map<Key, std::string> known;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto it = known.find(key); it != known.end()) {
            return it->second;
        }
    }
    COSMOS_TRY(auto hash, core::sha256_file(local));
    std::lock_guard<std::mutex> lock(mutex);
    if (known.size() > 4096) {
        known.clear();  // a bound, not an LRU: a long-lived worker hashes again now and then
    }
    known.emplace(key, hash);
    return hash;
}

}  // namespace

core::Result<StagedFile> stage_file(Shell& shell,
                                    const fs::path& local,
                                    const std::string& cache_dir,
                                    const ProgressFn& progress) {
    std::error_code ec;
    if (!fs::is_regular_file(local, ec)) {
        return fail(ErrorCode::not_found,
                    fmt::format("{} is not a file that can be staged", local.string()));
    }
    StagedFile out;
    out.size = fs::file_size(local, ec);
    if (ec) {
        return fail(ErrorCode::io, fmt::format("cannot read {}: {}", local.string(), ec.message()));
    }
    COSMOS_TRY(out.sha256, content_hash(local));
    out.remote_path = cache_dir + "/" + out.sha256 + cache_extension(local);
    COSMOS_TRY(auto existing, shell.stat(out.remote_path));
    if (existing && !existing->is_dir && existing->size == out.size) {
        core::log(core::LogLevel::debug, "staging: {} already cached", out.remote_path);
        if (progress) {
            progress(TransferProgress{out.size, out.size});
        }
        return out;
    }
    if (auto st = shell.make_dirs(cache_dir); !st) {
        return fail(std::move(st).error());
    }
    auto uploaded = shell.upload(local, out.remote_path, progress);
    if (!uploaded) {
        // Two stagings of the same content at once (queue workers on one host) share the .part
        // file: whoever renames it first wins, and the other's rename finds nothing. The cache
        // entry is then complete, which is all this call promises.
        auto now = shell.stat(out.remote_path);
        if (now && *now && !(*now)->is_dir && (*now)->size == out.size) {
            core::log(core::LogLevel::debug,
                      "staging: {} was completed by a concurrent upload",
                      out.remote_path);
            return out;
        }
        return fail(uploaded.error());
    }
    out.uploaded_bytes = *uploaded;
    return out;
}

}  // namespace cosmos::transport
