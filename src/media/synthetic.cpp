#include "media/synthetic.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "media/video_writer.hpp"

namespace cosmos::media {

namespace {

struct Rgb {
    std::uint8_t r, g, b;
};

// One object of the scene: an ellipse ("disc") or an axis-aligned box, at a fixed distance.
struct Shape {
    bool is_box = false;
    double cx = 0, cy = 0, rx = 0, ry = 0;  // centre and half sizes, in pixels
    int depth = 0;                          // 8-bit depth, near = bright
    Rgb color{}, label{};
};

// Labels 0 and 1 are sky and ground; shapes follow. Colours from the Cityscapes palette.
constexpr Rgb k_sky_label{70, 130, 180};
constexpr Rgb k_ground_label{152, 251, 152};
constexpr double k_horizon = 0.55;  // horizon height as a fraction of the frame height
constexpr int k_shapes = 3;

// The scene at time `t` seconds, sorted nearest first (painter's order reversed).
std::array<Shape, k_shapes> scene_at(double t, int w, int h) {
    const double wd = w, hd = h;
    std::array<Shape, k_shapes> s{};
    // A red ball bouncing left and right, nearest to the camera.
    s[0] = Shape{false,
                 wd * (0.5 + 0.33 * std::sin(0.9 * t)),
                 hd * (0.66 - 0.14 * std::abs(std::sin(1.7 * t))),
                 0.15 * hd,
                 0.15 * hd,
                 225,
                 Rgb{210, 60, 50},
                 Rgb{220, 20, 60}};
    // A blue box drifting slowly.
    s[1] = Shape{true,
                 wd * (0.3 + 0.22 * std::sin(0.5 * t + 1.0)),
                 hd * (0.56 + 0.05 * std::cos(0.5 * t)),
                 0.17 * hd,
                 0.12 * hd,
                 165,
                 Rgb{40, 70, 170},
                 Rgb{0, 0, 142}};
    // A yellow disc floating high and far.
    s[2] = Shape{false,
                 wd * (0.72 - 0.2 * std::sin(0.7 * t)),
                 hd * (0.28 + 0.08 * std::sin(1.1 * t)),
                 0.11 * hd,
                 0.09 * hd,
                 110,
                 Rgb{235, 200, 60},
                 Rgb{250, 170, 30}};
    return s;
}

// Returns the squared normalized distance of (x, y) from the shape's centre (<= 1 inside).
double shape_distance(const Shape& s, double x, double y) {
    double dx = (x - s.cx) / s.rx;
    double dy = (y - s.cy) / s.ry;
    if (s.is_box) {
        return std::max(dx * dx, dy * dy);
    }
    return dx * dx + dy * dy;
}

// Label per pixel: 0 sky, 1 ground, 2 + i for shape i (the nearest covering shape wins).
std::vector<std::uint8_t> label_map(const std::array<Shape, k_shapes>& scene, int w, int h) {
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(w) * h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            std::uint8_t label = y < k_horizon * h ? 0 : 1;
            for (int i = 0; i < k_shapes; ++i) {
                if (shape_distance(scene[i], x + 0.5, y + 0.5) <= 1.0) {
                    label = static_cast<std::uint8_t>(2 + i);
                    break;
                }
            }
            labels[static_cast<std::size_t>(y) * w + x] = label;
        }
    }
    return labels;
}

