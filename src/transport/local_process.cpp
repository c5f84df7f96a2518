#include "transport/local_process.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/shell_quote.hpp"

extern char** environ;

namespace cosmos::transport {

using core::ErrorCode;
using core::fail;

namespace {

std::vector<std::string> build_env(const std::map<std::string, std::string>& add) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        std::string key(kv.substr(0, eq));
        if (add.count(key) == 0) {
            env.emplace_back(kv);
        }
    }
    for (const auto& [k, v] : add) {
        env.push_back(k + "=" + v);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// Splits buffered output into lines on '\n' and '\r', delivering complete ones.
void drain_lines(std::string& buf, const LineSink& on_line) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < buf.size(); ++i) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (i > start) {
                on_line(std::string_view(buf).substr(start, i - start));
            }
            start = i + 1;
        }
    }
    buf.erase(0, start);
}

struct SpawnAttrs {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    SpawnAttrs() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnAttrs() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnAttrs(const SpawnAttrs&) = delete;
    SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

ProcessExit decode_status(int status) {
    ProcessExit e;
    if (WIFEXITED(status)) {
        e.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        e.signal = WTERMSIG(status);
        e.exit_code = 128 + e.signal;
    }
    return e;
}

}  // namespace

core::Result<ProcessExit> run_process(const ProcessSpec& spec,
                                      const LineSink& on_line,
                                      const std::atomic<bool>* cancel,
                                      std::chrono::milliseconds grace) {
    if (spec.argv.empty()) {
        return fail(ErrorCode::internal, "run_process: empty argv");
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return fail(ErrorCode::io, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    }
    SpawnAttrs sa;
    posix_spawn_file_actions_addopen(&sa.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&sa.actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&sa.actions, fds[1], 2);
    if (!spec.cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&sa.actions, spec.cwd.c_str());
    }
    posix_spawnattr_setflags(
        &sa.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&sa.attr, 0);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&sa.attr, &empty);
    posix_spawnattr_setsigdefault(&sa.attr, &defaults);

    std::vector<std::string> argv = spec.argv;
    std::vector<std::string> env = build_env(spec.env_add);
    auto c_argv = c_strings(argv);
    auto c_env = c_strings(env);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, c_argv[0], &sa.actions, &sa.attr, c_argv.data(), c_env.data());
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return fail(
            rc == ENOENT || rc == EACCES ? ErrorCode::not_found : ErrorCode::io,
            fmt::format("cannot start {}: {}", core::shell_quote(spec.argv[0]), std::strerror(rc)));
    }

    std::string buf;
    char chunk[8192];
    bool cancelled = false;
    auto kill_at = std::chrono::steady_clock::time_point::max();
    for (;;) {
        if (cancel != nullptr && cancel->load() && !cancelled) {
            cancelled = true;
            kill(-pid, SIGTERM);
            kill_at = std::chrono::steady_clock::now() + grace;
        }
        if (cancelled && std::chrono::steady_clock::now() >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = std::chrono::steady_clock::time_point::max();
        }
        pollfd p{fds[0], POLLIN, 0};
        int pr = poll(&p, 1, 100);
        if (pr < 0 && errno != EINTR) {
            break;
        }
        if (pr > 0) {
            ssize_t n = read(fds[0], chunk, sizeof chunk);
            if (n > 0) {
                buf.append(chunk, static_cast<std::size_t>(n));
                drain_lines(buf, on_line);
                continue;
            }
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                break;  // every writer closed the pipe
            }
        }
    }
    close(fds[0]);
    if (!buf.empty()) {
        on_line(buf);
    }
    // Descendants may keep running after the pipe closed; wait for the leader, and on cancel
    // make sure the whole group is gone.
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            return fail(ErrorCode::io, fmt::format("waitpid failed: {}", std::strerror(errno)));
        }
        if (cancel != nullptr && cancel->load() && !cancelled) {
            cancelled = true;
            kill(-pid, SIGTERM);
            kill_at = std::chrono::steady_clock::now() + grace;
        }
        if (cancelled && std::chrono::steady_clock::now() >= kill_at) {
            kill(-pid, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (cancelled) {
        kill(-pid, SIGKILL);  // no stragglers in the group
    }
    ProcessExit e = decode_status(status);
    e.cancelled = cancelled;
    return e;
}

}  // namespace cosmos::transport
