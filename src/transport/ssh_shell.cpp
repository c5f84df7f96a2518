// SshShell: Shell over a pooled libssh connection. Short commands run through the connection's
// command server (ssh_command_server.hpp: one round trip each, no login shell per command);
// others, and all of them when the server is busy or cannot start, on exec channels (argv
// joined by core::shell_join only), their stdout and stderr read interleaved; metadata and
// small files go through libssh's SFTP; bulk transfers through sftp_transfer.cpp.

#include "transport/ssh_shell.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fcntl.h>
#include <poll.h>

#include <fmt/format.h>
#include <libssh/callbacks.h>

#include "core/log.hpp"
#include "core/shell_quote.hpp"
#include "core/temp_name.hpp"
#include "transport/sftp_transfer.hpp"
#include "transport/ssh_command_server.hpp"
#include "transport/ssh_connection.hpp"

namespace cosmos::transport {

using core::ErrorCode;
using core::fail;
using detail::Channel;
using detail::CommandServer;
using detail::Connection;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t k_sftp_chunk = std::size_t{32} << 10;     // libssh SFTP read/write size
constexpr std::size_t k_channel_chunk = std::size_t{64} << 10;  // exec channel I/O size

int signal_number(std::string_view name) {
    static const std::map<std::string_view, int> k_signals = {
        {"HUP", SIGHUP},
        {"INT", SIGINT},
        {"QUIT", SIGQUIT},
        {"ILL", SIGILL},
        {"ABRT", SIGABRT},
        {"FPE", SIGFPE},
        {"KILL", SIGKILL},
        {"SEGV", SIGSEGV},
        {"PIPE", SIGPIPE},
        {"ALRM", SIGALRM},
        {"TERM", SIGTERM},
        {"USR1", SIGUSR1},
        {"USR2", SIGUSR2},
        {"BUS", SIGBUS},
    };
    auto it = k_signals.find(name);
    return it != k_signals.end() ? it->second : 0;
}

// An exec channel and what the server reported about the command's end.
struct Exec {
    ssh_channel_callbacks_struct callbacks{};
    int signal = 0;  // set from an exit-signal message
    std::unique_ptr<Channel> channel;

    Exec() {
        callbacks.userdata = this;
        callbacks.channel_exit_signal_function = [](ssh_session,
                                                    ssh_channel,
                                                    const char* sig,
                                                    int,
                                                    const char*,
                                                    const char*,
                                                    void* userdata) {
            static_cast<Exec*>(userdata)->signal = sig != nullptr ? signal_number(sig) : 0;
        };
        ssh_callbacks_init(&callbacks);
    }
    Exec(const Exec&) = delete;
    Exec& operator=(const Exec&) = delete;
};

// Splits `buf` into lines ending in '\n' or '\r' (like local_process.cpp), moving complete ones
// to `out`.
void split_lines(std::string& buf, std::vector<std::string>& out) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < buf.size(); ++i) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (i > start) {
                out.emplace_back(buf, start, i - start);
            }
            start = i + 1;
        }
    }
    buf.erase(0, start);
}

