#pragma once
// How the emulated script fails, carried in core::Error so every step returns core::Result:
//   invalid_input  argparse usage error; message is the text after "transfer.py: error: " (exit 2)
//   remote_failed  a Python exception; message is "Type: text", hint the call chain (exit 1)
//   interrupted    SIGINT / SIGTERM; message "SIGINT" or "SIGTERM" (exit 130 / 143)

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::emulator {

// A Python exception of `type` ("ValueError") raised at the end of the call chain `where`.
core::Unexpected raise_py(std::string_view type,
                          std::string_view message,
                          std::string_view where = "demo");

// An argparse error ("argument --num_steps: invalid int value: 'x'").
core::Unexpected usage_error(std::string message);

// "FileNotFoundError: [Errno 2] No such file or directory: '<path>'" raised in `where`.
core::Unexpected file_not_found(std::string_view path, std::string_view where = "demo");

// The process got SIGINT or SIGTERM.
core::Unexpected interrupted_by(int signal);

// The exit status a failure ends the emulated script with (2, 1, 130 or 143).
int exit_code_of(const core::Error& error);

}  // namespace cosmos::emulator
