#pragma once
// Decodes a video file frame by frame into RGB24 (libavformat/libavcodec/libswscale behind a
// pimpl), at the source size or a requested size.

#include <filesystem>
#include <memory>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media {

struct ReadOptions {
    int width = 0;   // 0: the source width (both or neither of width/height must be set)
    int height = 0;  // 0: the source height
};

class VideoReader {
public:
    VideoReader();
    ~VideoReader();
    VideoReader(VideoReader&&) noexcept;
    VideoReader& operator=(VideoReader&&) noexcept;
    VideoReader(const VideoReader&) = delete;
    VideoReader& operator=(const VideoReader&) = delete;

    // Opens the first video stream of `path`. Fails with not_found when the file is missing,
    // invalid_input (naming the file) when it is not a decodable video or `options` asks for a
    // size <= 0 in one dimension only.
    core::Status open(const std::filesystem::path& path, ReadOptions options = {});

    // Decodes the next frame into `frame` (resized to the output size). Returns false at the end
    // of the stream; fails with invalid_input when the stream is corrupt or the reader is closed.
    core::Result<bool> read_frame(Frame& frame);

    // The size of the frames read_frame produces (0 before open).
    int width() const;
    int height() const;

    // The source's size and average frame rate (0 before open).
    int source_width() const;
    int source_height() const;
    double fps() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace cosmos::media