std::string short_command(const std::vector<std::string>& argv) {
    std::string s = core::shell_join(argv);
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

class SshShell final : public Shell {
public:
    SshShell(std::shared_ptr<Connection> conn, std::shared_ptr<CommandServer> server)
        : m_conn(std::move(conn)), m_server(std::move(server)) {}

    std::string describe() const override { return m_conn->describe(); }

    core::Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const CommandOptions& options) override {
        CommandResult result;
        auto deadline = Clock::now() + options.timeout;
        if (options.stdin_data.empty() && m_server && !argv.empty()) {
            if (auto served = m_server->run(argv, deadline)) {
                return std::move(*served);
            }
        }
        auto code = execute(argv,
                            options.stdin_data,
                            deadline,
                            nullptr,
                            [&](int stream, const char* data, std::size_t n) {
                                (stream == 0 ? result.out : result.err).append(data, n);
                            },
                            {});
        if (!code) {
            return fail(std::move(code).error());
        }
        result.exit_code = *code;
        return result;
    }

    core::Result<int> stream(const std::vector<std::string>& argv,
                             const OutputLineFn& on_line,
                             const std::atomic<bool>* stop) override {
        std::array<std::string, 2> partial;
        std::vector<std::string> lines;
        auto code = execute(
            argv,
            {},
            Clock::time_point::max(),
            stop,
            [&](int stream, const char* data, std::size_t n) {
                auto& buf = partial[static_cast<std::size_t>(stream)];
                buf.append(data, n);
                split_lines(buf, lines);
            },
            [&] {
                for (const auto& l : lines) {
                    on_line(l);
                }
                lines.clear();
            });
        for (const auto& l : lines) {
            on_line(l);
        }
        for (const auto& rest : partial) {
            if (!rest.empty()) {
                on_line(rest);
            }
        }
        return code;
    }

    core::Result<std::optional<FileInfo>> stat(const std::string& path) override {
        return with_sftp<std::optional<FileInfo>>(
            [&](sftp_session sftp) -> core::Result<std::optional<FileInfo>> {
                detail::SftpAttrPtr a(sftp_stat(sftp, path.c_str()));
                if (!a) {
                    int code = sftp_get_error(sftp);
                    if (!m_conn->lost() &&
                        (code == SSH_FX_NO_SUCH_FILE || code == SSH_FX_NO_SUCH_PATH)) {
                        return std::optional<FileInfo>();
                    }
                    return fail(m_conn->sftp_error("stat", path));
                }
                FileInfo info;
                info.size = a->size;
                info.mtime = static_cast<std::int64_t>(a->mtime);
                info.is_dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
                return std::optional<FileInfo>(info);
            });
    }

    core::Status make_dirs(const std::string& path) override {
        auto r = with_sftp<bool>([&](sftp_session sftp) -> core::Result<bool> {
            if (is_dir(sftp, path)) {
                return true;
            }
            std::string prefix = path.rfind('/', 0) == 0 ? "/" : "";
            std::size_t pos = 0;
            while (pos < path.size()) {
                auto slash = std::min(path.find('/', pos), path.size());
                std::string comp = path.substr(pos, slash - pos);
                pos = slash + 1;
                if (comp.empty() || comp == ".") {
                    continue;
                }
                if (!prefix.empty() && prefix.back() != '/') {
                    prefix += '/';
                }
                prefix += comp;
                if (is_dir(sftp, prefix)) {
                    continue;
                }
                if (sftp_mkdir(sftp, prefix.c_str(), 0755) != SSH_OK && !is_dir(sftp, prefix)) {
                    return fail(m_conn->sftp_error("creating the directory", prefix));
                }
            }
            return true;
        });
        if (!r) {
            return fail(std::move(r).error());
        }
        return {};
    }

    core::Result<std::uint64_t> upload(const std::filesystem::path& local,
                                       const std::string& remote,
                                       const ProgressFn& progress) override {
        return detail::sftp_upload(*m_conn, local, remote, progress, cancel_flag());
    }

    core::Result<std::uint64_t> upload_hashed(const std::filesystem::path& local,
                                              const std::string& remote,
                                              UploadDigest& digest,
                                              const ProgressFn& progress) override {
        return detail::sftp_upload(*m_conn, local, remote, progress, cancel_flag(), &digest);
    }

    core::Result<std::uint64_t> download(const std::string& remote,
                                         const std::filesystem::path& local,
                                         const ProgressFn& progress) override {
        return detail::sftp_download(*m_conn, remote, local, progress, cancel_flag());
    }

    core::Status write_file(const std::string& remote,
                            std::string_view content,
                            int mode) override {
        const std::string tmp = core::temp_sibling(remote);
        auto r = with_sftp<bool>([&](sftp_session sftp) -> core::Result<bool> {
            {
                detail::SftpFilePtr f(
                    sftp_open(sftp, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode)));
                if (!f) {
                    return fail(m_conn->sftp_error("writing", remote));
                }
                std::size_t at = 0;
                while (at < content.size()) {
                    std::size_t n = std::min<std::size_t>(content.size() - at, k_sftp_chunk);
                    if (sftp_write(f.get(), content.data() + at, n) != static_cast<ssize_t>(n)) {
                        auto e = m_conn->sftp_error("writing", remote);
                        f.reset();
                        sftp_unlink(sftp, tmp.c_str());
                        return fail(std::move(e));
                    }
                    at += n;
                }
                if (sftp_extension_supported(sftp, "fsync@openssh.com", "1") != 0) {
                    sftp_fsync(f.get());
                }
            }
            // The umask may have narrowed the mode at creation.
            if (sftp_chmod(sftp, tmp.c_str(), mode_t(mode)) != SSH_OK) {
                auto e = m_conn->sftp_error("writing", remote);
                sftp_unlink(sftp, tmp.c_str());
                return fail(std::move(e));
            }
            if (auto st = detail::sftp_replace(*m_conn, tmp, remote); !st) {
                sftp_unlink(sftp, tmp.c_str());
                return fail(std::move(st).error());
            }
            return true;
        });
        if (!r) {
            return fail(std::move(r).error());
        }
        return {};
    }

    core::Result<std::string> read_file(const std::string& remote,
                                        std::uint64_t max_bytes) override {
        return with_sftp<std::string>([&](sftp_session sftp) -> core::Result<std::string> {
            detail::SftpFilePtr f(sftp_open(sftp, remote.c_str(), O_RDONLY, 0));
            if (!f) {
                return fail(m_conn->sftp_error("reading", remote));
            }
            std::string out;
            std::array<char, k_sftp_chunk> buf{};
            for (;;) {
                ssize_t n = sftp_read(f.get(), buf.data(), buf.size());
                if (n < 0) {
                    return fail(m_conn->sftp_error("reading", remote));
                }
                if (n == 0) {
                    return out;
                }
                out.append(buf.data(), static_cast<std::size_t>(n));
                if (out.size() > max_bytes) {
                    return fail(ErrorCode::invalid_input,
                                fmt::format("{} on host {} is larger than {} bytes",
                                            remote,
                                            m_conn->target().name,
                                            max_bytes));
                }
            }
        });
    }

    core::Result<std::vector<std::string>> list_dir(const std::string& remote) override {
        return with_sftp<std::vector<std::string>>(
            [&](sftp_session sftp) -> core::Result<std::vector<std::string>> {
                detail::SftpDirPtr dir(sftp_opendir(sftp, remote.c_str()));
                if (!dir) {
                    return fail(m_conn->sftp_error("listing", remote));
                }
                std::vector<std::string> names;
                for (;;) {
                    detail::SftpAttrPtr a(sftp_readdir(sftp, dir.get()));
                    if (!a) {
                        break;
                    }
                    std::string name = a->name != nullptr ? a->name : "";
                    if (name != "." && name != ".." && !name.empty()) {
                        names.push_back(std::move(name));
                    }
                }
                if (sftp_dir_eof(dir.get()) == 0) {
                    return fail(m_conn->sftp_error("listing", remote));
                }
                std::sort(names.begin(), names.end());
                return names;
            });
    }

    core::Result<std::vector<DirEntry>> list_dir_info(const std::string& remote) override {
        return with_sftp<std::vector<DirEntry>>(
            [&](sftp_session sftp) -> core::Result<std::vector<DirEntry>> {
                detail::SftpDirPtr dir(sftp_opendir(sftp, remote.c_str()));
                if (!dir) {
                    return fail(m_conn->sftp_error("listing", remote));
                }
                std::vector<DirEntry> entries;
                for (;;) {
                    detail::SftpAttrPtr a(sftp_readdir(sftp, dir.get()));
                    if (!a) {
                        break;
                    }
                    std::string name = a->name != nullptr ? a->name : "";
                    if (name == "." || name == ".." || name.empty()) {
                        continue;
                    }
                    DirEntry e{std::move(name), {}};
                    e.info.size = a->size;
                    e.info.mtime = static_cast<std::int64_t>(a->mtime);
                    e.info.is_dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
                    entries.push_back(std::move(e));
                }
                if (sftp_dir_eof(dir.get()) == 0) {
                    return fail(m_conn->sftp_error("listing", remote));
                }
                std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
                    return a.name < b.name;
                });
                return entries;
            });
    }

    core::Status replace_file(const std::string& from, const std::string& to) override {
        // Not retried after a reconnect: a rename that went through before the connection
        // dropped would be reported as not_found the second time.
        std::lock_guard lock(m_conn->mutex());
        return detail::sftp_replace(*m_conn, from, to);
    }

    core::Result<std::optional<std::uint64_t>> free_bytes(const std::string& path) override {
        std::lock_guard lock(m_conn->mutex());
        return detail::sftp_free_bytes(*m_conn, path);
    }

    core::Status set_mtime(const std::string& path, std::int64_t seconds) override {
        auto r = with_sftp<bool>([&](sftp_session sftp) -> core::Result<bool> {
            std::array<struct timeval, 2> times{};
            times[0].tv_sec = static_cast<time_t>(seconds);
            times[1].tv_sec = static_cast<time_t>(seconds);
            if (sftp_utimes(sftp, path.c_str(), times.data()) != SSH_OK) {
                return fail(m_conn->sftp_error("setting the time of", path));
            }
            return true;
        });
        if (!r) {
            return fail(std::move(r).error());
        }
        return {};
    }

