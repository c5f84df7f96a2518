#pragma once
// Long videos: split a video into overlapping windows (one model chunk of 121 frames each by
// default) and stitch the windows' outputs back into one video, cross-fading linearly over
// each overlap so a seam spreads over the overlap instead of landing on one frame.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::media {

// Frames of one model chunk (docs/models/transfer1.md: chunks of 121 frames).
inline constexpr std::int64_t k_model_window = 121;

struct Window {
    std::int64_t start = 0;                              // first frame (0-based) in the long video
    std::int64_t frames = 0;                             // frame count
    std::int64_t end() const { return start + frames; }  // one past the last frame
};

// Plans windows of `window` frames over `total`, each overlapping the previous by `overlap`
// frames (window i starts at i * (window - overlap)); the last one ends on the last frame and
// may be shorter (it still holds more than `overlap` frames). One window when total <= window.
// Fails with invalid_input when overlap > window / 2 (a frame would fall in three windows),
// window < 2 or total < 1.
core::Result<std::vector<Window>> plan_windows(std::int64_t total,
                                               std::int64_t window,
                                               std::int64_t overlap);

// Windows for parts stitched without a plan: part i has frames[i] frames and overlaps the
// previous part by `overlap`.
core::Result<std::vector<Window>> windows_from_parts(const std::vector<std::int64_t>& frames,
                                                     std::int64_t overlap);

struct SplitOptions {
    int crf = 18;
    std::string preset = "veryfast";
    int fps = 0;  // 0: the input's (rounded)
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

// Decodes `in` once and writes window i to outputs[i]. Fails with invalid_input when the
// windows reach past the video's end or the counts differ.
core::Status split_video(const std::filesystem::path& in,
                         const std::vector<Window>& windows,
                         const std::vector<std::filesystem::path>& outputs,
                         const SplitOptions& options);

struct StitchOptions {
    int crf = 18;
    std::string preset = "veryfast";
    int fps = 0;  // 0: the first part's (rounded)
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

// Writes `out` with windows.back().end() frames: frames covered by one window are copied from
// its part; in an overlap of L frames, the j-th (0-based) is (1-a)*previous + a*next with
// a = (j+1)/(L+1). Parts must share one size and hold at least their window's frames (extra
// frames at a part's end, e.g. a model padding a short window to 121, are ignored). Fails
// with invalid_input naming the part that does not fit.
core::Status stitch_videos(const std::vector<std::filesystem::path>& parts,
                           const std::vector<Window>& windows,
                           const std::filesystem::path& out,
                           const StitchOptions& options);

}  // namespace cosmos::media
