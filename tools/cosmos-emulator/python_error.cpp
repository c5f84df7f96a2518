#include "python_error.hpp"

#include <csignal>

#include <fmt/format.h>

#include "log.hpp"

namespace cosmos::emulator {

core::Unexpected raise_py(std::string_view type, std::string_view message, std::string_view where) {
    std::string line = message.empty() ? std::string(type) : fmt::format("{}: {}", type, message);
    return core::fail(core::ErrorCode::remote_failed, std::move(line), std::string(where));
}

core::Unexpected usage_error(std::string message) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message));
}

core::Unexpected file_not_found(std::string_view path, std::string_view where) {
    return raise_py("FileNotFoundError",
                    fmt::format("[Errno 2] No such file or directory: {}", py_repr(path)),
                    where);
}

core::Unexpected interrupted_by(int signal) {
    return core::fail(core::ErrorCode::interrupted, signal == SIGINT ? "SIGINT" : "SIGTERM");
}

int exit_code_of(const core::Error& error) {
    switch (error.code) {
        case core::ErrorCode::invalid_input:
            return 2;
        case core::ErrorCode::interrupted:
            return error.message == "SIGINT" ? 130 : 143;
        default:
            return 1;
    }
}

}  // namespace cosmos::emulator
