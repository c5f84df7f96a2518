#include "transport/staging.hpp"

#include <cctype>
#include <system_error>

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
    COSMOS_TRY(out.sha256, core::sha256_file(local));
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
