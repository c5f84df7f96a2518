#include "media/quality.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "media/video_reader.hpp"

namespace cosmos::media::quality {

namespace {

// Gradient edges: a pixel is an edge when its Sobel magnitude (of the frame smoothed by a 3x3
// binomial kernel, scaled so a black-to-white step gives 255) reaches this many luma levels
// and is a local maximum across the edge (non-maximum suppression, as Canny does).
constexpr int k_gradient_threshold = 20;
// Edge controls: a pixel is an edge when its luma reaches this level (a 1-px white line of a
// 1280-wide control is about 51 once scaled to 256 px).
constexpr int k_edge_control_level = 32;
// Soft matching: an edge within k_match_full px (chamfer distance) of an edge of the other map
// counts fully; the weight falls linearly to 0 at k_match_zero px.
constexpr double k_match_full = 1.5;
constexpr double k_match_zero = 8.0;

bool same_size(const Luma& a, const Luma& b) {
    return a.width == b.width && a.height == b.height;
}

bool valid_plane(const Luma& f) {
    return f.width > 0 && f.height > 0 &&
           f.pixels.size() ==
               static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
}

core::Unexpected bad(std::string message) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message));
}

// Checks that every frame is a well-formed plane of the first frame's size.
core::Status check_sequence(const Frames& frames, const char* what) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (!valid_plane(frames[i])) {
            return bad(fmt::format("{} frame {} is not a {}-byte luma plane",
                                   what,
                                   i,
                                   static_cast<long long>(frames[i].width) * frames[i].height));
        }
        if (!same_size(frames[i], frames[0])) {
            return bad(fmt::format("{} frame {} is {}x{} but frame 0 is {}x{}",
                                   what,
                                   i,
                                   frames[i].width,
                                   frames[i].height,
                                   frames[0].width,
                                   frames[0].height));
        }
    }
    return {};
}

// 3x3 binomial smoothing ([1 2 1] x [1 2 1] / 16), borders clamped; 8.4 fixed point kept (x16).
std::vector<int> smooth16(const Luma& f) {
    const int w = f.width, h = f.height;
    std::vector<int> rows(static_cast<std::size_t>(w) * h);
    std::vector<int> out(rows.size());
    for (int y = 0; y < h; ++y) {
        const std::uint8_t* r = f.pixels.data() + static_cast<std::size_t>(y) * w;
        int* o = rows.data() + static_cast<std::size_t>(y) * w;
        for (int x = 0; x < w; ++x) {
            int l = r[std::max(x - 1, 0)], c = r[x], rr = r[std::min(x + 1, w - 1)];
            o[x] = l + 2 * c + rr;
        }
    }
    for (int y = 0; y < h; ++y) {
        const int* up = rows.data() + static_cast<std::size_t>(std::max(y - 1, 0)) * w;
        const int* mid = rows.data() + static_cast<std::size_t>(y) * w;
        const int* dn = rows.data() + static_cast<std::size_t>(std::min(y + 1, h - 1)) * w;
        int* o = out.data() + static_cast<std::size_t>(y) * w;
        for (int x = 0; x < w; ++x) {
            o[x] = up[x] + 2 * mid[x] + dn[x];
        }
    }
    return out;
}

std::vector<std::uint8_t> gradient_edges(const Luma& f) {
    const int w = f.width, h = f.height;
    std::vector<std::uint8_t> edges(static_cast<std::size_t>(w) * h, 0);
    if (w < 3 || h < 3) {
        return edges;
    }
    const std::vector<int> s = smooth16(f);
    // Sobel on the x16 image: |g| of a 0->255 step is 4 * 255 * 16; magnitude scaled to 0..255.
    std::vector<float> mag(edges.size(), 0.0f);
    std::vector<std::uint8_t> dir(edges.size(), 0);  // 0: across x, 1: diag, 2: across y, 3: anti
    auto at = [&](int x, int y) { return s[static_cast<std::size_t>(y) * w + x]; };
    for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
            int gx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1)) -
                     (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1));
            int gy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1)) -
                     (at(x - 1, y - 1) + 2 * at(x, y - 1) + at(x + 1, y - 1));
            std::size_t i = static_cast<std::size_t>(y) * w + x;
            double m = std::sqrt(static_cast<double>(gx) * gx + static_cast<double>(gy) * gy);
            mag[i] = static_cast<float>(m / 64.0);
            // The gradient's direction, quantised to 4 (tan 22.5 deg ~ 0.4142).
            double ax = std::abs(gx), ay = std::abs(gy);
            if (ay <= 0.4142 * ax) {
                dir[i] = 0;
            } else if (ax <= 0.4142 * ay) {
                dir[i] = 2;
            } else {
                dir[i] = ((gx > 0) == (gy > 0)) ? 1 : 3;
            }
        }
    }
    for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
            std::size_t i = static_cast<std::size_t>(y) * w + x;
            float m = mag[i];
            if (m < static_cast<float>(k_gradient_threshold)) {
                continue;
            }
            int dx = 0, dy = 0;
            switch (dir[i]) {
                case 0:
                    dx = 1;
                    break;
                case 1:
                    dx = 1, dy = 1;
                    break;
                case 2:
                    dy = 1;
                    break;
                default:
                    dx = 1, dy = -1;
                    break;
            }
            float a = mag[static_cast<std::size_t>(y + dy) * w + (x + dx)];
            float b = mag[static_cast<std::size_t>(y - dy) * w + (x - dx)];
            // >= on one side, > on the other: of a plateau two pixels wide, one is kept.
            if (m >= a && m > b) {
                edges[i] = 1;
            }
        }
    }
    return edges;
}

