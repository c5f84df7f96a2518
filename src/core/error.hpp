#pragma once
// Error values returned across I/O boundaries (see result.hpp), grouped by cause so the CLI
// can map them to documented exit codes (docs/errors.md) and the HTTP layer to status codes.

#include <string>
#include <string_view>

namespace cosmos::core {

enum class ErrorCode {
    invalid_input,     // the user gave something we refuse (bad flag value, bad file, bad name)
    not_found,         // an id, file or host that does not exist
    conflict,          // the object exists / is in a state that forbids the operation
    config,            // the configuration file is malformed or inconsistent
    host_unreachable,  // network / host is down
    auth_failed,       // ssh authentication or host-key refusal
    timeout,           // an operation ran past its deadline
    remote_failed,     // the model or a remote command failed
    interrupted,       // Ctrl-C / SIGTERM
    io,                // local file system or database failure
    internal,          // a bug
};

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;  // one line: what failed, with the object's id
    std::string hint;     // optional: what the user can do about it
};

// Returns the stable snake_case name of `code` ("invalid_input").
std::string_view error_code_name(ErrorCode code);

// Returns the process exit code documented for `code` in docs/errors.md.
int exit_code_for(ErrorCode code);

inline Error make_error(ErrorCode code, std::string message, std::string hint = {}) {
    return Error{code, std::move(message), std::move(hint)};
}

}  // namespace cosmos::core
