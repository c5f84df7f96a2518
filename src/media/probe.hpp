#pragma once
// Facts about a video file, read with libavformat/libavcodec.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace cosmos::media {

struct VideoInfo {
    int width = 0;
    int height = 0;
    std::int64_t frames = 0;  // exact count (stream nb_frames, or counted packets when absent)
    double fps = 0;           // average frame rate
    double duration_s = 0;
    std::string codec;         // e.g. "h264"
    std::string pixel_format;  // e.g. "yuv420p"
};

// Returns the first video stream's facts. Fails with not_found when the file is missing and
// invalid_input (naming the file) when it is not a readable video.
core::Result<VideoInfo> probe_video(const std::filesystem::path& path);

}  // namespace cosmos::media
