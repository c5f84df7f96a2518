#include "transport/shell.hpp"

#include <system_error>

#include <fmt/format.h>

namespace cosmos::transport {

core::Result<std::uint64_t> Shell::upload_hashed(const std::filesystem::path& local,
                                                 const std::string& remote,
                                                 UploadDigest& digest,
                                                 const ProgressFn& progress) {
    std::error_code ec;
    auto size = std::filesystem::file_size(local, ec);
    if (ec) {
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot read {}: {}", local.string(), ec.message()));
    }
    if (auto s = core::sha256_feed_file(digest.sha, local, size); !s) {
        return core::fail(s.error());
    }
    return upload(local, remote, progress);
}

}  // namespace cosmos::transport
