// Render-sequence fixtures for media tests (see media_fixtures.hpp).

#include "support/media_fixtures.hpp"

#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "media/image_file.hpp"
#include "media/video_writer.hpp"

namespace cosmos::test {

namespace {

bool in_square(int width, int height, int i, int x, int y) {
    int side = height / 3;
    int x0 = (i * 3) % std::max(1, width - side);
    int y0 = height / 3;
    return x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
}

void check(const core::Status& s) {
    if (!s) {
        throw std::runtime_error(s.error().message);
    }
}

}  // namespace

media::Frame scene_frame(int width, int height, int i) {
    media::Frame f = media::make_frame(width, height);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::size_t k = (static_cast<std::size_t>(y) * width + x) * 3;
            if (in_square(width, height, i, x, y)) {
                f.rgb[k] = 250;  // bright: a luma edge against the background
                f.rgb[k + 1] = 230;
                f.rgb[k + 2] = 60;
            } else {
                f.rgb[k] = static_cast<std::uint8_t>(x * 255 / std::max(1, width - 1));
                f.rgb[k + 1] = static_cast<std::uint8_t>(y * 255 / std::max(1, height - 1));
                f.rgb[k + 2] = 128;
            }
        }
    }
    return f;
}

media::Frame label_frame(int width, int height, int i) {
    media::Frame f = media::make_frame(width, height);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::size_t k = (static_cast<std::size_t>(y) * width + x) * 3;
            bool sq = in_square(width, height, i, x, y);
            f.rgb[k] = sq ? 220 : 70;
            f.rgb[k + 1] = sq ? 20 : 130;
            f.rgb[k + 2] = sq ? 60 : 180;
        }
    }
    return f;
}

void write_sequence(const std::filesystem::path& dir,
                    const std::string& prefix,
                    const std::string& kind,
                    int width,
                    int height,
                    int first,
                    int count,
                    int digits) {
    std::filesystem::create_directories(dir);
    for (int n = first; n < first + count; ++n) {
        int i = n - first;
        auto path = dir / fmt::format("{}{:0{}}.png", prefix, n, digits);
        if (kind == "depth16") {
            std::vector<std::uint16_t> v(static_cast<std::size_t>(width) * height);
            for (int y = 0; y < height; ++y) {
                for (int x = 0; x < width; ++x) {
                    // distance in mm: the square at 1000, the background from 2000 to 10000
                    v[static_cast<std::size_t>(y) * width + x] =
                        in_square(width, height, i, x, y)
                            ? 1000
                            : static_cast<std::uint16_t>(2000 + 8000 * y / std::max(1, height - 1));
                }
            }
            check(media::write_png_gray16(path, width, height, v));
        } else if (kind == "seg") {
            check(media::write_png(path, label_frame(width, height, i)));
        } else {
            check(media::write_png(path, scene_frame(width, height, i)));
        }
    }
}

void write_scene_video(
    const std::filesystem::path& path, int width, int height, int frames, int fps) {
    media::VideoWriter w;
    media::WriterOptions o;
    o.width = width;
    o.height = height;
    o.fps = fps;
    o.preset = "ultrafast";
    check(w.open(path, o));
    for (int i = 0; i < frames; ++i) {
        check(w.write_frame(scene_frame(width, height, i)));
    }
    check(w.finish());
}

}  // namespace cosmos::test
