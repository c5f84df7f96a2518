// Quality scores (structure, stability, seams) on synthetic frames whose answer is known, then
// through real H.264 files written with our encoder. The assertions are orderings and ranges:
// a copy of a control beats a shifted copy, which beats noise; a static output beats a
// flickering one; a smooth video's seam beats a hard cut.

#include "media/quality.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

#include "media/synthetic.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using namespace cosmos::media;
using namespace cosmos::media::quality;

namespace {

constexpr int k_w = 192;
constexpr int k_h = 108;

Luma flat(int w, int h, std::uint8_t v) {
    Luma l;
    l.width = w;
    l.height = h;
    l.pixels.assign(static_cast<std::size_t>(w) * h, v);
    return l;
}

void set(Luma& l, int x, int y, std::uint8_t v) {
    if (x >= 0 && y >= 0 && x < l.width && y < l.height) {
        l.pixels[static_cast<std::size_t>(y) * l.width + x] = v;
    }
}

// A scene of flat regions (like a segmentation pass): a box, a disc and a bar on a background,
// everything moved by (dx, dy) pixels.
Luma scene(int dx = 0, int dy = 0, int w = k_w, int h = k_h) {
    Luma l = flat(w, h, 40);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            int sx = x - dx, sy = y - dy;
            if (sx >= 30 && sx < 80 && sy >= 25 && sy < 70) {
                set(l, x, y, 150);
            }
            double ddx = sx - 130.0, ddy = sy - 50.0;
            if (ddx * ddx + ddy * ddy <= 26.0 * 26.0) {
                set(l, x, y, 220);
            }
            if (sy >= 85 && sy < 92 && sx >= 20 && sx < 170) {
                set(l, x, y, 95);
            }
        }
    }
    return l;
}

// An edge control of `l`: white where its gradient edges are, black elsewhere.
Luma edges_of(const Luma& l) {
    Luma e = flat(l.width, l.height, 0);
    auto m = edge_map(l, ControlKind::gradient);
    for (std::size_t i = 0; i < m.size(); ++i) {
        e.pixels[i] = m[i] ? 255 : 0;
    }
    return e;
}

Luma noise(std::mt19937& rng, int w = k_w, int h = k_h) {
    Luma l = flat(w, h, 0);
    std::uniform_int_distribution<int> d(0, 255);
    for (auto& p : l.pixels) {
        p = static_cast<std::uint8_t>(d(rng));
    }
    return l;
}

// `l` with every pixel moved by `delta` (clamped).
Luma shifted_levels(const Luma& l, int delta) {
    Luma o = l;
    for (auto& p : o.pixels) {
        p = static_cast<std::uint8_t>(std::clamp(static_cast<int>(p) + delta, 0, 255));
    }
    return o;
}

Frames repeat(const Luma& l, int n) {
    return Frames(static_cast<std::size_t>(n), l);
}

double structure_of(const Frames& out, const Frames& ctl, ControlKind kind) {
    auto r = structure(out, ctl, kind);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? r->score : -1.0;
}

double stability_of(const Frames& out, const Frames& in) {
    auto r = stability(out, in);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? r->score : -1.0;
}

}  // namespace

// --- structure -----------------------------------------------------------------------------

TEST(QualityStructure, ACopyBeatsAShiftedCopyWhichBeatsNoise) {
    std::mt19937 rng(7);
    Frames control = repeat(scene(), 4);
    Frames copy = control;
    Frames shifted = repeat(scene(3, 3), 4);
    Frames noisy;
    for (int i = 0; i < 4; ++i) {
        noisy.push_back(noise(rng));
    }
    double c = structure_of(copy, control, ControlKind::gradient);
    double s = structure_of(shifted, control, ControlKind::gradient);
    double n = structure_of(noisy, control, ControlKind::gradient);
    EXPECT_GT(c, 0.99);
    EXPECT_GT(c, s + 0.15);
    EXPECT_GT(s, n + 0.1);
    EXPECT_LT(n, 0.5);
    EXPECT_GE(n, 0.0);
    // The brightness of the output does not matter, only where its edges are.
    EXPECT_GT(structure_of(repeat(shifted_levels(scene(), 20), 4), control, ControlKind::gradient),
              0.99);
}

TEST(QualityStructure, AnEdgeControlIsMatchedByItsWhitePixels) {
    std::mt19937 rng(11);
    Frames control = repeat(edges_of(scene()), 3);
    double c = structure_of(repeat(scene(), 3), control, ControlKind::edge);
    double s = structure_of(repeat(scene(-4, 2), 3), control, ControlKind::edge);
    double n = structure_of({noise(rng), noise(rng), noise(rng)}, control, ControlKind::edge);
    EXPECT_GT(c, 0.95);
    EXPECT_GT(c, s + 0.15);
    EXPECT_GT(s, n + 0.1);
}

