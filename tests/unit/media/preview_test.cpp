// Thumbnails and contact sheets.

#include "media/preview.hpp"

#include <gtest/gtest.h>

#include "media/image_file.hpp"
#include "support/media_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::media;

TEST(Preview, WritesAThumbnailAndAContactSheet) {
    cosmos::test::TempDir dir;
    cosmos::test::write_scene_video(dir / "v.mp4", 128, 64, 30);
    PreviewOptions o;
    o.width = 64;
    auto files = write_previews(dir / "v.mp4", dir / "previews", "color", o);
    ASSERT_TRUE(files) << files.error().message;
    EXPECT_EQ(files->thumbnail, dir / "previews" / "color.thumb.png");
    auto thumb = read_image_rgb(files->thumbnail);
    ASSERT_TRUE(thumb);
    EXPECT_EQ(thumb->width, 64);
    EXPECT_EQ(thumb->height, 32);
    auto sheet = read_image_rgb(files->contact_sheet);
    ASSERT_TRUE(sheet);
    EXPECT_EQ(sheet->width, 4 * 64 + 5 * 4);
    EXPECT_EQ(sheet->height, 3 * 32 + 4 * 4);
}

TEST(ImageFile, SixteenBitPngRoundTripsThroughTheScalarReader) {
    cosmos::test::TempDir dir;
    std::vector<std::uint16_t> v{0, 1000, 40000, 65535};
    ASSERT_TRUE(write_png_gray16(dir / "d.png", 2, 2, v));
    auto img = read_image_scalar(dir / "d.png");
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->kind, SampleKind::u16);
    EXPECT_FLOAT_EQ(img->values[1], 1000);
    EXPECT_FLOAT_EQ(img->values[3], 65535);
    auto bad = read_image_rgb(dir.write("x.png", "not a png"));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("x.png"), std::string::npos);
}
