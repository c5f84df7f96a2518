// Sequence encoding per modality: frame counts, size checks, depth normalisation, stable
// segmentation colours and edge maps computed from colour.

#include "media/sequence_encode.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

#include "media/image_file.hpp"
#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "support/media_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::media;

namespace {

ImageSequence scan_one(const std::filesystem::path& dir, const std::string& modality) {
    auto scan = scan_render_dir(dir);
    EXPECT_TRUE(scan);
    return scan->sequences.at(modality);
}

std::vector<Frame> read_all(const std::filesystem::path& path) {
    VideoReader r;
    EXPECT_TRUE(r.open(path));
    std::vector<Frame> frames;
    Frame f;
    while (true) {
        auto got = r.read_frame(f);
        EXPECT_TRUE(got);
        if (!got || !*got) {
            break;
        }
        frames.push_back(f);
    }
    return frames;
}

const std::uint8_t* px(const Frame& f, int x, int y) {
    return f.rgb.data() + (static_cast<std::size_t>(y) * f.width + x) * 3;
}

}  // namespace

TEST(SequenceEncode, ColorSequenceBecomesAnH264Mp4WithEveryFrame) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "color.", "color", 96, 64, 1, 12);
    EncodeOptions o;
    o.fps = 30;
    o.preset = "ultrafast";
    auto r =
        encode_sequence(scan_one(dir.path(), "color"), dir / "color.mp4", EncodeMode::color, o);
    ASSERT_TRUE(r) << r.error().message;
    auto info = probe_video(dir / "color.mp4");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->frames, 12);
    EXPECT_DOUBLE_EQ(info->fps, 30.0);
    EXPECT_EQ(info->codec, "h264");
    EXPECT_EQ(info->pixel_format, "yuv420p");
}

TEST(SequenceEncode, OddSizesArePaddedToEven) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "color.", "color", 95, 63, 1, 3);
    EncodeOptions o;
    o.preset = "ultrafast";
    auto r = encode_sequence(scan_one(dir.path(), "color"), dir / "c.mp4", EncodeMode::color, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->width, 96);
    EXPECT_EQ(r->height, 64);
    EXPECT_EQ(r->source_width, 95);
}

TEST(SequenceEncode, AFrameOfAnotherSizeIsNamed) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "color.", "color", 64, 64, 1, 4);
    cosmos::test::write_sequence(dir.path(), "color.", "color", 80, 64, 3, 1);  // frame 3
    EncodeOptions o;
    o.preset = "ultrafast";
    auto r = encode_sequence(scan_one(dir.path(), "color"), dir / "c.mp4", EncodeMode::color, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, cosmos::core::ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("color.0003.png is 80x64 but"), std::string::npos)
        << r.error().message;
}

TEST(SequenceEncode, SixteenBitDepthDistancesBecomeNearBright) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "depth.", "depth16", 96, 96, 1, 4);
    EncodeOptions o;
    o.preset = "ultrafast";
    auto r = encode_sequence(scan_one(dir.path(), "depth"), dir / "d.mp4", EncodeMode::depth, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->samples, SampleKind::u16);
    EXPECT_TRUE(r->depth_inverted);
    EXPECT_DOUBLE_EQ(r->depth_min, 1000);
    EXPECT_DOUBLE_EQ(r->depth_max, 10000);
    auto frames = read_all(dir / "d.mp4");
    ASSERT_EQ(frames.size(), 4u);
    // Frame 0: the square (nearest, 1000 mm) spans x 0..31, y 32..63; the far bottom row.
    const auto* near = px(frames[0], 16, 48);
    const auto* far = px(frames[0], 80, 94);
    EXPECT_GT(near[0], 245);
    EXPECT_LT(far[0], 15);
    EXPECT_NEAR(near[0], near[1], 3);  // gray
    EXPECT_NEAR(near[0], near[2], 3);
}

TEST(SequenceEncode, DepthRangeAndConventionCanBeGiven) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "depth.", "depth16", 64, 64, 1, 2);
    EncodeOptions o;
    o.preset = "ultrafast";
    o.depth.near = DepthNear::bright;
    o.depth.range = std::make_pair(0.0, 20000.0);
    auto r = encode_sequence(scan_one(dir.path(), "depth"), dir / "d.mp4", EncodeMode::depth, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->depth_inverted);
    auto frames = read_all(dir / "d.mp4");
    ASSERT_FALSE(frames.empty());
    EXPECT_NEAR(px(frames[0], 10, 30)[0], 1000 * 255 / 20000, 4);  // square, not inverted
}

TEST(SequenceEncode, SegmentationLabelColoursStayFlatAndStable) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "segmentation.", "seg", 128, 96, 1, 8);
    EncodeOptions o;
    o.preset = "ultrafast";
    auto r =
        encode_sequence(scan_one(dir.path(), "seg"), dir / "s.mp4", EncodeMode::segmentation, o);
    ASSERT_TRUE(r) << r.error().message;
    auto frames = read_all(dir / "s.mp4");
    ASSERT_EQ(frames.size(), 8u);
    // Inside each label region (away from its border) every frame shows the label colour.
    for (const auto& f : frames) {
        for (auto [x, y, r0, g0, b0] : {std::tuple{120, 8, 70, 130, 180}}) {
            const auto* p = px(f, x, y);
            EXPECT_NEAR(p[0], r0, 4);
            EXPECT_NEAR(p[1], g0, 4);
            EXPECT_NEAR(p[2], b0, 4);
        }
    }
    const auto* sq = px(frames[0], 14, 46);  // inside the square of frame 0 (x 0..31)
    EXPECT_NEAR(sq[0], 220, 6);
    EXPECT_NEAR(sq[1], 20, 6);
    EXPECT_NEAR(sq[2], 60, 6);
}

TEST(SequenceEncode, EdgeIsComputedFromColorWhenAsked) {
    cosmos::test::TempDir dir;
    cosmos::test::write_sequence(dir.path(), "color.", "color", 96, 96, 1, 5);
    EncodeOptions o;
    o.preset = "ultrafast";
    auto r = encode_sequence(
        scan_one(dir.path(), "color"), dir / "edge.mp4", EncodeMode::edge_from_color, o);
    ASSERT_TRUE(r) << r.error().message;
    auto frames = read_all(dir / "edge.mp4");
    ASSERT_EQ(frames.size(), 5u);
    // Mostly black with some white edge pixels (the moving square's outline).
    int white = 0, black = 0;
    for (std::size_t i = 0; i < frames[0].rgb.size(); i += 3) {
        white += frames[0].rgb[i] > 200 ? 1 : 0;
        black += frames[0].rgb[i] < 40 ? 1 : 0;
    }
    EXPECT_GT(white, 40);
    EXPECT_GT(black, 96 * 96 / 2);
}
