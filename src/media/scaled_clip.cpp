#include "media/scaled_clip.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "media/video_reader.hpp"
#include "media/video_writer.hpp"

namespace cosmos::media {

core::Result<std::int64_t> write_scaled_clip(const std::filesystem::path& source,
                                             const std::filesystem::path& dest,
                                             const ClipOptions& options) {
    if (options.width <= 0 || options.height <= 0 || options.width % 2 != 0 ||
        options.height % 2 != 0 || options.max_frames <= 0) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("invalid clip size {}x{} ({} frames): sizes must be even "
                                      "and positive",
                                      options.width,
                                      options.height,
                                      options.max_frames));
    }
    VideoReader reader;
    if (auto s = reader.open(source, {options.width, options.height}); !s) {
        return core::fail(std::move(s).error());
    }
    WriterOptions w;
    w.width = options.width;
    w.height = options.height;
    w.fps = std::max(1, static_cast<int>(std::lround(reader.fps())));
    w.preset = "ultrafast";
    VideoWriter writer;
    Frame frame;
    std::int64_t written = 0;
    while (written < options.max_frames) {
        COSMOS_TRY(bool got, reader.read_frame(frame));
        if (!got) {
            break;
        }
        if (written == 0) {
            if (auto s = writer.open(dest, w); !s) {
                return core::fail(std::move(s).error());
            }
        }
        if (auto s = writer.write_frame(frame); !s) {
            return core::fail(std::move(s).error());
        }
        ++written;
    }
    if (written == 0) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("{} has no frames", source.string()));
    }
    if (auto s = writer.finish(); !s) {
        return core::fail(std::move(s).error());
    }
    return written;
}

}  // namespace cosmos::media
