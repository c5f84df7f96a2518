// write_scaled_clip: the first frames of a video, resized, as a new mp4 (probed with our probe).

#include "media/scaled_clip.hpp"

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/synthetic.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::media;

TEST(ScaledClip, KeepsTheFirstFramesAtTheRequestedSize) {
    cosmos::test::TempDir tmp;
    SyntheticVideo v;
    v.width = 1280;
    v.height = 720;
    v.frames = 5;
    ASSERT_TRUE(write_synthetic_video(tmp / "in.mp4", v));
    auto written = write_scaled_clip(tmp / "in.mp4", tmp / "clip.mp4", {940, 528, 2});
    ASSERT_TRUE(written.has_value()) << written.error().message;
    EXPECT_EQ(*written, 2);
    auto info = probe_video(tmp / "clip.mp4");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->width, 940);
    EXPECT_EQ(info->height, 528);
    EXPECT_EQ(info->frames, 2);
    auto all = write_scaled_clip(tmp / "in.mp4", tmp / "all.mp4", {320, 180, 50});
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, 5);  // a shorter video gives what it has
}

TEST(ScaledClip, RefusesOddSizesAndMissingFiles) {
    cosmos::test::TempDir tmp;
    EXPECT_EQ(write_scaled_clip(tmp / "none.mp4", tmp / "c.mp4", {940, 528, 2}).error().code,
              cosmos::core::ErrorCode::not_found);
    EXPECT_EQ(write_scaled_clip(tmp / "none.mp4", tmp / "c.mp4", {941, 528, 2}).error().code,
              cosmos::core::ErrorCode::invalid_input);
}
