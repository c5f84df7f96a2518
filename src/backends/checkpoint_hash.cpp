// Incremental checkpoint hashing on a host (through its Shell) and on this machine (threads).

#include "backends/checkpoint_hash.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <limits>
#include <mutex>
#include <thread>

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/embedded_scripts.hpp"
#include "core/file_stamp.hpp"
#include "core/sha256.hpp"
#include "model/checkpoint_manifest.hpp"

namespace cosmos::backends {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// The listing and hashing scripts are src/backends/scripts/checkpoint-{list,hash}.sh.

constexpr auto k_long = std::chrono::hours(12);

// "1700000000.123456789" → ns. Missing or short fractions count as zeros.
std::optional<std::int64_t> parse_mtime(std::string_view s) {
    std::size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::int64_t sec = 0;
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), sec);
    // Past the year 2262 seconds do not fit in int64 nanoseconds: not a real mtime.
    constexpr std::int64_t k_max_sec = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
    if (ec != std::errc() || p != whole.data() + whole.size() || sec < -k_max_sec ||
        sec > k_max_sec) {
        return std::nullopt;
    }
    std::int64_t ns = 0;
    if (dot != std::string_view::npos) {
        std::string_view frac = s.substr(dot + 1);
        for (std::size_t i = 0; i < 9; ++i) {
            char c = i < frac.size() ? frac[i] : '0';
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            ns = ns * 10 + (c - '0');
        }
    }
    return sec * 1'000'000'000 + ns;
}

// Reuses cached hashes for unchanged files and returns the ones that must be read.
std::vector<std::size_t> plan(const std::vector<ListedFile>& listed,
                              const HashCache& previous,
                              HashReport& report) {
    std::vector<std::size_t> todo;
    for (const auto& f : listed) {
        if (model::ignored_checkpoint_path(f.path)) {
            continue;
        }
        HashedFile h{f.path, f.size, f.mtime_ns, {}};
        auto it = previous.find(f.path);
        if (it != previous.end() && it->second.size == f.size &&
            it->second.mtime_ns == f.mtime_ns && !it->second.sha256.empty()) {
            h.sha256 = it->second.sha256;
        } else {
            todo.push_back(report.files.size());
            report.bytes_read += f.size;
        }
        report.newest_mtime_ns = std::max(report.newest_mtime_ns, f.mtime_ns);
        report.files.push_back(std::move(h));
    }
    report.files_read = todo.size();
    return todo;
}

void sort_files(HashReport& report) {
    std::sort(report.files.begin(), report.files.end(), [](const auto& a, const auto& b) {
        return a.path < b.path;
    });
}

}  // namespace

core::Result<std::vector<ListedFile>> parse_find_listing(std::string_view out) {
    std::vector<ListedFile> files;
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find('\0', start);
        if (end == std::string_view::npos) {
            end = out.size();
        }
        std::string_view rec = out.substr(start, end - start);
        start = end + 1;
        std::size_t a = rec.find(' ');
        std::size_t b = a == std::string_view::npos ? a : rec.find(' ', a + 1);
        if (b == std::string_view::npos || b + 1 >= rec.size()) {
            return fail(ErrorCode::remote_failed,
                        "unexpected output from find: a record lacks fields");
        }
        ListedFile f;
        auto size_text = rec.substr(0, a);
        auto [p, ec] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), f.size);
        auto mtime = parse_mtime(rec.substr(a + 1, b - a - 1));
        if (ec != std::errc() || p != size_text.data() + size_text.size() || !mtime) {
            return fail(ErrorCode::remote_failed, "unexpected output from find: bad size or mtime");
        }
        f.mtime_ns = *mtime;
        f.path = std::string(rec.substr(b + 1));
        files.push_back(std::move(f));
    }
    return files;
}

core::Result<std::map<std::string, std::string>> parse_sha256sum(std::string_view out) {
    std::map<std::string, std::string> hashes;
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find('\0', start);
        if (end == std::string_view::npos) {
            end = out.size();
        }
        std::string_view rec = out.substr(start, end - start);
        start = end + 1;
        // "<64 hex><space><space or *><path>"
        if (rec.size() < 67 || rec[64] != ' ' || (rec[65] != ' ' && rec[65] != '*')) {
            return fail(ErrorCode::remote_failed, "unexpected output from sha256sum");
        }
        hashes[std::string(rec.substr(66))] = std::string(rec.substr(0, 64));
    }
    return hashes;
}

