#include "server_render.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "media/image_file.hpp"
#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

constexpr std::array<int, 3> k_tint = {255, 176, 64};  // amber, a fifth of each pixel

void tint(media::Frame& frame) {
    for (std::size_t i = 0; i < frame.rgb.size(); ++i) {
        frame.rgb[i] = static_cast<std::uint8_t>((frame.rgb[i] * 4 + k_tint[i % 3]) / 5);
    }
}

// Nearest-neighbour resize of `src` into `dst` (already sized).
void resize_into(const media::Frame& src, media::Frame& dst, int shift_x) {
    for (int y = 0; y < dst.height; ++y) {
        int sy = y * src.height / dst.height;
        for (int x = 0; x < dst.width; ++x) {
            int sx = ((x + shift_x) % dst.width) * src.width / dst.width;
            auto s = (static_cast<std::size_t>(sy) * src.width + sx) * 3;
            auto d = (static_cast<std::size_t>(y) * dst.width + x) * 3;
            std::copy_n(src.rgb.begin() + static_cast<std::ptrdiff_t>(s),
                        3,
                        dst.rgb.begin() + static_cast<std::ptrdiff_t>(d));
        }
    }
}

// A scene for text-to-video: a background whose colour comes from the prompt and seed, and a
// white square crossing it.
void draw_scene(media::Frame& f, std::uint64_t hash, int index, int total) {
    const std::array<std::uint8_t, 3> bg = {static_cast<std::uint8_t>(40 + hash % 160),
                                            static_cast<std::uint8_t>(40 + (hash >> 8) % 160),
                                            static_cast<std::uint8_t>(40 + (hash >> 16) % 160)};
    const int side = f.height / 4;
    const int left = (f.width - side) * index / std::max(1, total - 1);
    const int top = (f.height - side) / 2;
    for (int y = 0; y < f.height; ++y) {
        for (int x = 0; x < f.width; ++x) {
            auto d = (static_cast<std::size_t>(y) * f.width + x) * 3;
            bool square = x >= left && x < left + side && y >= top && y < top + side;
            for (int c = 0; c < 3; ++c) {
                f.rgb[d + c] = square ? 240 : bg[static_cast<std::size_t>(c)];
            }
        }
    }
}

core::Unexpected render_error(std::string_view what, const core::Error& e) {
    return core::fail(e.code, fmt::format("{}: {}", what, e.message));
}

// Produces frame `i` of the output into `out`; the source state lives in the caller.
struct FrameSource {
    const RenderRequest& r;
    media::VideoReader reader;
    media::Frame still;    // the image (image-to-video)
    media::Frame current;  // the last decoded input frame (video-to-video)
    std::int64_t decoded = -1;
    std::uint64_t hash = 0;

    core::Status open() {
        hash = std::hash<std::string>{}(r.prompt) ^ static_cast<std::uint64_t>(r.seed);
        if (r.input.kind == InputReference::Kind::video) {
            current = media::make_frame(r.width, r.height);
            core::Status st = reader.open(r.input.path, {r.width, r.height});
            return st ? st : render_error("cannot read input_reference", st.error());
        }
        if (r.input.kind == InputReference::Kind::image) {
            auto img = media::read_image_rgb(r.input.path);
            if (!img) {
                return render_error("cannot read input_reference", img.error());
            }
            still = std::move(*img);
        }
        return {};
    }

    core::Status frame(std::int64_t i, media::Frame& out) {
        switch (r.input.kind) {
            case InputReference::Kind::none:
                draw_scene(out, hash, static_cast<int>(i), r.num_frames);
                return {};
            case InputReference::Kind::image:
                resize_into(still, out, static_cast<int>(i) * 2);
                tint(out);
                return {};
            case InputReference::Kind::video:
                break;
        }
        const std::int64_t want = i * std::max<std::int64_t>(1, r.input.frames) / r.num_frames;
        while (decoded < want) {
            auto more = reader.read_frame(current);
            if (!more) {
                return render_error("cannot decode input_reference", more.error());
            }
            if (!*more) {
                break;  // shorter than probed: keep the last frame
            }
            ++decoded;
        }
        out.rgb = current.rgb;
        tint(out);
        return {};
    }
};

core::Status encode(const RenderRequest& r,
                    const fs::path& path,
                    const std::function<bool()>& cancelled) {
    FrameSource source{r, {}, {}, {}, -1, 0};
    COSMOS_CHECK(source.open());
    media::VideoWriter writer;
    COSMOS_CHECK(writer.open(path,
                             media::WriterOptions{.width = r.width,
                                                  .height = r.height,
                                                  .fps = r.fps,
                                                  .crf = 23,
                                                  .preset = "ultrafast",
                                                  .threads = 2}));
    media::Frame frame = media::make_frame(r.width, r.height);
    for (std::int64_t i = 0; i < r.num_frames; ++i) {
        if (cancelled()) {
            return core::fail(core::ErrorCode::interrupted, "generation aborted");
        }
        COSMOS_CHECK(source.frame(i, frame));
        COSMOS_CHECK(writer.write_frame(frame));
    }
    return writer.finish();
}

bool image_like(const std::string& filename, const std::string& content_type) {
    if (content_type.rfind("image/", 0) == 0) {
        return true;
    }
    std::string ext = fs::path(filename).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return media::is_image_extension(ext) || ext == ".webp";
}

}  // namespace

core::Status render_video(const RenderRequest& r, const std::function<bool()>& cancelled) {
    fs::path partial = r.output;
    partial += ".partial.mp4";
    core::Status st = encode(r, partial, cancelled);
    std::error_code ec;
    if (!st) {
        fs::remove(partial, ec);
        return st;
    }
    fs::rename(partial, r.output, ec);
    if (ec) {
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot rename {}: {}", partial.string(), ec.message()));
    }
    return {};
}

core::Result<InputReference> save_input_reference(const fs::path& dir,
                                                  const std::string& filename,
                                                  const std::string& content_type,
                                                  std::string_view content) {
    InputReference in;
    in.filename = filename;
    in.bytes = content.size();
    const bool image = image_like(filename, content_type);
    std::string ext = fs::path(filename).extension().string();
    in.path = dir / ("input_reference" + (ext.size() <= 8 ? ext : std::string()));
    {
        std::ofstream out(in.path, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        if (!out.flush()) {
            return core::fail(core::ErrorCode::io,
                              "cannot save input_reference in " + dir.string());
        }
    }
    auto refuse = [&](const core::Error& e) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("input_reference '{}' is not a readable {}: {}",
                                      filename,
                                      image ? "image" : "video",
                                      e.message),
                          "input_reference");
    };
    if (image) {
        auto img = media::read_image_rgb(in.path);
        if (!img) {
            return refuse(img.error());
        }
        in.kind = InputReference::Kind::image;
        in.frames = 1;
        in.width = img->width;
        in.height = img->height;
        return in;
    }
    auto info = media::probe_video(in.path);
    if (!info) {
        return refuse(info.error());
    }
    in.kind = InputReference::Kind::video;
    in.frames = info->frames;
    in.width = info->width;
    in.height = info->height;
    return in;
}

}  // namespace cosmos::emulator