TEST(QualityStructure, AFlatOutputKeepsNothingAndSkippedFramesAreCounted) {
    Frames control = {scene(), flat(k_w, k_h, 90), scene()};
    auto r = structure(repeat(flat(k_w, k_h, 128), 3), control, ControlKind::gradient);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->score, 0.0);
    EXPECT_EQ(r->frames_compared, 3);
    EXPECT_EQ(r->frames_without_edges, 1);
    EXPECT_EQ(r->per_frame.size(), 2u);
    // Only the first min(n, m) frames are compared.
    auto shorter = structure(repeat(scene(), 2), control, ControlKind::gradient);
    ASSERT_TRUE(shorter);
    EXPECT_EQ(shorter->frames_compared, 2);
    EXPECT_GT(shorter->score, 0.99);
}

TEST(QualityStructure, RefusesMismatchedSizesAndAControlWithoutEdges) {
    EXPECT_EQ(structure({scene()}, {scene(0, 0, 96, 54)}, ControlKind::gradient).error().code,
              ErrorCode::invalid_input);
    EXPECT_EQ(structure({}, {scene()}, ControlKind::gradient).error().code,
              ErrorCode::invalid_input);
    EXPECT_EQ(structure({scene()}, {flat(k_w, k_h, 0)}, ControlKind::edge).error().code,
              ErrorCode::invalid_input);
    Luma broken = scene();
    broken.pixels.pop_back();
    EXPECT_EQ(structure({broken}, {scene()}, ControlKind::gradient).error().code,
              ErrorCode::invalid_input);
}

// --- stability -----------------------------------------------------------------------------

TEST(QualityStability, AStaticOutputBeatsTheSameOutputWithFlicker) {
    std::mt19937 rng(3);
    Frames input = repeat(scene(), 24);
    Frames still = repeat(shifted_levels(scene(), 10), 24);
    Frames noisy = still, pulsing = still;
    std::uniform_int_distribution<int> d(-12, 12);
    for (std::size_t t = 0; t < noisy.size(); ++t) {
        for (auto& p : noisy[t].pixels) {
            p = static_cast<std::uint8_t>(std::clamp(static_cast<int>(p) + d(rng), 0, 255));
        }
        pulsing[t] = shifted_levels(still[t], t % 2 == 0 ? 6 : -6);
    }
    double s = stability_of(still, input);
    double n = stability_of(noisy, input);
    double p = stability_of(pulsing, input);
    EXPECT_GT(s, 0.99);
    EXPECT_LT(n, 0.8);
    EXPECT_LT(p, 0.2);  // a 12-level pulse every frame: over the range
    EXPECT_GT(s, n + 0.2);
    auto r = stability(noisy, input);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pairs, 23);
    EXPECT_GT(r->mean_output_change, 4.0);
    EXPECT_EQ(r->mean_input_change, 0.0);
}

TEST(QualityStability, MotionMatchingTheInputIsNotPunished) {
    Frames input, output, frozen, jittery;
    for (int t = 0; t < 20; ++t) {
        input.push_back(scene(2 * t - 20, 0));
        output.push_back(shifted_levels(scene(2 * t - 20, 0), -15));  // another look, same motion
        frozen.push_back(scene(0, 0));
        // Twice the input's motion, back and forth.
        jittery.push_back(scene(t % 2 == 0 ? 8 : -8, t % 2 == 0 ? 6 : -6));
    }
    auto r = stability(output, input);
    ASSERT_TRUE(r);
    EXPECT_GT(r->mean_input_change, 1.0);  // the input really moves
    EXPECT_GT(r->score, 0.95);
    EXPECT_GT(stability_of(frozen, input), 0.99);  // less change than the input is not punished
    double j = stability_of(jittery, input);
    EXPECT_LT(j, r->score - 0.2);
}

