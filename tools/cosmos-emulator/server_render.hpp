#pragma once
// The emulated generator's output video, and its input_reference uploads: a real H.264 mp4
// with exactly the requested frames, size and fps. Text-to-video draws a scene coloured by the
// prompt; image-to-video pans the image; video-to-video resamples the input's frames in time
// and size and tints them amber, so the output follows the input's motion and colours.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "server_form.hpp"

namespace cosmos::emulator {

struct RenderRequest {
    InputReference input;
    int width = 1280;
    int height = 720;
    int num_frames = 121;
    int fps = 24;
    std::int64_t seed = 0;
    std::string prompt;
    std::filesystem::path output;  // the .mp4 to write (via a .partial.mp4 beside it)
};

// Writes the video; `cancelled` is asked before each frame (true: stops, fails with
// interrupted). Fails with io / invalid_input when the input can't be decoded or the output
// can't be written.
core::Status render_video(const RenderRequest& request, const std::function<bool()>& cancelled);

// Saves an uploaded input_reference into `dir` and probes it: an image (by content type
// image/* or an image extension) or a video. Fails with invalid_input (hint "input_reference")
// when it is neither.
core::Result<InputReference> save_input_reference(const std::filesystem::path& dir,
                                                  const std::string& filename,
                                                  const std::string& content_type,
                                                  std::string_view content);

}  // namespace cosmos::emulator
