#pragma once
// The emulated model's output: a real H.264 mp4 derived from the input (or first control) video,
// resized to the model's output size, with a colour grade that depends on the seed.

#include <cstdint>
#include <filesystem>
#include <utility>

#include "core/result.hpp"

namespace cosmos::emulator {

struct OutputSize {
    int width = 1280;
    int height = 704;
};

// The model's output size for a source of `width` x `height`: whichever of 1280x704, 704x1280,
// 960x960, 960x704 and 704x960 has the closest aspect ratio.
OutputSize snap_output_size(int width, int height);

struct OutputRequest {
    std::filesystem::path source;  // video the frames come from
    std::int64_t frames = 0;       // frames to write (source frames beyond are dropped)
    OutputSize size;
    int fps = 24;
    std::int64_t seed = 1;
    std::filesystem::path output;  // the .mp4 to write
};

// Writes the output video. Fails with a Python RuntimeError when the source can't be decoded or
// the output can't be written, interrupted_by() on SIGINT / SIGTERM.
core::Status write_output_video(const OutputRequest& request);

}  // namespace cosmos::emulator
