#include "transport/ssh_command_server.hpp"

#include <array>
#include <thread>

#include <poll.h>

#include <fmt/format.h>

#include "core/embedded_scripts.hpp"
#include "core/log.hpp"
#include "core/shell_quote.hpp"

namespace cosmos::transport::detail {

using core::ErrorCode;
using core::fail;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t k_read_chunk = std::size_t{64} << 10;
// A server that would not start is not tried again for this long (exec channels still work).
constexpr auto k_retry_pause = std::chrono::minutes(5);
// How long a start may take (the login shell's rc files run once here).
constexpr auto k_start_budget = std::chrono::seconds(30);
// Largest output a command may send back through the server.
constexpr std::size_t k_max_output = std::size_t{256} << 20;

// Processes what arrived on the session without waiting (a closed connection shows here).
void poll_now(ssh_session session) {
    ssh_event ev = ssh_event_new();
    if (ev == nullptr) {
        return;
    }
    if (ssh_event_add_session(ev, session) == SSH_OK) {
        // An error shows as a dead session, which the callers check.
        [[maybe_unused]] int rc = ssh_event_dopoll(ev, 0);
        ssh_event_remove_session(ev, session);
    }
    ssh_event_free(ev);
}

}  // namespace

std::string server_command_line(const std::vector<std::string>& argv) {
    std::string joined = core::shell_join(argv);
    std::string line;
    line.reserve(joined.size());
    for (char c : joined) {
        if (c == '\n') {
            line += "'\"$nl\"'";  // inside a single-quoted word: close, the newline, reopen
        } else {
            line += c;
        }
    }
    return line;
}

std::optional<CommandHeader> parse_command_header(const std::string& line, std::size_t max_bytes) {
    CommandHeader h;
    if (std::sscanf(
            line.c_str(), "cosmos-cmd %d %zu %zu", &h.exit_code, &h.out_bytes, &h.err_bytes) != 3 ||
        h.out_bytes > max_bytes || h.err_bytes > max_bytes) {
        return std::nullopt;
    }
    return h;
}

CommandServer::~CommandServer() {
    std::lock_guard<std::mutex> busy(m_busy);
    std::lock_guard<std::mutex> lk(m_conn->mutex());
    drop();
}

void CommandServer::drop() {
    if (m_channel) {
        ssh_channel_close(m_channel->get());
    }
    m_channel.reset();
    m_buf.clear();
}

