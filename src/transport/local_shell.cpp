#include "transport/local_shell.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/read_file.hpp"
#include "core/temp_name.hpp"
#include "transport/local_process.hpp"

extern char** environ;

namespace cosmos::transport {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// A pipe whose ends close themselves.
struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe2(fd, O_CLOEXEC) != 0) {
            fd[0] = fd[1] = -1;
        }
    }
    ~Pipe() {
        close_end(0);
        close_end(1);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    bool ok() const { return fd[0] >= 0; }
    void close_end(int i) {
        if (fd[i] >= 0) {
            ::close(fd[i]);
            fd[i] = -1;
        }
    }
};

int exit_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

// Copies `from` to `to` + ".part" (resuming a shorter .part), then renames it to `to`. Returns
// the bytes copied.
core::Result<std::uint64_t> copy_file(const fs::path& from,
                                      const fs::path& to,
                                      const ProgressFn& progress,
                                      const std::atomic<bool>* cancel,
                                      UploadDigest* digest = nullptr) {
    std::error_code ec;
    auto total = fs::file_size(from, ec);
    if (ec) {
        return fail(ErrorCode::not_found,
                    fmt::format("cannot read {}: {}", from.string(), ec.message()));
    }
    fs::path part = to;
    part += ".part";
    std::uint64_t done = 0;
    if (auto have = fs::file_size(part, ec); !ec && have <= total) {
        done = digest != nullptr ? std::min(have, digest->trusted_part) : have;
        if (done < have) {
            fs::resize_file(part, done, ec);  // an unproven tail is copied again
        }
    }
    if (digest != nullptr) {
        COSMOS_CHECK(core::sha256_feed_file(digest->sha, from, done));
    }
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(part, std::ios::binary | (done > 0 ? std::ios::app : std::ios::trunc));
    if (!in || !out) {
        return fail(ErrorCode::io,
                    fmt::format("cannot copy {} to {}", from.string(), part.string()));
    }
    in.seekg(static_cast<std::streamoff>(done));
    std::uint64_t sent = 0;
    std::vector<char> buf(1 << 20);
    while (done < total) {
        if (cancel != nullptr && cancel->load()) {
            return fail(ErrorCode::interrupted, "copy interrupted");
        }
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        auto n = static_cast<std::uint64_t>(in.gcount());
        if (n == 0) {
            break;
        }
        out.write(buf.data(), static_cast<std::streamsize>(n));
        if (digest != nullptr) {
            digest->sha.update_at(done, buf.data(), n);
        }
        if (!out) {
            return fail(ErrorCode::io,
                        fmt::format("writing {} failed (disk full?)", part.string()));
        }
        done += n;
        sent += n;
        if (progress) {
            progress({done, total});
        }
    }
    out.close();
    if (!out || done != total) {
        return fail(
            ErrorCode::io,
            fmt::format("copying {} stopped at {} of {} bytes", from.string(), done, total));
    }
    fs::rename(part, to, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot rename {}: {}", part.string(), ec.message()));
    }
    return sent;
}

}  // namespace

core::Result<CommandResult> LocalShell::run(const std::vector<std::string>& argv,
                                            const CommandOptions& options) {
    if (argv.empty()) {
        return fail(ErrorCode::invalid_input, "empty command");
    }
    Pipe in, out, err;
    if (!in.ok() || !out.ok() || !err.ok()) {
        return fail(ErrorCode::io, fmt::format("pipe: {}", std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return fail(ErrorCode::not_found,
                    fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)),
                    "is it installed and on PATH?");
    }
    in.close_end(0);
    out.close_end(1);
    err.close_end(1);
    CommandResult result;
    std::size_t written = 0;
    if (options.stdin_data.empty()) {
        in.close_end(1);
    } else {
        ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
    }
    const auto deadline = core::now_ms() + options.timeout.count();
    bool timed_out = false;
    char buf[65536];
    while (out.fd[0] >= 0 || err.fd[0] >= 0) {
        pollfd fds[3];
        int n = 0;
        int idx_out = -1, idx_err = -1, idx_in = -1;
        if (out.fd[0] >= 0) {
            idx_out = n;
            fds[n++] = {out.fd[0], POLLIN, 0};
        }
        if (err.fd[0] >= 0) {
            idx_err = n;
            fds[n++] = {err.fd[0], POLLIN, 0};
        }
        if (in.fd[1] >= 0) {
            idx_in = n;
            fds[n++] = {in.fd[1], POLLOUT, 0};
        }
        auto left = deadline - core::now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int ready = ::poll(
            fds, static_cast<nfds_t>(n), static_cast<int>(std::min<std::int64_t>(left, 1000)));
        if (ready < 0 && errno != EINTR) {
            break;
        }
        auto drain = [&](int idx, Pipe& p, std::string& into) {
            if (idx >= 0 && (fds[idx].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                ssize_t got = ::read(p.fd[0], buf, sizeof(buf));
                if (got > 0) {
                    into.append(buf, static_cast<std::size_t>(got));
                } else if (got == 0 || errno != EINTR) {
                    p.close_end(0);
                }
            }
        };
        drain(idx_out, out, result.out);
        drain(idx_err, err, result.err);
        if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            ssize_t put = ::write(
                in.fd[1], options.stdin_data.data() + written, options.stdin_data.size() - written);
            if (put > 0) {
                written += static_cast<std::size_t>(put);
            }
            if (put < 0 && errno != EAGAIN && errno != EINTR) {
                written = options.stdin_data.size();  // the reader is gone
            }
            if (written >= options.stdin_data.size()) {
                in.close_end(1);
            }
        }
    }
    in.close_end(1);
    if (timed_out) {
        ::kill(-pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        return fail(
            ErrorCode::timeout,
            fmt::format("{} did not finish within {} s", argv[0], options.timeout.count() / 1000));
    }
    result.exit_code = exit_status(status);
    return result;
}

core::Result<int> LocalShell::stream(const std::vector<std::string>& argv,
                                     const OutputLineFn& on_line,
                                     const std::atomic<bool>* stop) {
    ProcessSpec spec;
    spec.argv = argv;
    COSMOS_TRY(auto exit, run_process(spec, on_line, stop, std::chrono::milliseconds(500)));
    if (exit.cancelled) {
        return fail(ErrorCode::interrupted, fmt::format("stopped following {}", argv.front()));
    }
    return exit.exit_code;
}

core::Result<std::optional<FileInfo>> LocalShell::stat(const std::string& path) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::optional<FileInfo>();
        }
        return fail(ErrorCode::io, fmt::format("stat {}: {}", path, std::strerror(errno)));
    }
    FileInfo info;
    info.size = static_cast<std::uint64_t>(st.st_size);
    info.mtime = st.st_mtime;
    info.is_dir = S_ISDIR(st.st_mode);
    return std::optional<FileInfo>(info);
}