private:
    static bool is_dir(sftp_session sftp, const std::string& path) {
        detail::SftpAttrPtr a(sftp_stat(sftp, path.c_str()));
        return a && a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    }

    // Runs an SFTP operation with the lock held; when the connection turns out to be dead, it
    // reconnects (with backoff) and runs it once more: these operations are idempotent.
    template <class T, class F>
    core::Result<T> with_sftp(F&& op) {
        std::lock_guard<std::mutex> lk(m_conn->mutex());
        for (int attempt = 0;; ++attempt) {
            COSMOS_TRY(sftp_session sftp, m_conn->sftp());
            core::Result<T> r = op(sftp);
            if (r || attempt > 0 || !m_conn->lost()) {
                return r;
            }
        }
    }

    using Sink = std::function<void(int stream, const char* data, std::size_t n)>;

    // Starts argv on a new exec channel (reconnecting first when needed; a command whose start
    // may have reached the host is never re-run), feeds stdin, and calls `sink` with its
    // output until it ends, `deadline` passes (timeout) or `stop` is set (interrupted).
    // `flush` runs without the lock after each batch of output.
    core::Result<int> execute(const std::vector<std::string>& argv,
                              const std::string& stdin_data,
                              Clock::time_point deadline,
                              const std::atomic<bool>* stop,
                              const Sink& sink,
                              const std::function<void()>& flush) {
        if (argv.empty()) {
            return fail(ErrorCode::internal, "ssh: empty argv");
        }
        const std::string command = core::shell_join(argv);
        const auto& t = m_conn->target();
        std::unique_lock<std::mutex> lk(m_conn->mutex());
        Exec exec;
        for (int attempt = 0;; ++attempt) {
            auto ch = m_conn->open_channel();
            if (ch) {
                exec.channel = std::move(*ch);
                break;
            }
            // Nothing was started yet: a dead session is reopened and the open retried.
            if (attempt > 0 || !m_conn->lost()) {
                return fail(std::move(ch).error());
            }
        }
        ssh_channel ch = exec.channel->get();
        ssh_set_channel_callbacks(ch, &exec.callbacks);
        auto lost = [&](std::string_view when) {
            return core::make_error(
                ErrorCode::host_unreachable,
                fmt::format("lost the connection to host {} {} `{}` (not re-run: it may have run "
                            "in part): {}",
                            detail::host_label(t),
                            when,
                            short_command(argv),
                            ssh_get_error(exec.channel->session())),
                "the host or the network went away; check the host, then retry");
        };
        if (ssh_channel_request_exec(ch, command.c_str()) != SSH_OK) {
            if (!exec.channel->session_alive()) {
                return fail(lost("while starting"));
            }
            return fail(ErrorCode::remote_failed,
                        fmt::format("host {} refused to run `{}`: {}",
                                    t.name,
                                    short_command(argv),
                                    ssh_get_error(exec.channel->session())));
        }
        if (!stdin_data.empty()) {
            std::size_t at = 0;
            while (at < stdin_data.size()) {
                auto n = static_cast<std::uint32_t>(
                    std::min<std::size_t>(stdin_data.size() - at, k_channel_chunk));
                int w = ssh_channel_write(ch, stdin_data.data() + at, n);
                if (w <= 0) {
                    if (!exec.channel->session_alive()) {
                        return fail(lost("while feeding the stdin of"));
                    }
                    break;  // the command closed its stdin: the rest is not wanted
                }
                at += static_cast<std::size_t>(w);
                drain(ch, sink);  // keep its output flowing while stdin is fed
            }
        }
        ssh_channel_send_eof(ch);

        for (;;) {
            bool got = false;
            auto r = drain(ch, sink);
            if (r < 0) {
                if (!exec.channel->session_alive()) {
                    return fail(lost("while running"));
                }
                return fail(
                    m_conn->error(fmt::format("reading the output of `{}`", short_command(argv))));
            }
            got = r > 0;
            if (!got && (ssh_channel_is_eof(ch) != 0 || ssh_channel_is_closed(ch) != 0)) {
                break;
            }
            if (stop != nullptr && stop->load()) {
                ssh_channel_close(ch);
                exec.channel.reset();
                lk.unlock();
                if (flush) {
                    flush();
                }
                return fail(
                    ErrorCode::interrupted,
                    fmt::format("stopped reading `{}` on host {}", short_command(argv), t.name));
            }
            if (Clock::now() >= deadline) {
                ssh_channel_close(ch);
                return fail(
                    ErrorCode::timeout,
                    fmt::format(
                        "`{}` on host {} did not finish in time", short_command(argv), t.name),
                    "the command keeps running on the host if it ignores a closed pipe");
            }
            if (!got) {
                // Wait for data on either stream (or EOF), at most 20 ms, WITHOUT the
                // connection's lock: many channels share one connection (a watcher follows
                // each running job's log for hours), and a wait under the lock would delay every
                // other command on the host by up to the wait at each of its steps. Readiness
                // of the socket is only looked at here; packets are processed under the lock.
                socket_t fd = ssh_get_fd(exec.channel->session());
                lk.unlock();
                if (flush) {
                    flush();
                }
                if (fd != SSH_INVALID_SOCKET) {
                    pollfd p{fd, POLLIN, 0};
                    (void)::poll(&p, 1, 20);
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
                lk.lock();
                if (wait_readable(exec.channel->session(), 0) == SSH_ERROR &&
                    !exec.channel->session_alive()) {
                    return fail(lost("while running"));
                }
                m_conn->touch();
                continue;
            }
            m_conn->touch();
            // Let other channels of this connection run, and hand lines over without the lock.
            lk.unlock();
            if (flush) {
                flush();
            }
            std::this_thread::yield();
            lk.lock();
        }
        int status = ssh_channel_get_exit_status(ch);
        m_conn->touch();
        if (status < 0) {
            status = exec.signal > 0 ? 128 + exec.signal : 255;
        }
        return status;
    }

    // Waits until the session's socket has something to read (any channel, either stream) or
    // `ms` pass; the packets that arrive are processed into their channels' buffers.
    static int wait_readable(ssh_session session, int ms) {
        ssh_event ev = ssh_event_new();
        if (ev == nullptr) {
            return SSH_ERROR;
        }
        int rc = ssh_event_add_session(ev, session);
        if (rc == SSH_OK) {
            rc = ssh_event_dopoll(ev, ms);
            ssh_event_remove_session(ev, session);
        }
        ssh_event_free(ev);
        return rc;
    }

    // Reads whatever stdout and stderr hold; returns the bytes read, or -1 on error.
    static long drain(ssh_channel ch, const Sink& sink) {
        std::array<char, k_channel_chunk> buf{};
        long total = 0;
        for (int stream = 0; stream < 2; ++stream) {
            for (;;) {
                int n = ssh_channel_read_nonblocking(ch, buf.data(), buf.size(), stream);
                if (n == SSH_ERROR) {
                    return -1;
                }
                if (n <= 0) {
                    break;
                }
                sink(stream, buf.data(), static_cast<std::size_t>(n));
                total += n;
            }
        }
        return total;
    }

    std::shared_ptr<Connection> m_conn;
    std::shared_ptr<CommandServer> m_server;
};

// A pooled connection and its command server, shared by every shell on one target.
struct Pooled {
    std::weak_ptr<Connection> conn;
    std::weak_ptr<CommandServer> server;
};

}  // namespace

std::shared_ptr<Shell> ssh_shell(const SshTarget& target) {
    static std::mutex pool_mutex;
    static std::map<std::string, Pooled> pool;
    std::string key = fmt::format("{}@{}:{}", target.user, target.address, target.port);
    std::lock_guard<std::mutex> lk(pool_mutex);
    auto& slot = pool[key];
    auto conn = slot.conn.lock();
    auto server = slot.server.lock();
    if (!conn) {
        conn = std::make_shared<Connection>(target);
        slot.conn = conn;
        server.reset();
    }
    if (!server) {
        server = std::make_shared<CommandServer>(conn);
        slot.server = server;
    }
    return std::make_shared<SshShell>(std::move(conn), std::move(server));
}

}  // namespace cosmos::transport