core::Status CommandServer::fill(std::unique_lock<std::mutex>& conn_lock,
                                 std::size_t want,
                                 Clock::time_point deadline) {
    std::array<char, k_read_chunk> buf{};
    while (m_buf.size() < want) {
        ssh_channel ch = m_channel->get();
        int n = ssh_channel_read_nonblocking(ch, buf.data(), buf.size(), 0);
        if (n == SSH_ERROR) {
            return fail(ErrorCode::host_unreachable, "the command server's channel failed");
        }
        // The server's own stderr (an rc file's noise) is read and dropped.
        std::array<char, 4096> err{};
        while (ssh_channel_read_nonblocking(ch, err.data(), err.size(), 1) > 0) {
        }
        if (n > 0) {
            m_buf.append(buf.data(), static_cast<std::size_t>(n));
            m_conn->touch();
            continue;
        }
        if (ssh_channel_is_eof(ch) != 0 || ssh_channel_is_closed(ch) != 0 ||
            !m_channel->session_alive()) {
            return fail(ErrorCode::host_unreachable, "the command server ended");
        }
        if (Clock::now() >= deadline) {
            return fail(ErrorCode::timeout, "the command did not finish in time");
        }
        // Wait for the socket without the connection's lock (other channels share it).
        socket_t fd = ssh_get_fd(m_channel->session());
        conn_lock.unlock();
        if (fd != SSH_INVALID_SOCKET) {
            pollfd p{fd, POLLIN, 0};
            (void)::poll(&p, 1, 20);
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        conn_lock.lock();
        poll_now(m_channel->session());  // what arrived, into the channels' buffers
    }
    return {};
}

core::Result<std::string> CommandServer::read_line(std::unique_lock<std::mutex>& conn_lock,
                                                   Clock::time_point deadline) {
    for (;;) {
        if (auto nl = m_buf.find('\n'); nl != std::string::npos) {
            std::string line = m_buf.substr(0, nl);
            m_buf.erase(0, nl + 1);
            return line;
        }
        if (m_buf.size() > 64 * 1024) {
            return fail(ErrorCode::remote_failed, "the command server sent a line too long");
        }
        COSMOS_CHECK(fill(conn_lock, m_buf.size() + 1, deadline));
    }
}

bool CommandServer::ensure_started(std::unique_lock<std::mutex>& conn_lock,
                                   Clock::time_point deadline) {
    if (m_channel) {
        // A server on a connection that died (the host rebooted, sshd restarted) takes no
        // command: it is dropped before anything is sent, and the exec path reconnects.
        poll_now(m_channel->session());
        ssh_channel ch = m_channel->get();
        if (m_channel->session_alive() && ssh_channel_is_eof(ch) == 0 &&
            ssh_channel_is_closed(ch) == 0) {
            return true;
        }
        drop();
        return false;
    }
    if (Clock::now() < m_retry_after) {
        return false;
    }
    m_retry_after = Clock::now() + k_retry_pause;  // cleared below once it runs
    auto ch = m_conn->open_channel();
    if (!ch) {
        return false;
    }
    m_channel = std::move(*ch);
    std::string command =
        core::shell_join({"sh", "-c", std::string(scripts::k_command_server), "cosmos-cmd"});
    if (ssh_channel_request_exec(m_channel->get(), command.c_str()) != SSH_OK) {
        drop();
        return false;
    }
    auto start_deadline = std::min(deadline, Clock::now() + k_start_budget);
    for (;;) {  // an rc file may print before the server does
        auto line = read_line(conn_lock, start_deadline);
        if (!line) {
            core::log(core::LogLevel::debug,
                      "{}: no command server ({}); commands use their own sessions",
                      m_conn->describe(),
                      line.error().message);
            drop();
            return false;
        }
        if (*line == "cosmos-cmd-ready") {
            m_retry_after = {};
            return true;
        }
    }
}

std::optional<core::Result<CommandResult>> CommandServer::run(const std::vector<std::string>& argv,
                                                              Clock::time_point deadline) {
    std::unique_lock<std::mutex> busy(m_busy, std::try_to_lock);
    if (!busy.owns_lock()) {
        return std::nullopt;
    }
    std::unique_lock<std::mutex> lk(m_conn->mutex());
    if (!ensure_started(lk, deadline)) {
        return std::nullopt;
    }
    std::string line = server_command_line(argv) + "\n";
    std::size_t at = 0;
    while (at < line.size()) {
        int w = ssh_channel_write(
            m_channel->get(), line.data() + at, static_cast<std::uint32_t>(line.size() - at));
        if (w <= 0) {
            // Nothing of it ran unless all of it arrived: an exec channel can take it.
            drop();
            if (at == 0) {
                return std::nullopt;
            }
            return core::Result<CommandResult>(fail(
                ErrorCode::host_unreachable, "lost the command server while sending a command"));
        }
        at += static_cast<std::size_t>(w);
    }
    auto failed = [&](const core::Error& e) {
        drop();
        return std::optional<core::Result<CommandResult>>(core::Result<CommandResult>(
            fail(e.code,
                 fmt::format("{} on host {} (`{}`; it may have run)",
                             e.message,
                             m_conn->target().name,
                             core::shell_join(argv).substr(0, 80)),
                 e.code == ErrorCode::timeout
                     ? "the command keeps running on the host if it ignores a closed pipe"
                     : "the host or the network went away; check the host, then retry")));
    };
    // No acknowledgement: the server never started the command (the connection died under
    // it, as when sshd restarted): an exec channel, which reconnects, runs it instead.
    auto ack = read_line(lk, deadline);
    if (!ack && ack.error().code == ErrorCode::host_unreachable) {
        drop();
        return std::nullopt;
    }
    if (!ack || *ack != "cosmos-cmd-run") {
        return failed(ack ? core::Error{ErrorCode::remote_failed,
                                        "the command server answered '" + ack->substr(0, 80) + "'",
                                        {}}
                          : ack.error());
    }
    auto header = read_line(lk, deadline);
    if (!header) {
        return failed(header.error());
    }
    auto sizes = parse_command_header(*header, k_max_output);
    if (!sizes) {
        return failed(core::Error{ErrorCode::remote_failed,
                                  "the command server answered '" + header->substr(0, 80) + "'",
                                  {}});
    }
    auto [rc, out_bytes, err_bytes] = *sizes;
    if (auto s = fill(lk, out_bytes + err_bytes, deadline); !s) {
        return failed(s.error());
    }
    CommandResult result;
    result.exit_code = rc;
    result.out = m_buf.substr(0, out_bytes);
    result.err = m_buf.substr(out_bytes, err_bytes);
    m_buf.erase(0, out_bytes + err_bytes);
    return core::Result<CommandResult>(std::move(result));
}

}  // namespace cosmos::transport::detail
