#pragma once
// A long-lived `sh` on an SSH host that runs short commands one after another on one channel.
// sshd starts every exec channel through the user's login shell, which reads its rc files: a
// conda or pyenv init there costs 0.1-1 s per command, and a job's life is a dozen commands.
// Through the server a command costs one round trip. Commands that feed stdin, stream their
// output or run while the server is busy with another go on exec channels as before
// (ssh_shell.cpp), and so does everything when the server cannot start.
//
// Protocol (the server script is constant; src/transport/scripts/command-server.sh): the client
// writes one line per command, the argv joined by core::shell_join with each newline inside an
// argument written as '"$nl"' (so the line has none); the server answers "cosmos-cmd-run\n",
// evals it in a subshell with stdin from /dev/null, then writes
// "cosmos-cmd RC OUT_BYTES ERR_BYTES\n", the stdout bytes and the stderr bytes. A command whose
// acknowledgement never came did not run: it goes to an exec channel (a dead connection is
// reopened there), never twice.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "transport/shell.hpp"
#include "transport/ssh_connection.hpp"

namespace cosmos::transport::detail {

// The one command line the server reads for `argv`.
std::string server_command_line(const std::vector<std::string>& argv);

// The server's "cosmos-cmd RC OUT_BYTES ERR_BYTES" line; nullopt when it is not one or a size
// exceeds `max_bytes`.
struct CommandHeader {
    int exit_code = 0;
    std::size_t out_bytes = 0;
    std::size_t err_bytes = 0;
};
std::optional<CommandHeader> parse_command_header(const std::string& line, std::size_t max_bytes);

class CommandServer {
public:
    explicit CommandServer(std::shared_ptr<Connection> conn) : m_conn(std::move(conn)) {}
    ~CommandServer();
    CommandServer(const CommandServer&) = delete;
    CommandServer& operator=(const CommandServer&) = delete;

    // Runs `argv` to its end through the server. Nothing (nullopt) when the server cannot take
    // it now (busy with another command, not startable): the caller uses an exec channel. A
    // command that outlives `deadline` fails with timeout and the server is dropped (the next
    // command starts a new one); a connection lost after the command was sent fails with
    // host_unreachable (it may have run).
    std::optional<core::Result<CommandResult>> run(const std::vector<std::string>& argv,
                                                   std::chrono::steady_clock::time_point deadline);

private:
    // [both locks held] Starts the server when none runs; false when it cannot.
    bool ensure_started(std::unique_lock<std::mutex>& conn_lock,
                        std::chrono::steady_clock::time_point deadline);
    // [both locks held] Reads the server's stdout until `want` bytes are buffered, the channel
    // ends or `deadline` passes; the connection lock is released while waiting.
    core::Status fill(std::unique_lock<std::mutex>& conn_lock,
                      std::size_t want,
                      std::chrono::steady_clock::time_point deadline);
    // [both locks held] Reads one "\n"-terminated line from the server.
    core::Result<std::string> read_line(std::unique_lock<std::mutex>& conn_lock,
                                        std::chrono::steady_clock::time_point deadline);
    void drop();  // [conn lock held]

    std::shared_ptr<Connection> m_conn;
    std::mutex m_busy;  // one command at a time
    std::unique_ptr<Channel> m_channel;
    std::string m_buf;  // read from the server, not consumed yet
    // After a failed start the server is not tried again before this time (exec channels work).
    std::chrono::steady_clock::time_point m_retry_after{};
};

}  // namespace cosmos::transport::detail
