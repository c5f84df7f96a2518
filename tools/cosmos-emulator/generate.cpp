#include "generate.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "pacing.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

using Lut = std::array<std::array<std::uint8_t, 256>, 3>;

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// A per-channel gain, lift and gamma drawn from the seed: same seed, same look.
Lut make_grade(std::int64_t seed) {
    std::uint64_t state = static_cast<std::uint64_t>(seed) ^ 0xC05305ULL;
    auto uniform = [&](double lo, double hi) {
        return lo + (hi - lo) * static_cast<double>(splitmix64(state) >> 11) / 9007199254740992.0;
    };
    Lut lut{};
    for (auto& channel : lut) {
        double gain = uniform(0.8, 1.15);
        double lift = uniform(-18, 18);
        double gamma = uniform(0.85, 1.2);
        for (int v = 0; v < 256; ++v) {
            double x = std::pow(v / 255.0, gamma) * 255.0 * gain + lift;
            channel[static_cast<std::size_t>(v)] =
                static_cast<std::uint8_t>(std::clamp(std::lround(x), 0L, 255L));
        }
    }
    return lut;
}

void apply_grade(media::Frame& frame, const Lut& lut) {
    for (std::size_t i = 0; i < frame.rgb.size(); ++i) {
        frame.rgb[i] = lut[i % 3][frame.rgb[i]];
    }
}

core::Unexpected runtime_error(const core::Error& e) {
    return raise_py("RuntimeError", e.message, "demo>save_video");
}

}  // namespace

OutputSize snap_output_size(int width, int height) {
    static constexpr std::array<OutputSize, 5> k_sizes = {OutputSize{1280, 704},
                                                          OutputSize{704, 1280},
                                                          OutputSize{960, 960},
                                                          OutputSize{960, 704},
                                                          OutputSize{704, 960}};
    if (width <= 0 || height <= 0) {
        return k_sizes[0];
    }
    double aspect = std::log(static_cast<double>(width) / height);
    return *std::min_element(k_sizes.begin(), k_sizes.end(), [&](OutputSize a, OutputSize b) {
        return std::abs(std::log(double(a.width) / a.height) - aspect) <
               std::abs(std::log(double(b.width) / b.height) - aspect);
    });
}

// Writes every frame of the request into `path`.
static core::Status encode_frames(const OutputRequest& r, const std::filesystem::path& path) {
    media::VideoReader reader;
    core::Status opened = reader.open(r.source, {r.size.width, r.size.height});
    if (!opened) {
        return runtime_error(opened.error());
    }
    media::VideoWriter writer;
    core::Status created = writer.open(path,
                                       media::WriterOptions{.width = r.size.width,
                                                            .height = r.size.height,
                                                            .fps = static_cast<int>(r.fps),
                                                            .crf = 23,
                                                            .preset = "ultrafast"});
    if (!created) {
        return runtime_error(created.error());
    }
    const Lut lut = make_grade(r.seed);
    media::Frame frame = media::make_frame(r.size.width, r.size.height);
    bool have_source = true;
    for (std::int64_t i = 0; i < r.frames; ++i) {
        core::Status live = check_interrupted();
        if (!live) {
            return live;
        }
        if (have_source) {
            auto more = reader.read_frame(frame);
            if (!more) {
                return runtime_error(more.error());
            }
            have_source = *more;  // past the end: repeat the last frame
            if (have_source) {
                apply_grade(frame, lut);
            }
        }
        core::Status written = writer.write_frame(frame);
        if (!written) {
            return runtime_error(written.error());
        }
    }
    core::Status done = writer.finish();
    return done ? done : runtime_error(done.error());
}

core::Status write_output_video(const OutputRequest& r) {
    // Encode beside the target and rename at the end: a killed run leaves no half video behind.
    std::filesystem::path partial = r.output;
    partial += ".partial.mp4";
    core::Status encoded = encode_frames(r, partial);
    std::error_code ec;
    if (!encoded) {
        std::filesystem::remove(partial, ec);
        return encoded;
    }
    std::filesystem::rename(partial, r.output, ec);
    if (ec) {
        return raise_py(
            "OSError",
            fmt::format(
                "cannot rename {} to {}: {}", partial.string(), r.output.string(), ec.message()),
            "demo>save_video");
    }
    return {};
}

}  // namespace cosmos::emulator
