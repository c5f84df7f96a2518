#pragma once
// Internal to media/: readable text for libav error codes and libav's global log level (keeps
// libav headers out of headers).

#include <string>

namespace cosmos::media {

// Returns av_strerror's text for `code` (a negative AVERROR value).
std::string av_error_text(int code);

// Sends libav's log lines to cosmos's debug log instead of stderr (one clear error); idempotent.
void quiet_libav_logging();

}  // namespace cosmos::media
