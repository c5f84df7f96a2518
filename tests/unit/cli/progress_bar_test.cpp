// The transfer progress bar's formatting helpers and its no-op mode.

#include "cli/progress_bar.hpp"

#include <gtest/gtest.h>

#include "core/units.hpp"

namespace cosmos::cli {
namespace {

TEST(ProgressBar, FormatsBytesAndDurations) {
    EXPECT_EQ(cosmos::core::human_bytes(512), "512 B");
    EXPECT_EQ(cosmos::core::human_bytes(1536), "1.5 KiB");
    EXPECT_EQ(cosmos::core::human_bytes(3.0 * (1 << 30)), "3.0 GiB");
    EXPECT_EQ(ProgressBar::human_duration(5), "0:05");
    EXPECT_EQ(ProgressBar::human_duration(125), "2:05");
    EXPECT_EQ(ProgressBar::human_duration(3725), "1:02:05");
    EXPECT_EQ(ProgressBar::human_duration(-1), "--:--");
}

TEST(ProgressBar, DisabledBarPrintsNothing) {
    testing::internal::CaptureStderr();
    {
        ProgressBar bar("file.mp4", 100, false);
        bar.update(50);
        bar.finish();
    }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ProgressBar, EnabledBarDrawsOneLine) {
    testing::internal::CaptureStderr();
    {
        ProgressBar bar("file.mp4", 2048, true);
        bar.update(1024);
        bar.finish();
    }
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("file.mp4"), std::string::npos);
    EXPECT_NE(out.find("100%"), std::string::npos);
    EXPECT_NE(out.find("2.0 KiB / 2.0 KiB"), std::string::npos);
    EXPECT_EQ(out.back(), '\n');
}

}  // namespace
}  // namespace cosmos::cli
