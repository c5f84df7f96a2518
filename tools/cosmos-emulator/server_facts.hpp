#pragma once
// What the emulated Reasoner "sees" in a video: its probe facts, the dominant colour of its
// mean frame and the mean change between consecutive frames; and where a chat request's
// video_url points (file:// under --allowed-local-media-path, or a data: URL decoded to a
// scratch file).

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace cosmos::emulator {

struct VideoFacts {
    std::int64_t frames = 0;
    int width = 0;
    int height = 0;
    double fps = 0;
    std::string colour;  // "red", "orange", ... "gray", "black", "white"
    double change = 0;   // mean |difference| between consecutive frames, 0..255, at 64x36
};

// Fails with invalid_input when `path` is not a readable video.
core::Result<VideoFacts> analyse_video(const std::filesystem::path& path);

// The local file a video_url names. file:///abs must lie under `allowed` (after resolving
// symlinks and ".."); data:<type>;base64,<data> is decoded into `scratch` (the caller removes
// it: `temporary` is set). Fails with invalid_input saying why a URL is refused.
struct ResolvedVideo {
    std::filesystem::path path;
    bool temporary = false;
};
core::Result<ResolvedVideo> resolve_video_url(const std::string& url,
                                              const std::string& allowed,
                                              const std::filesystem::path& scratch);

// The colour name of an RGB mean.
std::string colour_name(double r, double g, double b);

}  // namespace cosmos::emulator
