#include "transport/staging.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "core/embedded_scripts.hpp"
#include "core/file_lock.hpp"
#include "core/file_stamp.hpp"
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

std::string absolute_path(const fs::path& local) {
    std::error_code ec;
    return fs::absolute(local, ec).lexically_normal().string();
}

std::mutex g_hashes_mutex;
std::shared_ptr<core::HashCacheFile> g_hashes;

// Where the cross-process staging locks live: beside the local hash cache (empty: none set,
// as in unit tests, and this process's own lock is all there is).
fs::path local_lock_dir() {
    fs::path file;
    {
        std::lock_guard lock(g_hashes_mutex);
        if (g_hashes) {
            file = g_hashes->file();
        }
    }
    if (file.empty()) {
        return {};
    }
    std::error_code ec;
    fs::create_directories(file.parent_path() / "locks", ec);
    return ec ? fs::path() : file.parent_path() / "locks";
}

std::shared_ptr<core::HashCacheFile> local_hashes() {
    std::lock_guard lock(g_hashes_mutex);
    if (!g_hashes) {
        g_hashes = std::make_shared<core::HashCacheFile>(fs::path());
    }
    return g_hashes;
}

// What input-cache.sh probe saw on the host.
struct Probe {
    std::string entry;                        // stamped verified missing bad same-size none
    std::optional<std::uint64_t> part_bytes;  // a .part is there
    std::string part_sha256;                  // its hash (empty: longer than the file)
    bool proven() const { return entry == "stamped" || entry == "verified"; }
};

core::Result<CommandResult> run_script(Shell& shell, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "sh", "-c", std::string(scripts::k_input_cache), "cosmos-cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.timeout = std::chrono::hours(2);  // sha256sum of a large file on a slow disk
    COSMOS_TRY(auto r, shell.run(argv, options));
    if (r.exit_code != 0) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the input cache on {} failed ({} exited with {}): {}",
                                shell.describe(),
                                args.front(),
                                r.exit_code,
                                r.err),
                    "check that the host's work_dir is writable and has sha256sum and stat");
    }
    return r;
}

core::Result<Probe> probe(Shell& shell,
                          const std::string& cache_dir,
                          const std::string& name,
                          std::uint64_t size,
                          const std::string& part) {
    COSMOS_TRY(auto r, run_script(shell, {"probe", cache_dir, name, std::to_string(size), part}));
    Probe p;
    bool bad = false;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string kind, a, b;
        fields >> kind >> a >> b;
        if (kind == "entry") {
            p.entry = a;
        } else if (kind == "part" && a != "none") {
            std::uint64_t n = 0;
            auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), n);
            bad = bad || ec != std::errc() || end != a.data() + a.size();
            p.part_bytes = n;
            p.part_sha256 = b == "long" ? "" : b;
            bad = bad || (b != "long" && b.size() != 64);
        }
    }
    if (p.entry.empty() || bad) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format(
                "unexpected answer from the input cache on {}: {}", shell.describe(), r.out));
    }
    return p;
}

// The quick proof, over SFTP and without a command on the host (whose first one per connection
// starts a login shell: 0.1-3 s): the cached file's size and mtime (seconds: what SFTP v3
// reports) equal those its stamp recorded when it was last proven, and the stamp was written in
// a later second than that mtime (so any write since would show a new mtime second). False:
// input-cache.sh decides (full stamp with inode and ns, else sha256sum).
core::Result<bool> stamp_holds(Shell& shell,
                               const std::string& cache_dir,
                               const std::string& name,
                               std::uint64_t size) {
    COSMOS_TRY(auto info, shell.stat(cache_dir + "/" + name));
    if (!info || info->is_dir || info->size != size) {
        return false;
    }
    const std::string stamp = cache_dir + ".stamps/" + name;
    auto stamp_info = shell.stat(stamp);
    if (!stamp_info || !*stamp_info || (*stamp_info)->mtime <= info->mtime) {
        return false;
    }
    auto text = shell.read_file(stamp, 4096);
    if (!text) {
        return false;  // none (never proven, or an older cosmos), or unreadable: the full check
    }
    std::istringstream fields(*text);
    std::uint64_t stamp_size = 0;
    std::int64_t stamp_mtime = 0;
    fields >> stamp_size >> stamp_mtime;
    return !fields.fail() && stamp_size == size && stamp_mtime == info->mtime;
}

