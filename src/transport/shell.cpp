#include "transport/shell.hpp"

#include <algorithm>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace cosmos::transport {

namespace {

std::string tail_trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

}  // namespace

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

core::Result<std::vector<DirEntry>> Shell::list_dir_info(const std::string& remote) {
    COSMOS_TRY(auto names, list_dir(remote));
    std::sort(names.begin(), names.end());
    std::vector<DirEntry> out;
    for (auto& name : names) {
        COSMOS_TRY(auto info, stat(remote + "/" + name));
        if (info) {
            out.push_back(DirEntry{std::move(name), *info});
        }
    }
    return out;
}

core::Status Shell::replace_file(const std::string& from, const std::string& to) {
    COSMOS_TRY(auto r, run({"mv", "-f", "--", from, to}));
    if (r.exit_code != 0) {
        COSMOS_TRY(auto still, stat(from));
        return core::fail(
            still ? core::ErrorCode::remote_failed : core::ErrorCode::not_found,
            fmt::format(
                "cannot rename {} to {} on {}: {}", from, to, describe(), tail_trimmed(r.err)));
    }
    return {};
}

core::Status Shell::set_mtime(const std::string& path, std::int64_t seconds) {
    COSMOS_TRY(auto r, run({"touch", "-d", fmt::format("@{}", seconds), "--", path}));
    if (r.exit_code != 0) {
        return core::fail(
            core::ErrorCode::remote_failed,
            fmt::format(
                "cannot set the time of {} on {}: {}", path, describe(), tail_trimmed(r.err)));
    }
    return {};
}

core::Result<std::optional<std::uint64_t>> Shell::free_bytes(const std::string& path) {
    COSMOS_TRY(auto r, run({"df", "-Pk", "--", path}));
    // "Filesystem 1024-blocks Used Available Capacity Mounted on", then one line of numbers.
    std::istringstream lines(r.out);
    std::string header, line;
    if (r.exit_code != 0 || !std::getline(lines, header) || !std::getline(lines, line)) {
        return std::optional<std::uint64_t>();
    }
    std::istringstream fields(line);
    std::string fs_name;
    std::uint64_t blocks = 0, used = 0, avail = 0;
    if (!(fields >> fs_name >> blocks >> used >> avail)) {
        return std::optional<std::uint64_t>();
    }
    return std::optional<std::uint64_t>(avail * 1024);
}

}  // namespace cosmos::transport
