#include "media/synthetic.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using cosmos::media::Frame;
using cosmos::media::SyntheticPass;
using cosmos::media::SyntheticVideo;
using cosmos::media::VideoReader;
using cosmos::media::write_synthetic_video;

namespace {

constexpr int k_w = 192, k_h = 112, k_frames = 24;

std::vector<Frame> write_and_read(const cosmos::test::TempDir& dir, SyntheticPass pass) {
    auto path = dir / "pass.mp4";
    auto st = write_synthetic_video(
        path,
        SyntheticVideo{.pass = pass, .width = k_w, .height = k_h, .frames = k_frames, .fps = 24});
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    auto info = cosmos::media::probe_video(path);
    EXPECT_TRUE(info);
    if (info) {
        EXPECT_EQ(info->frames, k_frames);
        EXPECT_EQ(info->codec, "h264");
        EXPECT_EQ(info->width, k_w);
        EXPECT_EQ(info->height, k_h);
    }
    VideoReader reader;
    EXPECT_TRUE(reader.open(path));
    std::vector<Frame> frames;
    Frame f;
    while (true) {
        auto more = reader.read_frame(f);
        if (!more || !*more) {
            break;
        }
        frames.push_back(f);
    }
    return frames;
}

double mean_abs_difference(const Frame& a, const Frame& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i) {
        sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    }
    return sum / a.rgb.size();
}

}  // namespace

TEST(Synthetic, ColourSceneMoves) {
    cosmos::test::TempDir dir;
    auto frames = write_and_read(dir, SyntheticPass::color);
    ASSERT_EQ(frames.size(), std::size_t(k_frames));
    EXPECT_GT(mean_abs_difference(frames.front(), frames.back()), 1.0);
}

TEST(Synthetic, DepthIsGrayWithNearObjectsBrighterThanTheSky) {
    cosmos::test::TempDir dir;
    auto frames = write_and_read(dir, SyntheticPass::depth);
    ASSERT_EQ(frames.size(), std::size_t(k_frames));
    const Frame& f = frames.front();
    int brightest = 0;
    for (std::size_t i = 0; i < f.rgb.size(); i += 3) {
        EXPECT_NEAR(f.rgb[i], f.rgb[i + 1], 8);
        EXPECT_NEAR(f.rgb[i], f.rgb[i + 2], 8);
        brightest = std::max<int>(brightest, f.rgb[i]);
    }
    EXPECT_LT(f.rgb[(2 * k_w + 2) * 3], 40);  // top-left: far sky
    EXPECT_GT(brightest, 200);                // the nearest object
}

TEST(Synthetic, SegmentationUsesFewFlatColours) {
    cosmos::test::TempDir dir;
    auto frames = write_and_read(dir, SyntheticPass::segmentation);
    ASSERT_EQ(frames.size(), std::size_t(k_frames));
    const Frame& f = frames.front();
    // Top-left is sky: Cityscapes (70, 130, 180), within compression noise.
    std::size_t o = (2 * k_w + 2) * 3;
    EXPECT_NEAR(f.rgb[o], 70, 8);
    EXPECT_NEAR(f.rgb[o + 1], 130, 8);
    EXPECT_NEAR(f.rgb[o + 2], 180, 8);
}

TEST(Synthetic, EdgesAreThinWhiteLinesOnBlack) {
    cosmos::test::TempDir dir;
    auto frames = write_and_read(dir, SyntheticPass::edge);
    ASSERT_EQ(frames.size(), std::size_t(k_frames));
    std::size_t white = 0, black = 0;
    const Frame& f = frames.front();
    for (std::size_t i = 0; i < f.rgb.size(); i += 3) {
        white += f.rgb[i] > 180 ? 1 : 0;
        black += f.rgb[i] < 60 ? 1 : 0;
    }
    std::size_t pixels = f.rgb.size() / 3;
    EXPECT_GT(white, pixels / 100);
    EXPECT_LT(white, pixels / 4);
    EXPECT_GT(black, pixels / 2);
}

TEST(Synthetic, RefusesOddSizesAndNoFrames) {
    cosmos::test::TempDir dir;
    auto st = write_synthetic_video(dir / "odd.mp4", SyntheticVideo{.width = 161, .height = 96});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
    st = write_synthetic_video(dir / "none.mp4", SyntheticVideo{.frames = 0});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
}
