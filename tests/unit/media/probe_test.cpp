#include "media/probe.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "media/synthetic.hpp"
#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using cosmos::media::probe_video;
using cosmos::media::SyntheticPass;
using cosmos::media::SyntheticVideo;
using cosmos::media::write_synthetic_video;

TEST(Probe, ReportsFramesFpsSizeAndCodecOfAnH264Video) {
    cosmos::test::TempDir dir;
    auto path = dir / "color.mp4";
    ASSERT_TRUE(write_synthetic_video(
        path,
        SyntheticVideo{
            .pass = SyntheticPass::color, .width = 160, .height = 96, .frames = 37, .fps = 30}));
    auto info = probe_video(path);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->width, 160);
    EXPECT_EQ(info->height, 96);
    EXPECT_EQ(info->frames, 37);
    EXPECT_DOUBLE_EQ(info->fps, 30.0);
    EXPECT_EQ(info->codec, "h264");
    EXPECT_EQ(info->pixel_format, "yuv420p");
    EXPECT_NEAR(info->duration_s, 37.0 / 30.0, 0.05);
}

TEST(Probe, MissingFileIsNotFound) {
    cosmos::test::TempDir dir;
    auto info = probe_video(dir / "nope.mp4");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, ErrorCode::not_found);
    EXPECT_NE(info.error().message.find("nope.mp4"), std::string::npos);
}

TEST(Probe, GarbageFileIsInvalidInputNamingTheFile) {
    cosmos::test::TempDir dir;
    auto path = dir / "garbage.mp4";
    std::ofstream(path) << "this is not a video, just some text pretending to be one\n";
    auto info = probe_video(path);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, ErrorCode::invalid_input);
    EXPECT_NE(info.error().message.find("garbage.mp4"), std::string::npos);
}

TEST(Probe, EmptyFileIsInvalidInput) {
    cosmos::test::TempDir dir;
    auto path = dir / "empty.mp4";
    std::ofstream{path};
    auto info = probe_video(path);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, ErrorCode::invalid_input);
}
