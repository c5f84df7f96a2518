#include "media/av_error.hpp"

#include <array>
#include <cstdarg>
#include <mutex>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "media/av_lazy.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

// Used only here, for libav's log routing; looked up on first use as av_lazy.hpp's functions.
namespace cosmos::media::av {
namespace {

void av_log_set_callback(void (*callback)(void*, int, const char*, va_list)) {
    static const auto fn =
        function<decltype(&::av_log_set_callback)>(Library::avutil, "av_log_set_callback");
    fn(callback);
}

void av_log_format_line(
    void* avcl, int level, const char* format, va_list args, char* line, int size, int* prefix) {
    static const auto fn =
        function<decltype(&::av_log_format_line)>(Library::avutil, "av_log_format_line");
    fn(avcl, level, format, args, line, size, prefix);
}

}  // namespace
}  // namespace cosmos::media::av

namespace cosmos::media {

std::string av_error_text(int code) {
    std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
    if (av::av_strerror(code, buf.data(), buf.size()) < 0) {
        return "libav error " + std::to_string(code);
    }
    return buf.data();
}

namespace {

// libav's log lines (decoder complaints, x264 statistics) go to cosmos's log at debug level,
// never straight to stderr: the user sees cosmos's one-line error, `--verbose` shows the rest.
void log_to_cosmos(void* avcl, int level, const char* format, va_list args) {
    if (level > AV_LOG_WARNING || !core::log_enabled(core::LogLevel::debug)) {
        return;
    }
    std::array<char, 1024> line{};
    int print_prefix = 1;
    av::av_log_format_line(
        avcl, level, format, args, line.data(), static_cast<int>(line.size()), &print_prefix);
    std::string_view text(line.data());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (!text.empty()) {
        core::log_line(core::LogLevel::debug, "ffmpeg: " + std::string(text));
    }
}

}  // namespace

void quiet_libav_logging() {
    static std::once_flag once;
    std::call_once(once, [] {
        av::av_log_set_level(AV_LOG_WARNING);
        av::av_log_set_callback(log_to_cosmos);
    });
}

}  // namespace cosmos::media
