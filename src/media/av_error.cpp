#include "media/av_error.hpp"

#include <array>
#include <mutex>

#include "media/av_lazy.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace cosmos::media {

std::string av_error_text(int code) {
    std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
    if (av::av_strerror(code, buf.data(), buf.size()) < 0) {
        return "libav error " + std::to_string(code);
    }
    return buf.data();
}

void quiet_libav_logging() {
    static std::once_flag once;
    std::call_once(once, [] { av::av_log_set_level(AV_LOG_ERROR); });
}

}  // namespace cosmos::media
