#include "core/error.hpp"

namespace cosmos::core {

std::string_view error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_input:
            return "invalid_input";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::conflict:
            return "conflict";
        case ErrorCode::config:
            return "config";
        case ErrorCode::host_unreachable:
            return "host_unreachable";
        case ErrorCode::auth_failed:
            return "auth_failed";
        case ErrorCode::timeout:
            return "timeout";
        case ErrorCode::remote_failed:
            return "remote_failed";
        case ErrorCode::interrupted:
            return "interrupted";
        case ErrorCode::io:
            return "io";
        case ErrorCode::internal:
            return "internal";
    }
    return "internal";
}

int exit_code_for(ErrorCode code) {
    // Keep in sync with docs/errors.md. 2 is reserved for command-line usage errors (CLI11).
    switch (code) {
        case ErrorCode::invalid_input:
            return 3;
        case ErrorCode::not_found:
            return 4;
        case ErrorCode::conflict:
            return 5;
        case ErrorCode::config:
            return 6;
        case ErrorCode::host_unreachable:
            return 7;
        case ErrorCode::auth_failed:
            return 8;
        case ErrorCode::timeout:
            return 9;
        case ErrorCode::remote_failed:
            return 10;
        case ErrorCode::io:
            return 11;
        case ErrorCode::interrupted:
            return 130;
        case ErrorCode::internal:
            return 70;
    }
    return 70;
}

}  // namespace cosmos::core