core::Status LocalShell::make_dirs(const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) {
        return fail(ErrorCode::io, fmt::format("cannot create {}: {}", path, ec.message()));
    }
    return {};
}

core::Result<std::uint64_t> LocalShell::upload(const fs::path& local,
                                               const std::string& remote,
                                               const ProgressFn& progress) {
    return copy_file(local, remote, progress, cancel_flag());
}

core::Result<std::uint64_t> LocalShell::upload_hashed(const fs::path& local,
                                                      const std::string& remote,
                                                      UploadDigest& digest,
                                                      const ProgressFn& progress) {
    return copy_file(local, remote, progress, cancel_flag(), &digest);
}

core::Result<std::uint64_t> LocalShell::download(const std::string& remote,
                                                 const fs::path& local,
                                                 const ProgressFn& progress) {
    // What comes home from a job dir on this machine (outputs, logs the job wrote and will not
    // change again) is linked rather than copied when both lie on one file system: a 4K output
    // costs no second copy. Uploads are always copied: a user's input file may change later,
    // and the content-addressed cache must not change with it.
    std::error_code ec;
    if (!fs::exists(local, ec)) {
        fs::create_hard_link(remote, local, ec);
        if (!ec) {
            auto size = fs::file_size(local, ec);
            if (progress) {
                progress(TransferProgress{size, size});
            }
            return std::uint64_t{0};
        }
    }
    return copy_file(remote, local, progress, cancel_flag());
}

core::Status LocalShell::write_file(const std::string& remote, std::string_view content, int mode) {
    std::string tmp = core::temp_sibling(remote);
    int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", remote, std::strerror(errno)));
    }
    (void)::fchmod(fd, static_cast<mode_t>(mode));  // the umask does not widen or narrow it
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(ErrorCode::io, fmt::format("writing {} failed (disk full?)", remote));
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), remote.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return fail(ErrorCode::io,
                    fmt::format("cannot rename into {}: {}", remote, std::strerror(errno)));
    }
    return {};
}

core::Result<std::string> LocalShell::read_file(const std::string& remote,
                                                std::uint64_t max_bytes) {
    auto text = core::read_file(remote, max_bytes, "file");
    if (!text && text.error().code == ErrorCode::not_found) {
        return fail(ErrorCode::not_found, fmt::format("{} does not exist", remote));
    }
    return text;
}

core::Result<std::vector<std::string>> LocalShell::list_dir(const std::string& remote) {
    std::error_code ec;
    fs::directory_iterator it(remote, ec);
    if (ec) {
        return fail(ErrorCode::not_found, fmt::format("{} does not exist", remote));
    }
    std::vector<std::string> names;
    for (const auto& entry : it) {
        names.push_back(entry.path().filename().string());
    }
    return names;
}

core::Status LocalShell::replace_file(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        int err = errno;
        return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                    fmt::format("cannot rename {} to {}: {}", from, to, std::strerror(err)));
    }
    return {};
}

core::Status LocalShell::set_mtime(const std::string& path, std::int64_t seconds) {
    std::array<struct timespec, 2> times{};
    times[0].tv_sec = static_cast<time_t>(seconds);
    times[1].tv_sec = static_cast<time_t>(seconds);
    if (::utimensat(AT_FDCWD, path.c_str(), times.data(), 0) != 0) {
        int err = errno;
        return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                    fmt::format("cannot set the time of {}: {}", path, std::strerror(err)));
    }
    return {};
}

core::Result<std::optional<std::uint64_t>> LocalShell::free_bytes(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) {
        int err = errno;
        return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                    fmt::format("cannot see the free space of {}: {}", path, std::strerror(err)));
    }
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize);
}

std::shared_ptr<Shell> local_shell() {
    return std::make_shared<LocalShell>();
}

}  // namespace cosmos::transport
