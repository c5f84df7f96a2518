#pragma once
// A child process started from an argv vector (posix_spawn, no shell), in its own process group
// so that cancelling it ends the whole tree (torchrun and its workers), with stdout and stderr
// merged into one pipe read line by line, in order.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::transport {

struct ProcessSpec {
    std::vector<std::string> argv;               // argv[0] is looked up in PATH when it has no '/'
    std::map<std::string, std::string> env_add;  // added to (or replacing in) this environment
    std::string cwd;                             // empty: inherit
};

struct ProcessExit {
    int exit_code = -1;  // the exit status, or 128+signal when killed by a signal
    int signal = 0;      // the signal that ended it, 0 if it exited
    bool cancelled = false;
};

using LineSink = std::function<void(std::string_view line)>;

// Starts `spec`, calls `on_line` for every line of merged output (a '\r' also ends a line, so
// progress bars arrive as they update), and waits for it to end. When `cancel` becomes true,
// sends SIGTERM to the process group, then SIGKILL after `grace`. Fails with not_found when
// argv[0] cannot be executed (naming it) and io when the pipe fails.
core::Result<ProcessExit> run_process(const ProcessSpec& spec,
                                      const LineSink& on_line,
                                      const std::atomic<bool>* cancel = nullptr,
                                      std::chrono::milliseconds grace = std::chrono::seconds(10));

}  // namespace cosmos::transport