std::uint8_t clamp8(double v) {
    return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

Rgb scale(Rgb c, double f) {
    return Rgb{clamp8(c.r * f), clamp8(c.g * f), clamp8(c.b * f)};
}

Rgb gray(double v) {
    std::uint8_t g = clamp8(v);
    return Rgb{g, g, g};
}

// Background colour: a sky gradient above the horizon, darkening ground below.
Rgb background_color(double y, int h) {
    double f = y / h;
    if (f < k_horizon) {
        double k = f / k_horizon;
        return Rgb{clamp8(100 + 80 * k), clamp8(150 + 60 * k), clamp8(225 - 10 * k)};
    }
    double k = (f - k_horizon) / (1 - k_horizon);
    return Rgb{clamp8(110 - 50 * k), clamp8(140 - 50 * k), clamp8(80 - 30 * k)};
}

// Background depth: far sky, ground coming nearer towards the bottom of the frame.
double background_depth(double y, int h) {
    double f = y / h;
    if (f < k_horizon) {
        return 20;
    }
    return 30 + 80 * (f - k_horizon) / (1 - k_horizon);
}

Rgb shade(const Shape& s, double x, double y) {
    if (s.is_box) {
        return scale(s.color, 1.0 - 0.25 * (y - (s.cy - s.ry)) / (2 * s.ry));
    }
    // Light from the upper left: brightest at a point offset from the centre.
    double dx = (x - (s.cx - 0.35 * s.rx)) / (1.6 * s.rx);
    double dy = (y - (s.cy - 0.35 * s.ry)) / (1.6 * s.ry);
    return scale(s.color, 1.15 - 0.6 * (dx * dx + dy * dy));
}

bool is_edge(const std::vector<std::uint8_t>& labels, int w, int h, int x, int y) {
    std::uint8_t here = labels[static_cast<std::size_t>(y) * w + x];
    auto differs = [&](int nx, int ny) {
        return nx >= 0 && ny >= 0 && nx < w && ny < h &&
               labels[static_cast<std::size_t>(ny) * w + nx] != here;
    };
    return differs(x + 1, y) || differs(x - 1, y) || differs(x, y + 1) || differs(x, y - 1);
}

Rgb pixel_for(SyntheticPass pass,
              const std::array<Shape, k_shapes>& scene,
              const std::vector<std::uint8_t>& labels,
              int w,
              int h,
              int x,
              int y) {
    std::uint8_t label = labels[static_cast<std::size_t>(y) * w + x];
    double px = x + 0.5, py = y + 0.5;
    switch (pass) {
        case SyntheticPass::color:
            return label < 2 ? background_color(py, h) : shade(scene[label - 2], px, py);
        case SyntheticPass::depth: {
            if (label < 2) {
                return gray(background_depth(py, h));
            }
            const Shape& s = scene[label - 2];
            double bulge = s.is_box ? 0 : 20 * (1 - shape_distance(s, px, py));
            return gray(s.depth + bulge);
        }
        case SyntheticPass::segmentation:
            return label == 0 ? k_sky_label : label == 1 ? k_ground_label : scene[label - 2].label;
        case SyntheticPass::edge:
            return is_edge(labels, w, h, x, y) ? Rgb{255, 255, 255} : Rgb{0, 0, 0};
    }
    return Rgb{0, 0, 0};
}

Frame render(const SyntheticVideo& spec, int index) {
    const int w = spec.width, h = spec.height;
    auto scene = scene_at(static_cast<double>(index) / spec.fps, w, h);
    auto labels = label_map(scene, w, h);
    Frame frame = make_frame(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            Rgb c = pixel_for(spec.pass, scene, labels, w, h, x, y);
            std::size_t o = (static_cast<std::size_t>(y) * w + x) * 3;
            frame.rgb[o] = c.r;
            frame.rgb[o + 1] = c.g;
            frame.rgb[o + 2] = c.b;
        }
    }
    return frame;
}

}  // namespace

core::Status write_synthetic_video(const std::filesystem::path& path, const SyntheticVideo& spec) {
    if (spec.frames <= 0) {
        return core::fail(
            core::ErrorCode::invalid_input,
            fmt::format(
                "synthetic video {}: frames must be > 0, got {}", path.string(), spec.frames));
    }
    // Flat passes get a lower CRF so their labels and lines stay crisp after compression.
    bool flat = spec.pass == SyntheticPass::segmentation || spec.pass == SyntheticPass::edge;
    VideoWriter writer;
    core::Status opened = writer.open(path,
                                      WriterOptions{.width = spec.width,
                                                    .height = spec.height,
                                                    .fps = spec.fps,
                                                    .crf = flat ? 10 : 18,
                                                    .preset = "veryfast"});
    if (!opened) {
        return opened;
    }
    for (int i = 0; i < spec.frames; ++i) {
        core::Status written = writer.write_frame(render(spec, i));
        if (!written) {
            return written;
        }
    }
    return writer.finish();
}

}  // namespace cosmos::media
