#include "core/log.hpp"

#include <mutex>

#include "core/redact.hpp"

namespace cosmos::core {

namespace {
std::mutex g_log_mutex;
LogSink g_sink;
LogLevel g_min_level = LogLevel::warn;
}  // namespace

void set_log_sink(LogSink sink, LogLevel min_level) {
    std::lock_guard lock(g_log_mutex);
    g_sink = std::move(sink);
    g_min_level = min_level;
}

bool log_enabled(LogLevel level) {
    std::lock_guard lock(g_log_mutex);
    return g_sink && static_cast<int>(level) >= static_cast<int>(g_min_level);
}

void log_line(LogLevel level, std::string_view line) {
    std::string clean = redact(line);
    std::lock_guard lock(g_log_mutex);
    if (g_sink) {
        g_sink(level, clean);
    }
}

}  // namespace cosmos::core