// The probe over SFTP alone, when it can answer without hashing on the host (no command, so no
// login shell or command server for a file the host has never seen: the common case of fresh
// inputs). nullopt: a cached entry or a .part needs the host's sha256sum (input-cache.sh).
core::Result<std::optional<Probe>> quick_probe(Shell& shell,
                                               const std::string& cache_dir,
                                               const std::string& name,
                                               std::uint64_t size,
                                               const std::string& part) {
    Probe p;
    if (!name.empty()) {
        COSMOS_TRY(auto entry, shell.stat(cache_dir + "/" + name));
        if (entry) {
            return std::optional<Probe>();  // there, unproven: only its hash can say
        }
        p.entry = "missing";
    } else {
        auto listed = shell.list_dir_info(cache_dir);
        if (!listed && listed.error().code != ErrorCode::not_found) {
            return fail(std::move(listed).error());
        }
        p.entry = "none";
        for (const auto& e : listed ? *listed : std::vector<DirEntry>{}) {
            bool candidate = !e.info.is_dir && e.info.size == size && !e.name.starts_with('.') &&
                             !e.name.ends_with(".part");
            if (candidate) {
                p.entry = "same-size";
                return std::optional<Probe>(p);
            }
        }
    }
    COSMOS_TRY(auto resumable, shell.stat(part));
    if (resumable && resumable->size <= size) {
        return std::optional<Probe>();  // a .part to resume: the host hashes it
    }
    if (resumable) {
        p.part_bytes = resumable->size;  // longer than the file: never resumed
    }
    return std::optional<Probe>(p);
}

// The quick proof when the hash is known, then the SFTP probe, then input-cache.sh.
core::Result<Probe> probe_entry(Shell& shell,
                                const std::string& cache_dir,
                                const std::string& name,
                                std::uint64_t size,
                                const std::string& part) {
    if (!name.empty()) {
        COSMOS_TRY(bool holds, stamp_holds(shell, cache_dir, name, size));
        if (holds) {
            Probe p;
            p.entry = "stamped";
            return p;
        }
    }
    COSMOS_TRY(auto quick, quick_probe(shell, cache_dir, name, size, part));
    if (quick) {
        return *quick;
    }
    return probe(shell, cache_dir, name, size, part);
}

// Renames the uploaded file to its cache name and stamps it as proven, over SFTP: its mtime is
// set a second back from the host's own clock (the upload's last write), so the stamp, written
// after, is in a later second and any later write shows a new mtime second. The stamp holds
// "SIZE MTIME", which stamp_holds() reads; input-cache.sh, which compares its fuller stamp,
// hashes such an entry once when it is asked and stamps it its way. A rename that fails (a
// concurrent staging of the same file committed it first) goes to input-cache.sh's commit, which
// proves the entry the other staging left.
core::Status commit_entry(Shell& shell,
                          const std::string& cache_dir,
                          const std::string& incoming,
                          const std::string& name) {
    const std::string target = cache_dir + "/" + name;
    if (!shell.replace_file(incoming, target)) {
        COSMOS_CHECK(run_script(shell, {"commit", cache_dir, incoming, name}));
        return {};
    }
    COSMOS_TRY(auto info, shell.stat(target));
    if (!info) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("{} on {} was gone right after its upload", target, shell.describe()));
    }
    const std::int64_t back = info->mtime - 1;
    COSMOS_CHECK(shell.set_mtime(target, back));
    COSMOS_CHECK(shell.make_dirs(cache_dir + ".stamps"));
    COSMOS_CHECK(
        shell.write_file(cache_dir + ".stamps/" + name, fmt::format("{} {}\n", info->size, back)));
    return {};
}