// Chamfer (3-4) distance to the nearest edge, in pixels (capped at a large value).
std::vector<float> distance_to(const std::vector<std::uint8_t>& edges, int w, int h) {
    constexpr int k_far = 1 << 20;
    std::vector<int> d(edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
        d[i] = edges[i] ? 0 : k_far;
    }
    auto idx = [w](int x, int y) { return static_cast<std::size_t>(y) * w + x; };
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            int v = d[idx(x, y)];
            if (x > 0) {
                v = std::min(v, d[idx(x - 1, y)] + 3);
            }
            if (y > 0) {
                v = std::min(v, d[idx(x, y - 1)] + 3);
                if (x > 0) {
                    v = std::min(v, d[idx(x - 1, y - 1)] + 4);
                }
                if (x < w - 1) {
                    v = std::min(v, d[idx(x + 1, y - 1)] + 4);
                }
            }
            d[idx(x, y)] = v;
        }
    }
    for (int y = h - 1; y >= 0; --y) {
        for (int x = w - 1; x >= 0; --x) {
            int v = d[idx(x, y)];
            if (x < w - 1) {
                v = std::min(v, d[idx(x + 1, y)] + 3);
            }
            if (y < h - 1) {
                v = std::min(v, d[idx(x, y + 1)] + 3);
                if (x < w - 1) {
                    v = std::min(v, d[idx(x + 1, y + 1)] + 4);
                }
                if (x > 0) {
                    v = std::min(v, d[idx(x - 1, y + 1)] + 4);
                }
            }
            d[idx(x, y)] = v;
        }
    }
    std::vector<float> out(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
        out[i] = static_cast<float>(d[i]) / 3.0f;
    }
    return out;
}

double match_weight(double distance) {
    if (distance <= k_match_full) {
        return 1.0;
    }
    return std::max(0.0, 1.0 - (distance - k_match_full) / (k_match_zero - k_match_full));
}

// The mean match weight of `edges`' pixels against the distance map of the other edge map;
// -1 when `edges` has none.
double mean_match(const std::vector<std::uint8_t>& edges, const std::vector<float>& distance) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (edges[i]) {
            sum += match_weight(distance[i]);
            ++n;
        }
    }
    return n == 0 ? -1.0 : sum / static_cast<double>(n);
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    double hi = v[mid];
    if (v.size() % 2 == 1) {
        return hi;
    }
    double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lo + hi) / 2.0;
}

}  // namespace

void working_size(int width, int height, int long_side, int& out_width, int& out_height) {
    out_width = width;
    out_height = height;
    int longest = std::max(width, height);
    if (long_side <= 0 || longest <= long_side || width <= 0 || height <= 0) {
        return;
    }
    double scale = static_cast<double>(long_side) / static_cast<double>(longest);
    auto even = [](double v) { return std::max(2, 2 * static_cast<int>(std::lround(v / 2.0))); };
    out_width = even(width * scale);
    out_height = even(height * scale);
}

