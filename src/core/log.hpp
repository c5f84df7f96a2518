#pragma once
// Library code logs through here, never to stdout. The program sets the sink (the CLI installs
// one writing `cosmos: LEVEL: line` to stderr); every line passes through redact().

#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace cosmos::core {

enum class LogLevel { debug, info, warn, error };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Installs the sink that receives every log line (already redacted) at or above `min_level`.
void set_log_sink(LogSink sink, LogLevel min_level);

// Returns true when a line at `level` would be delivered.
bool log_enabled(LogLevel level);

// Delivers one line to the sink after redaction.
void log_line(LogLevel level, std::string_view line);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (log_enabled(level)) {
        log_line(level, fmt::format(f, std::forward<Args>(args)...));
    }
}

// For a write whose failure must not end the work (a progress tick, a best-effort cleanup):
// logs `what` and the error as a warning instead of discarding the Result.
template <class R>
void warn_on_error(const R& result, std::string_view what) {
    if (!result.has_value()) {
        log(LogLevel::warn, "{}: {}", what, result.error().message);
    }
}

}  // namespace cosmos::core
