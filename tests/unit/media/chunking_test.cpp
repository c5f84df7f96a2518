// Long-video windows, splitting and cross-fade stitching.

#include "media/chunking.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "support/media_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::media;

namespace {

void write_solid(const std::filesystem::path& path, int frames, std::uint8_t value) {
    VideoWriter w;
    WriterOptions o;
    o.width = 32;
    o.height = 32;
    o.preset = "ultrafast";
    ASSERT_TRUE(w.open(path, o));
    Frame f = make_frame(32, 32);
    std::fill(f.rgb.begin(), f.rgb.end(), value);
    for (int i = 0; i < frames; ++i) {
        ASSERT_TRUE(w.write_frame(f));
    }
    ASSERT_TRUE(w.finish());
}

std::vector<double> mean_levels(const std::filesystem::path& path) {
    VideoReader r;
    EXPECT_TRUE(r.open(path));
    std::vector<double> out;
    Frame f;
    while (true) {
        auto got = r.read_frame(f);
        if (!got || !*got) {
            break;
        }
        double sum = 0;
        for (auto v : f.rgb) {
            sum += v;
        }
        out.push_back(sum / static_cast<double>(f.rgb.size()));
    }
    return out;
}

}  // namespace

TEST(PlanWindows, CoversTheVideoWithOverlapsAndAShortLastWindow) {
    auto w = plan_windows(300, 121, 16);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->size(), 3u);
    EXPECT_EQ((*w)[0].start, 0);
    EXPECT_EQ((*w)[1].start, 105);
    EXPECT_EQ((*w)[2].start, 210);
    EXPECT_EQ((*w)[2].frames, 90);
    EXPECT_EQ(w->back().end(), 300);
    auto one = plan_windows(121, 121, 16);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->size(), 1u);
    auto exact = plan_windows(226, 121, 16);  // 0..120, 105..225
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->size(), 2u);
    EXPECT_EQ(exact->back().frames, 121);
}

TEST(PlanWindows, RefusesOverlapsOfMoreThanHalfAWindow) {
    EXPECT_FALSE(plan_windows(300, 121, 61));
    EXPECT_TRUE(plan_windows(300, 121, 60));
    EXPECT_FALSE(plan_windows(0, 121, 16));
    EXPECT_FALSE(plan_windows(10, 1, 0));
}

TEST(Stitch, CrossFadesLinearlyAcrossTheOverlap) {
    cosmos::test::TempDir dir;
    write_solid(dir / "a.mp4", 10, 0);
    write_solid(dir / "b.mp4", 10, 250);
    auto windows = windows_from_parts({10, 10}, 4);
    ASSERT_TRUE(windows);
    StitchOptions o;
    o.preset = "ultrafast";
    o.crf = 0;
    ASSERT_TRUE(stitch_videos({dir / "a.mp4", dir / "b.mp4"}, *windows, dir / "s.mp4", o));
    auto levels = mean_levels(dir / "s.mp4");
    ASSERT_EQ(levels.size(), 16u);
    // Frames 6..9 are the overlap: 1/5, 2/5, 3/5, 4/5 of the way from 0 to 250.
    EXPECT_NEAR(levels[5], 0, 2);
    EXPECT_NEAR(levels[6], 50, 3);
    EXPECT_NEAR(levels[7], 100, 3);
    EXPECT_NEAR(levels[8], 150, 3);
    EXPECT_NEAR(levels[9], 200, 3);
    EXPECT_NEAR(levels[10], 250, 3);
}

TEST(Stitch, SplitThenStitchGivesBackEveryFrame) {
    cosmos::test::TempDir dir;
    cosmos::test::write_scene_video(dir / "long.mp4", 64, 48, 300);
    auto windows = plan_windows(300, 121, 16);
    ASSERT_TRUE(windows);
    std::vector<std::filesystem::path> parts;
    for (std::size_t i = 0; i < windows->size(); ++i) {
        parts.push_back(dir / ("part" + std::to_string(i) + ".mp4"));
    }
    SplitOptions so;
    so.preset = "ultrafast";
    ASSERT_TRUE(split_video(dir / "long.mp4", *windows, parts, so));
    EXPECT_EQ(probe_video(parts[0])->frames, 121);
    EXPECT_EQ(probe_video(parts[2])->frames, 90);
    StitchOptions st;
    st.preset = "ultrafast";
    ASSERT_TRUE(stitch_videos(parts, *windows, dir / "back.mp4", st));
    auto info = probe_video(dir / "back.mp4");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->frames, 300);
    EXPECT_DOUBLE_EQ(info->fps, 24.0);
}

TEST(Stitch, NamesAPartThatIsTooShortOrOfAnotherSize) {
    cosmos::test::TempDir dir;
    write_solid(dir / "a.mp4", 10, 0);
    write_solid(dir / "b.mp4", 5, 0);
    std::vector<Window> w{{0, 10}, {6, 10}};
    auto st = stitch_videos({dir / "a.mp4", dir / "b.mp4"}, w, dir / "s.mp4", {});
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("part 2"), std::string::npos) << st.error().message;
    cosmos::test::write_scene_video(dir / "c.mp4", 64, 48, 10);
    st = stitch_videos({dir / "a.mp4", dir / "c.mp4"}, {{0, 10}, {6, 10}}, dir / "s.mp4", {});
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("is 64x48 but part 1 is 32x32"), std::string::npos)
        << st.error().message;
}