TEST(QualityStability, NeedsTwoFramesOnEachSide) {
    EXPECT_EQ(stability({scene()}, repeat(scene(), 3)).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(stability(repeat(scene(), 3), {scene()}).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(stability({scene(), scene(0, 0, 96, 54)}, repeat(scene(), 3)).error().code,
              ErrorCode::invalid_input);
}

// --- seams ---------------------------------------------------------------------------------

TEST(QualitySeam, ASmoothVideoBeatsAHardCutAtTheSeam) {
    Frames smooth, cut;
    for (int t = 0; t < 48; ++t) {
        smooth.push_back(scene(t - 24, 0));
        cut.push_back(t < 24 ? scene(t - 24, 0) : edges_of(scene(40 - t, 10)));
    }
    auto s = seam(smooth, {24});
    auto c = seam(cut, {24});
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_LT(s->ratio, 2.0);
    EXPECT_GT(s->score, 0.75);
    EXPECT_GT(c->ratio, 5.0);
    EXPECT_LT(c->score, 0.3);
    EXPECT_GT(s->score, c->score);
    EXPECT_EQ(c->worst_seam, 24);
    EXPECT_EQ(c->steps.size(), 47u);
    // With two seams the worst one is reported, and each has its ratio.
    auto both = seam(cut, {12, 24}, 0);
    ASSERT_TRUE(both);
    ASSERT_EQ(both->ratios.size(), 2u);
    EXPECT_LT(both->ratios[0], 2.0);
    EXPECT_EQ(both->worst_seam, 24);
    // A still video: the ratio is taken against the minimum step, not 0.
    auto still = seam(repeat(scene(), 10), {5});
    ASSERT_TRUE(still);
    EXPECT_EQ(still->ratio, 0.0);
    EXPECT_EQ(still->score, 1.0);
}

TEST(QualitySeam, RefusesSeamsOutsideTheVideo) {
    Frames v = repeat(scene(), 10);
    EXPECT_EQ(seam(v, {0}).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(seam(v, {10}).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(seam(v, {}).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(seam(repeat(scene(), 2), {1}).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(seam(repeat(scene(), 3), {1, 2}, 1).error().code, ErrorCode::invalid_input);
}

TEST(QualityLuma, WorkingSizeAndBt601Luma) {
    int w = 0, h = 0;
    working_size(1280, 720, 256, w, h);
    EXPECT_EQ(w, 256);
    EXPECT_EQ(h, 144);
    working_size(720, 1280, 256, w, h);
    EXPECT_EQ(w, 144);
    EXPECT_EQ(h, 256);
    working_size(200, 100, 256, w, h);  // never scaled up
    EXPECT_EQ(w, 200);
    EXPECT_EQ(h, 100);
    Frame f = make_frame(2, 1);
    f.rgb = {255, 255, 255, 255, 0, 0};
    Luma l = to_luma(f);
    EXPECT_EQ(l.pixels[0], 255);
    EXPECT_EQ(l.pixels[1], 77);
}

// --- through video files -------------------------------------------------------------------

namespace {

Frame to_rgb(const Luma& l) {
    Frame f = make_frame(l.width, l.height);
    for (std::size_t i = 0; i < l.pixels.size(); ++i) {
        f.rgb[3 * i] = f.rgb[3 * i + 1] = f.rgb[3 * i + 2] = l.pixels[i];
    }
    return f;
}

void write_video(const std::filesystem::path& path, const std::vector<Frame>& frames) {
    VideoWriter writer;
    ASSERT_TRUE(writer.open(path,
                            WriterOptions{.width = frames[0].width,
                                          .height = frames[0].height,
                                          .fps = 24,
                                          .crf = 18,
                                          .preset = "ultrafast"}));
    for (const auto& f : frames) {
        ASSERT_TRUE(writer.write_frame(f));
    }
    ASSERT_TRUE(writer.finish());
}

std::vector<Frame> read_all(const std::filesystem::path& path) {
    VideoReader reader;
    EXPECT_TRUE(reader.open(path));
    std::vector<Frame> frames;
    Frame f;
    while (true) {
        auto got = reader.read_frame(f);
        if (!got || !*got) {
            break;
        }
        frames.push_back(f);
    }
    return frames;
}

}  // namespace

TEST(QualityFiles, ScoresRealVideosInTheSameOrder) {
    cosmos::test::TempDir tmp;
    SyntheticVideo spec;
    spec.width = 640;
    spec.height = 352;
    spec.frames = 24;
    spec.pass = SyntheticPass::color;
    ASSERT_TRUE(write_synthetic_video(tmp / "color.mp4", spec));
    spec.pass = SyntheticPass::segmentation;
    ASSERT_TRUE(write_synthetic_video(tmp / "seg.mp4", spec));
    spec.pass = SyntheticPass::edge;
    ASSERT_TRUE(write_synthetic_video(tmp / "edge.mp4", spec));

    // The same number of frames of noise, and the colour video with a hard cut at frame 12
    // (inverted from there on) and with a brightness flicker.
    std::vector<Frame> color = read_all(tmp / "color.mp4");
    ASSERT_EQ(color.size(), 24u);
    std::mt19937 rng(5);
    std::vector<Frame> noisy, cut, flicker;
    for (std::size_t t = 0; t < color.size(); ++t) {
        noisy.push_back(to_rgb(noise(rng, 640, 352)));
        Frame c = color[t], fl = color[t];
        for (std::size_t i = 0; i < c.rgb.size(); ++i) {
            if (t >= 12) {
                c.rgb[i] = static_cast<std::uint8_t>(255 - c.rgb[i]);
            }
            int delta = t % 2 == 0 ? 10 : -10;
            fl.rgb[i] = static_cast<std::uint8_t>(std::clamp(fl.rgb[i] + delta, 0, 255));
        }
        cut.push_back(std::move(c));
        flicker.push_back(std::move(fl));
    }
    write_video(tmp / "noise.mp4", noisy);
    write_video(tmp / "cut.mp4", cut);
    write_video(tmp / "flicker.mp4", flicker);

    auto seg = structure(tmp / "color.mp4", tmp / "seg.mp4", ControlKind::gradient);
    auto seg_noise = structure(tmp / "noise.mp4", tmp / "seg.mp4", ControlKind::gradient);
    auto edge = structure(tmp / "color.mp4", tmp / "edge.mp4", ControlKind::edge);
    auto edge_noise = structure(tmp / "noise.mp4", tmp / "edge.mp4", ControlKind::edge);
    ASSERT_TRUE(seg) << seg.error().message;
    ASSERT_TRUE(seg_noise && edge && edge_noise);
    EXPECT_EQ(seg->frames_compared, 24);
    EXPECT_GT(seg->score, 0.6);
    EXPECT_GT(seg->score, seg_noise->score + 0.2);
    EXPECT_GT(edge->score, 0.6);
    EXPECT_GT(edge->score, edge_noise->score + 0.2);

    auto same = stability(tmp / "color.mp4", tmp / "color.mp4");
    auto flickers = stability(tmp / "flicker.mp4", tmp / "color.mp4");
    ASSERT_TRUE(same && flickers);
    EXPECT_EQ(same->pairs, 23);
    EXPECT_GT(same->score, 0.99);
    EXPECT_LT(flickers->score, 0.5);

    auto smooth = seam(tmp / "color.mp4", {12});
    auto hard = seam(tmp / "cut.mp4", {12});
    ASSERT_TRUE(smooth && hard);
    EXPECT_GT(smooth->score, 0.75);
    EXPECT_LT(hard->score, 0.2);
    EXPECT_EQ(hard->worst_seam, 12);

    EXPECT_EQ(seam(tmp / "missing.mp4", {12}).error().code, ErrorCode::not_found);
    auto lumas = read_luma(tmp / "color.mp4", {});
    ASSERT_TRUE(lumas);
    EXPECT_EQ(lumas->size(), 24u);
    EXPECT_EQ((*lumas)[0].width, 256);
    EXPECT_EQ((*lumas)[0].height, 140);
}

// The cost of each score on a given video (bench/quality.sh): skipped unless
// COSMOS_QUALITY_BENCH_VIDEO names a video. Prints one line of seconds per step.
TEST(QualityBench, CostOfEachScore) {
    const char* video = std::getenv("COSMOS_QUALITY_BENCH_VIDEO");
    if (video == nullptr || *video == '\0') {
        GTEST_SKIP() << "COSMOS_QUALITY_BENCH_VIDEO not set";
    }
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::time_point a, clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    };
    auto t0 = clock::now();
    auto frames = read_luma(video, {});
    auto t1 = clock::now();
    ASSERT_TRUE(frames) << frames.error().message;
    auto st = structure(*frames, *frames, ControlKind::gradient);
    auto t2 = clock::now();
    auto sb = stability(*frames, *frames);
    auto t3 = clock::now();
    int n = static_cast<int>(frames->size());
    auto sm = seam(*frames, {n / 2});
    auto t4 = clock::now();
    ASSERT_TRUE(st && sb && sm);
    auto st_file = structure(video, video, ControlKind::gradient);
    auto t5 = clock::now();
    ASSERT_TRUE(st_file);
    std::printf(
        "quality-bench frames=%d decode_s=%.4f structure_s=%.4f stability_s=%.4f "
        "seam_s=%.4f structure_files_s=%.4f\n",
        n,
        seconds(t0, t1),
        seconds(t1, t2),
        seconds(t2, t3),
        seconds(t3, t4),
        seconds(t4, t5));
}
