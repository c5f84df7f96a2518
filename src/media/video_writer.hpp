#pragma once
// Encodes RGB24 frames into an H.264 (libx264, yuv420p) mp4 behind a pimpl.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media {

struct WriterOptions {
    int width = 0;                    // must be even and > 0
    int height = 0;                   // must be even and > 0
    int fps = 24;                     // > 0; the stream's constant frame rate
    int crf = 18;                     // libx264 constant rate factor (0..51)
    std::string preset = "veryfast";  // libx264 preset, e.g. "ultrafast"
    std::string x264_params;          // extra libx264 options, "key=value:key=value"
    int threads = 0;                  // encoder threads; 0: one per core
    // RGB -> YUV 4:2:0 with nearest-neighbour chroma (no averaging of neighbouring colours):
    // keeps the chroma of flat label colours exact except along 1-pixel borders.
    bool point_sampling = false;
};

class VideoWriter {
public:
    VideoWriter();
    // Finishes the file if finish() was not called (errors are then lost).
    ~VideoWriter();
    VideoWriter(VideoWriter&&) noexcept;
    VideoWriter& operator=(VideoWriter&&) noexcept;
    VideoWriter(const VideoWriter&) = delete;
    VideoWriter& operator=(const VideoWriter&) = delete;

    // Creates `path` (an .mp4) and its encoder. Fails with invalid_input for odd or non-positive
    // sizes, a bad fps/crf or preset, and io when the file can't be created.
    core::Status open(const std::filesystem::path& path, const WriterOptions& options);

    // Encodes one frame; fails with invalid_input when its size differs from the options' size
    // or the writer is not open, io when writing fails.
    core::Status write_frame(const Frame& frame);

    // Flushes the encoder and writes the trailer; the writer is closed afterwards. Fails with
    // io when writing fails.
    core::Status finish();

    // The number of frames written so far.
    std::int64_t frames_written() const;  // 0 once finished

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace cosmos::media