// One stage_file call.
struct Staging {
    Shell& shell;
    const fs::path& local;
    const std::string& cache_dir;
    std::string abs;
    std::string ext;
    std::string incoming;  // <cache_dir>/.incoming-<id><ext>
    core::FileStamp stamp;
    StagedFile out;
};

// Hashes the local file in a pass of its own (only when the host may already hold it).
core::Result<std::string> hash_now(Staging& s) {
    COSMOS_TRY(auto sha, core::sha256_file(s.local));
    s.out.hashed_bytes += s.stamp.size;
    s.out.read_bytes += s.stamp.size;
    COSMOS_TRY(auto after, core::stamp_file(s.local));
    if (after == s.stamp) {
        core::warn_on_error(local_hashes()->remember(s.abs, s.stamp, sha),
                            "staging: keeping the local hash");
    }
    return sha;
}

// Proves a .part the upload would resume: the host's hash of it against the same prefix of
// the local file (read into `digest`, so the upload does not read it again).
core::Status check_part(Staging& s, const Probe& p, UploadDigest& digest) {
    if (!p.part_bytes || p.part_sha256.empty()) {
        return {};
    }
    COSMOS_CHECK(core::sha256_feed_file(digest.sha, s.local, *p.part_bytes));
    if (digest.sha.hex() == p.part_sha256) {
        digest.trusted_part = *p.part_bytes;
        return {};
    }
    core::log(core::LogLevel::warn,
              "staging: discarding {}.part on {}: its {} bytes differ from {}; sending it afresh",
              s.incoming,
              s.shell.describe(),
              *p.part_bytes,
              s.local.string());
    s.out.repaired = true;
    return {};
}

// Sends the file to its incoming name, hashing it on the way, and renames it to its hash.
core::Status send(Staging& s, const Probe& p, const ProgressFn& progress) {
    UploadDigest digest;
    COSMOS_CHECK(check_part(s, p, digest));
    COSMOS_CHECK(s.shell.make_dirs(s.cache_dir));
    auto sent = s.shell.upload_hashed(s.local, s.incoming, digest, progress);
    std::uint64_t fed = digest.sha.bytes();
    std::string sha = digest.sha.finish();
    if (!sent) {
        // Two stagings of the same file at once (queue workers on one host) share the .part:
        // whoever renames it first wins, and the other's rename finds nothing. The cache entry
        // is then complete (and proven by the winner), which is all this call promises.
        if (fed != s.stamp.size) {
            return fail(sent.error());
        }
        auto now = probe(s.shell, s.cache_dir, sha + s.ext, s.stamp.size, "");
        if (!now || !now->proven()) {
            return fail(sent.error());
        }
        core::log(core::LogLevel::debug, "staging: {} was completed by a concurrent upload", sha);
    } else {
        COSMOS_CHECK(commit_entry(s.shell, s.cache_dir, s.incoming, sha + s.ext));
        s.out.uploaded_bytes = *sent;
    }
    s.out.hashed_bytes += s.stamp.size;  // the resumed prefix and what was sent
    s.out.read_bytes += s.stamp.size;
    s.out.sha256 = sha;
    s.out.proof = "sent";
    COSMOS_TRY(auto after, core::stamp_file(s.local));
    if (after == s.stamp) {
        core::warn_on_error(local_hashes()->remember(s.abs, s.stamp, sha),
                            "staging: keeping the local hash");
    }
    return {};
}

StagedFile proven_by_stamp(Staging& s, const std::string& sha, const ProgressFn& progress) {
    core::log(core::LogLevel::debug, "staging: {}{} is cached and stamped", sha, s.ext);
    s.out.sha256 = sha;
    s.out.proof = "stamp";
    s.out.remote_path = s.cache_dir + "/" + sha + s.ext;
    if (progress) {
        progress(TransferProgress{s.out.size, s.out.size});
    }
    return s.out;
}

}  // namespace

std::string incoming_name(const fs::path& local) {
    return ".incoming-" + core::sha256_hex(absolute_path(local)).substr(0, 32) +
           cache_extension(local);
}

