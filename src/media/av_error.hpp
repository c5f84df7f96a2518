#pragma once
// Internal to media/: readable text for libav error codes and libav's global log level (keeps
// libav headers out of headers).

#include <string>

namespace cosmos::media {

// Returns av_strerror's text for `code` (a negative AVERROR value).
std::string av_error_text(int code);

// Limits libav's own stderr chatter (x264 statistics, probe notes) to errors; idempotent.
void quiet_libav_logging();

}  // namespace cosmos::media