core::Result<HashReport> hash_tree(transport::Shell& shell,
                                   const std::string& root,
                                   const HashCache& previous,
                                   int jobs) {
    transport::CommandOptions long_run;
    long_run.timeout = k_long;
    COSMOS_TRY(
        auto listing,
        shell.run({"sh", "-c", std::string(scripts::k_checkpoint_list), "sh", root}, long_run));
    if (listing.exit_code == 3) {
        return fail(ErrorCode::not_found,
                    fmt::format("no checkpoint directory {} on {}", root, shell.describe()),
                    "download them with: cosmos setup checkpoints --host H");
    }
    if (listing.exit_code != 0) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("listing {} on {} failed: {}", root, shell.describe(), listing.err));
    }
    COSMOS_TRY(auto listed, parse_find_listing(listing.out));
    HashReport report;
    auto todo = plan(listed, previous, report);
    if (!todo.empty()) {
        transport::CommandOptions options = long_run;
        for (std::size_t i : todo) {
            options.stdin_data += report.files[i].path;
            options.stdin_data += '\0';
        }
        COSMOS_TRY(auto hashed,
                   shell.run({"sh",
                              "-c",
                              std::string(scripts::k_checkpoint_hash),
                              "sh",
                              root,
                              std::to_string(std::max(jobs, 1))},
                             options));
        if (hashed.exit_code != 0) {
            return fail(ErrorCode::remote_failed,
                        fmt::format("hashing checkpoints in {} on {} failed (exit {}): {}",
                                    root,
                                    shell.describe(),
                                    hashed.exit_code,
                                    hashed.err));
        }
        COSMOS_TRY(auto hashes, parse_sha256sum(hashed.out));
        for (std::size_t i : todo) {
            auto it = hashes.find(report.files[i].path);
            if (it == hashes.end()) {
                return fail(ErrorCode::remote_failed,
                            fmt::format("sha256sum gave no hash for {}", report.files[i].path));
            }
            report.files[i].sha256 = it->second;
        }
    }
    sort_files(report);
    return report;
}

namespace {

std::vector<ListedFile> list_local(const fs::path& root, std::error_code& ec) {
    std::vector<ListedFile> out;
    fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        ListedFile f;
        f.path = it->path().lexically_relative(root).generic_string();
        f.size = static_cast<std::uint64_t>(st.st_size);
        f.mtime_ns = core::mtime_ns_of(st);
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace

core::Result<HashReport> hash_local_tree(const fs::path& root,
                                         const HashCache& previous,
                                         int jobs) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return fail(ErrorCode::not_found, fmt::format("no directory {}", root.string()));
    }
    auto listed = list_local(root, ec);
    if (ec) {
        return fail(ErrorCode::io, fmt::format("cannot list {}: {}", root.string(), ec.message()));
    }
    HashReport report;
    auto todo = plan(listed, previous, report);
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::optional<core::Error> first_error;
    auto worker = [&] {
        for (;;) {
            std::size_t k = next.fetch_add(1);
            if (k >= todo.size()) {
                return;
            }
            HashedFile& f = report.files[todo[k]];
            auto h = core::sha256_file(root / f.path);
            if (!h) {
                std::lock_guard lock(mutex);
                if (!first_error) {
                    first_error = h.error();
                }
                return;
            }
            f.sha256 = std::move(*h);
        }
    };
    int n = std::clamp<int>(jobs, 1, static_cast<int>(std::max<std::size_t>(todo.size(), 1)));
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) {
        threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) {
        t.join();
    }
    if (first_error) {
        return fail(std::move(*first_error));
    }
    sort_files(report);
    return report;
}

core::Result<std::int64_t> newest_mtime(transport::Shell& shell, const std::string& root) {
    COSMOS_TRY(auto listing,
               shell.run({"sh", "-c", std::string(scripts::k_checkpoint_list), "sh", root}));
    if (listing.exit_code == 3) {
        return std::int64_t{0};
    }
    if (listing.exit_code != 0) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("listing {} on {} failed: {}", root, shell.describe(), listing.err));
    }
    COSMOS_TRY(auto listed, parse_find_listing(listing.out));
    std::int64_t newest = 0;
    for (const auto& f : listed) {
        if (!model::ignored_checkpoint_path(f.path)) {
            newest = std::max(newest, f.mtime_ns);
        }
    }
    return newest;
}

std::int64_t newest_local_mtime(const fs::path& root) {
    std::error_code ec;
    std::int64_t newest = 0;
    for (const auto& f : list_local(root, ec)) {
        if (!model::ignored_checkpoint_path(f.path)) {
            newest = std::max(newest, f.mtime_ns);
        }
    }
    return newest;
}

}  // namespace cosmos::backends