void set_local_hash_cache(const fs::path& file) {
    std::lock_guard lock(g_hashes_mutex);
    if (!g_hashes || g_hashes->file() != file) {
        g_hashes = std::make_shared<core::HashCacheFile>(file);
    }
}

namespace {

// One staging of a local file into one host's cache at a time in this process: two worker
// threads staging the same input (two batches of one shot) would otherwise write one .part
// together and race on its commit. The second finds the first's proven entry.
std::shared_ptr<std::mutex> staging_lock(const std::string& key) {
    static std::mutex guard;
    static std::map<std::string, std::weak_ptr<std::mutex>> locks;
    std::lock_guard<std::mutex> lock(guard);
    auto found = locks[key].lock();
    if (!found) {
        found = std::make_shared<std::mutex>();
        locks[key] = found;
    }
    return found;
}

core::Result<StagedFile> stage_file_locked(Shell& shell,
                                           const fs::path& local,
                                           const std::string& cache_dir,
                                           const ProgressFn& progress) {
    std::error_code ec;
    if (!fs::is_regular_file(local, ec)) {
        return fail(ErrorCode::not_found,
                    fmt::format("{} is not a file that can be staged", local.string()));
    }
    Staging s{shell, local, cache_dir, absolute_path(local), cache_extension(local), {}, {}, {}};
    s.incoming = cache_dir + "/" + incoming_name(local);
    COSMOS_TRY(s.stamp, core::stamp_file(local));
    s.out.size = s.stamp.size;
    // The hash, when the local hash cache knows it (empty: not yet known).
    std::string known = local_hashes()->lookup(s.abs, s.stamp).value_or("");
    const std::string part = s.incoming + ".part";
    auto name = [&] { return known.empty() ? known : known + s.ext; };
    COSMOS_TRY(auto p, probe_entry(shell, cache_dir, name(), s.out.size, part));
    if (known.empty() && p.entry == "same-size") {  // it may be there: worth a local read
        COSMOS_TRY(known, hash_now(s));
        COSMOS_TRY(p, probe_entry(shell, cache_dir, name(), s.out.size, part));
    }
    if (p.entry == "bad") {
        core::log(core::LogLevel::warn,
                  "staging: the cached copy of {} on {} did not match its hash; sending it again",
                  local.string(),
                  shell.describe());
        s.out.repaired = true;
    }
    if (p.entry == "stamped") {
        return proven_by_stamp(s, known, progress);
    }
    if (p.proven()) {
        core::log(
            core::LogLevel::debug, "staging: {} hashed again on {}", name(), shell.describe());
        s.out.sha256 = known;
        s.out.proof = "host-hash";
        if (progress) {
            progress(TransferProgress{s.out.size, s.out.size});
        }
    } else {
        COSMOS_CHECK(send(s, p, progress));
        if (!known.empty() && known != s.out.sha256) {
            core::log(core::LogLevel::warn,
                      "staging: {} changed without its size, times or inode changing; staged "
                      "its current content",
                      local.string());
        }
    }
    s.out.remote_path = cache_dir + "/" + s.out.sha256 + s.ext;
    return s.out;
}

}  // namespace

core::Result<StagedFile> stage_file(Shell& shell,
                                    const fs::path& local,
                                    const std::string& cache_dir,
                                    const ProgressFn& progress) {
    const std::string key = shell.describe() + "\n" + cache_dir + "\n" + absolute_path(local);
    auto mutex = staging_lock(key);
    std::lock_guard<std::mutex> lock(*mutex);
    // Other cosmos processes on this machine (two `cosmos inference` at once, the CLI beside a
    // worker) share the host's .part and cache entry the same way: a lock file orders them.
    std::optional<core::FileLock> across;
    if (auto dir = local_lock_dir(); !dir.empty()) {
        across.emplace(dir / (core::sha256_hex(key).substr(0, 32) + ".lock"));
    }
    return stage_file_locked(shell, local, cache_dir, progress);
}

}  // namespace cosmos::transport
