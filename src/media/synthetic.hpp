#pragma once
// Synthetic videos for the demo and tests: a moving scene and its matching control passes.

#include <filesystem>

#include "core/result.hpp"

namespace cosmos::media {

enum class SyntheticPass { color, depth, segmentation, edge };

struct SyntheticVideo {
    SyntheticPass pass = SyntheticPass::color;
    int width = 640;
    int height = 352;
    int frames = 121;
    int fps = 24;
};

// Writes an H.264 mp4 (yuv420p) of the same moving scene rendered as `spec.pass`: colour
// shading, depth as 8-bit gray with near = bright, flat label colours, or white edges on black.
core::Status write_synthetic_video(const std::filesystem::path& path, const SyntheticVideo& spec);

}  // namespace cosmos::media
