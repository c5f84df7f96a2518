#include "server_log.hpp"

#include <ctime>
#include <string>

#include <fmt/format.h>

#include "log.hpp"

namespace cosmos::emulator {

void server_log(std::string_view level, std::string_view where, std::string_view message) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%m-%d %H:%M:%S", &tm);
    print_stdout(fmt::format("{} {} [{}] {}\n", level, stamp, where, message));
}

void uvicorn_log(std::string_view level, std::string_view message) {
    print_stderr(fmt::format("{:<10}{}\n", std::string(level) + ":", message));
}

}  // namespace cosmos::emulator
