#pragma once
// Frame interpolation through libavfilter: motion-compensated (`minterpolate`, mi_mode=mci)
// or linear blending (`framerate`), with an optional temporal smoothing pass (`tmix`).
// Factor k turns N frames into k*(N-1)+1: every source frame is kept and k-1 new frames are
// made between each pair; the frame rate is multiplied by k, so the duration is unchanged.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/result.hpp"

namespace cosmos::media {

enum class InterpolationMethod { blend, mci };

struct InterpolateOptions {
    int factor = 2;  // 2 or 4
    InterpolationMethod method = InterpolationMethod::mci;
    bool smooth = false;  // a 3-frame [1 2 1] temporal blur after interpolation
    int crf = 18;
    std::string preset = "veryfast";
    std::function<void(std::int64_t, std::int64_t)> progress;  // (frames read, total)
    const std::atomic<bool>* cancel = nullptr;
};

struct InterpolateResult {
    std::int64_t input_frames = 0;
    std::int64_t output_frames = 0;
    double input_fps = 0;
    int output_fps = 0;
};

// Returns the libavfilter description used for `options` at `fps` input frames per second.
std::string interpolation_filter(const InterpolateOptions& options, int fps);

// Interpolates `in` into `out` (H.264 mp4). Fails with invalid_input for a factor other than
// 2 or 4, a video of fewer than 2 frames, or an unreadable input; io when writing fails.
core::Result<InterpolateResult> interpolate_video(const std::filesystem::path& in,
                                                  const std::filesystem::path& out,
                                                  const InterpolateOptions& options);

}  // namespace cosmos::media
