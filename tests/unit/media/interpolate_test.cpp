// Frame interpolation: k*(N-1)+1 frames at k times the rate, with both methods.

#include "media/interpolate.hpp"

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "support/media_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::media;

TEST(Interpolate, TwiceNFramesGivesTwoNMinusOneWithEitherMethod) {
    cosmos::test::TempDir dir;
    cosmos::test::write_scene_video(dir / "in.mp4", 64, 48, 10);
    for (auto method : {InterpolationMethod::mci, InterpolationMethod::blend}) {
        InterpolateOptions o;
        o.factor = 2;
        o.method = method;
        o.preset = "ultrafast";
        auto r = interpolate_video(dir / "in.mp4", dir / "out.mp4", o);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->input_frames, 10);
        EXPECT_EQ(r->output_frames, 19);
        auto info = probe_video(dir / "out.mp4");
        ASSERT_TRUE(info);
        EXPECT_EQ(info->frames, 19);
        EXPECT_DOUBLE_EQ(info->fps, 48.0);
    }
}

TEST(Interpolate, FactorFourWithSmoothing) {
    cosmos::test::TempDir dir;
    cosmos::test::write_scene_video(dir / "in.mp4", 64, 48, 6);
    InterpolateOptions o;
    o.factor = 4;
    o.method = InterpolationMethod::blend;
    o.smooth = true;
    o.preset = "ultrafast";
    auto r = interpolate_video(dir / "in.mp4", dir / "out.mp4", o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(probe_video(dir / "out.mp4")->frames, 21);
}

TEST(Interpolate, RefusesOtherFactorsAndSingleFrames) {
    cosmos::test::TempDir dir;
    cosmos::test::write_scene_video(dir / "one.mp4", 64, 48, 1);
    InterpolateOptions o;
    o.factor = 3;
    EXPECT_FALSE(interpolate_video(dir / "one.mp4", dir / "o.mp4", o));
    o.factor = 2;
    auto r = interpolate_video(dir / "one.mp4", dir / "o.mp4", o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("at least 2"), std::string::npos);
}
