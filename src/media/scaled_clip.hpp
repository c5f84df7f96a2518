#pragma once
// A short, smaller copy of the start of a video: what the prompt upsampler (enhance runs) is
// handed, since Pixtral only looks at the first two frames and refuses frames above about 497k
// pixels (model::upsampler_frame_size computes the size).

#include <cstdint>
#include <filesystem>

#include "core/result.hpp"

namespace cosmos::media {

struct ClipOptions {
    int width = 0;       // even, > 0
    int height = 0;      // even, > 0
    int max_frames = 2;  // frames copied from the start (fewer when the video is shorter)
};

// Writes the first `options.max_frames` frames of `source`, resized to width x height, as an
// H.264 mp4 at `dest` (same frame rate, rounded, at least 1); returns the frames written. Fails
// with not_found / invalid_input as VideoReader::open (and for an empty video or a bad size), io
// as VideoWriter.
core::Result<std::int64_t> write_scaled_clip(const std::filesystem::path& source,
                                             const std::filesystem::path& dest,
                                             const ClipOptions& options);

}  // namespace cosmos::media