Luma to_luma(const Frame& frame) {
    Luma l;
    l.width = frame.width;
    l.height = frame.height;
    std::size_t n = static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height);
    l.pixels.resize(n);
    const std::uint8_t* p = frame.rgb.data();
    for (std::size_t i = 0; i < n; ++i, p += 3) {
        l.pixels[i] = static_cast<std::uint8_t>((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
    return l;
}

core::Result<Frames> read_luma(const std::filesystem::path& path, const ReadLumaOptions& options) {
    if ((options.width > 0) != (options.height > 0)) {
        return bad(fmt::format(
            "invalid working size {}x{}: set both or neither", options.width, options.height));
    }
    VideoReader reader;
    COSMOS_CHECK(reader.open(path));
    int w = options.width, h = options.height;
    if (w <= 0) {
        working_size(reader.source_width(), reader.source_height(), options.long_side, w, h);
    }
    if (w != reader.width() || h != reader.height()) {
        reader = VideoReader();
        COSMOS_CHECK(reader.open(path, {w, h}));
    }
    Frames frames;
    Frame frame;
    while (options.max_frames <= 0 || static_cast<int>(frames.size()) < options.max_frames) {
        COSMOS_TRY(bool got, reader.read_frame(frame));
        if (!got) {
            break;
        }
        frames.push_back(to_luma(frame));
    }
    if (frames.empty()) {
        return bad(fmt::format("{} has no frames", path.string()));
    }
    return frames;
}

double mean_abs_diff(const Luma& a, const Luma& b) {
    std::size_t n = std::min(a.pixels.size(), b.pixels.size());
    if (n == 0) {
        return 0;
    }
    std::uint64_t sum = 0;
    const std::uint8_t* pa = a.pixels.data();
    const std::uint8_t* pb = b.pixels.data();
    for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<std::uint64_t>(std::abs(static_cast<int>(pa[i]) - pb[i]));
    }
    return static_cast<double>(sum) / static_cast<double>(n);
}

// --- structure -----------------------------------------------------------------------------

std::vector<std::uint8_t> edge_map(const Luma& frame, ControlKind kind) {
    if (kind == ControlKind::gradient) {
        return gradient_edges(frame);
    }
    std::vector<std::uint8_t> edges(frame.pixels.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
        edges[i] = frame.pixels[i] >= k_edge_control_level ? 1 : 0;
    }
    return edges;
}

core::Result<StructureScore> structure(const Frames& output,
                                       const Frames& control,
                                       ControlKind kind) {
    if (output.empty() || control.empty()) {
        return bad("structure: the output and the control need at least one frame each");
    }
    COSMOS_CHECK(check_sequence(output, "output"));
    COSMOS_CHECK(check_sequence(control, "control"));
    if (!same_size(output[0], control[0])) {
        return bad(fmt::format("structure: output frames are {}x{} but control frames are {}x{}",
                               output[0].width,
                               output[0].height,
                               control[0].width,
                               control[0].height));
    }
    StructureScore r;
    const int w = output[0].width, h = output[0].height;
    r.frames_compared = static_cast<int>(std::min(output.size(), control.size()));
    double sum_p = 0, sum_r = 0;
    for (int i = 0; i < r.frames_compared; ++i) {
        auto c_edges = edge_map(control[static_cast<std::size_t>(i)], kind);
        auto o_edges = gradient_edges(output[static_cast<std::size_t>(i)]);
        auto c_dist = distance_to(c_edges, w, h);
        auto o_dist = distance_to(o_edges, w, h);
        double recall = mean_match(c_edges, o_dist);
        if (recall < 0) {
            ++r.frames_without_edges;
            continue;
        }
        double precision = mean_match(o_edges, c_dist);
        if (precision < 0) {  // an output without edges keeps none of the control's
            precision = 0;
            recall = 0;
        }
        double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        r.per_frame.push_back(f1);
        sum_p += precision;
        sum_r += recall;
    }
    if (r.per_frame.empty()) {
        return bad(fmt::format("structure: the control has no edges in any of its first {} frames",
                               r.frames_compared));
    }
    double n = static_cast<double>(r.per_frame.size());
    double total = 0;
    for (double v : r.per_frame) {
        total += v;
    }
    r.score = total / n;
    r.precision = sum_p / n;
    r.recall = sum_r / n;
    return r;
}

core::Result<StructureScore> structure(const std::filesystem::path& output,
                                       const std::filesystem::path& control,
                                       ControlKind kind,
                                       int long_side) {
    ReadLumaOptions o;
    o.long_side = long_side;
    COSMOS_TRY(Frames out, read_luma(output, o));
    ReadLumaOptions c;
    c.width = out[0].width;
    c.height = out[0].height;
    c.max_frames = static_cast<int>(out.size());
    COSMOS_TRY(Frames ctl, read_luma(control, c));
    return structure(out, ctl, kind);
}

// --- stability -----------------------------------------------------------------------------

core::Result<StabilityScore> stability(const Frames& output, const Frames& input) {
    if (output.size() < 2 || input.size() < 2) {
        return bad(
            fmt::format("stability: needs at least 2 frames of output and input (got {} "
                        "and {})",
                        output.size(),
                        input.size()));
    }
    COSMOS_CHECK(check_sequence(output, "output"));
    COSMOS_CHECK(check_sequence(input, "input"));
    StabilityScore r;
    std::size_t n = std::min(output.size(), input.size());
    r.pairs = static_cast<int>(n - 1);
    double total = 0, worst = 2.0, sum_out = 0, sum_in = 0;
    for (std::size_t t = 1; t < n; ++t) {
        double d_out = mean_abs_diff(output[t], output[t - 1]);
        double d_in = mean_abs_diff(input[t], input[t - 1]);
        double excess = std::max(0.0, d_out - d_in - k_stability_allowance);
        double s = std::clamp(1.0 - excess / k_stability_range, 0.0, 1.0);
        r.per_pair.push_back(s);
        total += s;
        sum_out += d_out;
        sum_in += d_in;
        if (s < worst) {
            worst = s;
            r.worst_pair = static_cast<int>(t);
        }
    }
    double pairs = static_cast<double>(r.pairs);
    r.score = total / pairs;
    r.mean_output_change = sum_out / pairs;
    r.mean_input_change = sum_in / pairs;
    return r;
}

core::Result<StabilityScore> stability(const std::filesystem::path& output,
                                       const std::filesystem::path& input,
                                       int long_side) {
    ReadLumaOptions o;
    o.long_side = long_side;
    COSMOS_TRY(Frames out, read_luma(output, o));
    o.max_frames = static_cast<int>(out.size());
    COSMOS_TRY(Frames in, read_luma(input, o));
    return stability(out, in);
}

// --- seams ---------------------------------------------------------------------------------

core::Result<SeamScore> seam(const Frames& video, const std::vector<int>& seams, int radius) {
    const int n = static_cast<int>(video.size());
    if (n < 3) {
        return bad(fmt::format("seam: needs at least 3 frames (got {})", n));
    }
    if (seams.empty()) {
        return bad("seam: no seam given");
    }
    if (radius < 0) {
        return bad(fmt::format("seam: invalid radius {}", radius));
    }
    for (int s : seams) {
        if (s < 1 || s > n - 1) {
            return bad(fmt::format("seam: seam {} is outside frames 1..{}", s, n - 1));
        }
    }
    COSMOS_CHECK(check_sequence(video, "video"));
    SeamScore r;
    r.steps.resize(static_cast<std::size_t>(n - 1));
    for (int t = 1; t < n; ++t) {
        r.steps[static_cast<std::size_t>(t - 1)] = mean_abs_diff(
            video[static_cast<std::size_t>(t)], video[static_cast<std::size_t>(t - 1)]);
    }
    std::vector<bool> near_seam(static_cast<std::size_t>(n), false);
    for (int s : seams) {
        for (int t = std::max(1, s - radius); t <= std::min(n - 1, s + radius); ++t) {
            near_seam[static_cast<std::size_t>(t)] = true;
        }
    }
    std::vector<double> normal;
    for (int t = 1; t < n; ++t) {
        if (!near_seam[static_cast<std::size_t>(t)]) {
            normal.push_back(r.steps[static_cast<std::size_t>(t - 1)]);
        }
    }
    if (normal.empty()) {
        return bad(
            fmt::format("seam: no frame step is left away from the {} seam(s) (radius {}) "
                        "to compare with",
                        seams.size(),
                        radius));
    }
    r.normal_step = median(std::move(normal));
    double base = std::max(r.normal_step, k_seam_min_step);
    r.ratio = -1;
    for (int s : seams) {
        double step = 0;
        for (int t = std::max(1, s - radius); t <= std::min(n - 1, s + radius); ++t) {
            step = std::max(step, r.steps[static_cast<std::size_t>(t - 1)]);
        }
        double ratio = step / base;
        r.ratios.push_back(ratio);
        if (ratio > r.ratio) {
            r.ratio = ratio;
            r.worst_seam = s;
        }
    }
    r.score = r.ratio <= k_seam_tolerance ? 1.0 : k_seam_tolerance / r.ratio;
    return r;
}

core::Result<SeamScore> seam(const std::filesystem::path& video,
                             const std::vector<int>& seams,
                             int radius,
                             int long_side) {
    ReadLumaOptions o;
    o.long_side = long_side;
    COSMOS_TRY(Frames frames, read_luma(video, o));
    return seam(frames, seams, radius);
}

}  // namespace cosmos::media::quality
