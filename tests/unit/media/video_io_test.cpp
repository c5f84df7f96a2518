#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using cosmos::media::Frame;
using cosmos::media::make_frame;
using cosmos::media::ReadOptions;
using cosmos::media::VideoReader;
using cosmos::media::VideoWriter;
using cosmos::media::WriterOptions;

namespace {

Frame solid(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    Frame f = make_frame(w, h);
    for (std::size_t i = 0; i < f.rgb.size(); i += 3) {
        f.rgb[i] = r;
        f.rgb[i + 1] = g;
        f.rgb[i + 2] = b;
    }
    return f;
}

// Writes `n` solid frames whose red channel encodes the frame index.
void write_ramp(const std::filesystem::path& path, int w, int h, int n, int fps) {
    VideoWriter writer;
    ASSERT_TRUE(writer.open(path, WriterOptions{.width = w, .height = h, .fps = fps}));
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(
            writer.write_frame(solid(w, h, static_cast<std::uint8_t>(20 + 10 * i), 90, 40)));
    }
    ASSERT_TRUE(writer.finish());
}

}  // namespace

TEST(VideoWriter, WritesAnH264Mp4WithTheRequestedFramesAndFps) {
    cosmos::test::TempDir dir;
    write_ramp(dir / "ramp.mp4", 64, 48, 12, 25);
    auto info = cosmos::media::probe_video(dir / "ramp.mp4");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->codec, "h264");
    EXPECT_EQ(info->pixel_format, "yuv420p");
    EXPECT_EQ(info->frames, 12);
    EXPECT_DOUBLE_EQ(info->fps, 25.0);
    EXPECT_EQ(info->width, 64);
    EXPECT_EQ(info->height, 48);
}

TEST(VideoWriter, RefusesOddSizes) {
    cosmos::test::TempDir dir;
    VideoWriter writer;
    auto st = writer.open(dir / "odd.mp4", WriterOptions{.width = 321, .height = 176, .fps = 24});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
    st = writer.open(dir / "odd.mp4", WriterOptions{.width = 320, .height = 175, .fps = 24});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
}

TEST(VideoWriter, RefusesFramesOfAnotherSize) {
    cosmos::test::TempDir dir;
    VideoWriter writer;
    ASSERT_TRUE(writer.open(dir / "a.mp4", WriterOptions{.width = 32, .height = 32, .fps = 24}));
    auto st = writer.write_frame(make_frame(64, 32));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
    EXPECT_TRUE(writer.write_frame(make_frame(32, 32)));
    EXPECT_TRUE(writer.finish());
}

TEST(VideoWriter, UnwritableFolderIsAnIoError) {
    cosmos::test::TempDir dir;
    VideoWriter writer;
    auto st =
        writer.open(dir / "missing" / "a.mp4", WriterOptions{.width = 32, .height = 32, .fps = 24});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::io);
}

TEST(VideoReader, ReadsBackEveryFrameWithItsColour) {
    cosmos::test::TempDir dir;
    write_ramp(dir / "ramp.mp4", 64, 48, 12, 24);
    VideoReader reader;
    ASSERT_TRUE(reader.open(dir / "ramp.mp4"));
    EXPECT_EQ(reader.width(), 64);
    EXPECT_EQ(reader.height(), 48);
    EXPECT_DOUBLE_EQ(reader.fps(), 24.0);
    Frame f;
    int n = 0;
    while (true) {
        auto more = reader.read_frame(f);
        ASSERT_TRUE(more) << more.error().message;
        if (!*more) {
            break;
        }
        ASSERT_EQ(f.width, 64);
        ASSERT_EQ(f.rgb.size(), 64u * 48u * 3u);
        std::size_t centre = (24 * 64 + 32) * 3;
        EXPECT_NEAR(f.rgb[centre], 20 + 10 * n, 6) << "frame " << n;
        EXPECT_NEAR(f.rgb[centre + 1], 90, 6);
        EXPECT_NEAR(f.rgb[centre + 2], 40, 6);
        ++n;
    }
    EXPECT_EQ(n, 12);
}

TEST(VideoReader, ResizesToARequestedSize) {
    cosmos::test::TempDir dir;
    write_ramp(dir / "ramp.mp4", 64, 48, 3, 24);
    VideoReader reader;
    ASSERT_TRUE(reader.open(dir / "ramp.mp4", ReadOptions{.width = 128, .height = 70}));
    EXPECT_EQ(reader.source_width(), 64);
    Frame f;
    auto more = reader.read_frame(f);
    ASSERT_TRUE(more && *more);
    EXPECT_EQ(f.width, 128);
    EXPECT_EQ(f.height, 70);
    EXPECT_EQ(f.rgb.size(), 128u * 70u * 3u);
}

TEST(VideoReader, MissingFileIsNotFoundAndGarbageIsInvalidInput) {
    cosmos::test::TempDir dir;
    VideoReader reader;
    auto st = reader.open(dir / "nope.mp4");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::not_found);
    std::ofstream(dir / "garbage.mp4") << "garbage garbage garbage";
    st = reader.open(dir / "garbage.mp4");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
    EXPECT_NE(st.error().message.find("garbage.mp4"), std::string::npos);
    Frame f;
    EXPECT_FALSE(reader.read_frame(f));
}
