// Render-folder scanning: naming rules and the problems reported with exact file names.

#include "media/sequence.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using cosmos::media::scan_render_dir;

namespace {

bool has_problem(const cosmos::media::RenderScan& scan, const std::string& text) {
    for (const auto& p : scan.problems) {
        if (p.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string all(const cosmos::media::RenderScan& scan) {
    std::string s;
    for (const auto& p : scan.problems) {
        s += p + "\n";
    }
    return s;
}

}  // namespace

TEST(SequenceScan, FindsModalitiesInFileAndFolderNamesWithAnyPadding) {
    cosmos::test::TempDir dir;
    for (int i = 1; i <= 3; ++i) {
        dir.write("color." + std::to_string(i) + ".png", "");  // no padding
        dir.write("depth/frame_" + std::string(i < 10 ? "00" : "0") + std::to_string(i) + ".exr",
                  "");
        dir.write("shot3_segmentation-000" + std::to_string(i) + ".png", "");
    }
    dir.write("notes.txt", "");
    dir.write("misc/frame_0001.png", "");
    auto scan = scan_render_dir(dir.path());
    ASSERT_TRUE(scan) << scan.error().message;
    EXPECT_TRUE(scan->problems.empty()) << all(*scan);
    ASSERT_EQ(scan->sequences.size(), 3u);
    EXPECT_EQ(scan->sequences.at("color").frames.size(), 3u);
    EXPECT_EQ(scan->sequences.at("depth").pattern(), "depth/frame_###.exr");
    EXPECT_EQ(scan->sequences.at("seg").frames.back().number, 3);
    ASSERT_EQ(scan->ignored.size(), 1u);
    EXPECT_EQ(scan->ignored[0], "misc/frame_0001.png");
}

TEST(SequenceScan, AMaskPassIsItsControlsMaskNotMoreFramesOfThatControl) {
    // Before masks were known, depth_mask.0001.png counted as a depth frame: duplicate frames.
    cosmos::test::TempDir dir;
    for (int i = 1; i <= 2; ++i) {
        std::string n = "000" + std::to_string(i);
        dir.write("color." + n + ".png", "");
        dir.write("depth." + n + ".png", "");
        dir.write("depth_mask." + n + ".png", "");           // underscore
        dir.write("shot3-edge-mask-" + n + ".png", "");      // dashes, a shot prefix
        dir.write("segmentation_mask/f_" + n + ".png", "");  // a folder named after it
        dir.write("color_mask." + n + ".png", "");           // color has no mask: ignored
    }
    auto scan = scan_render_dir(dir.path());
    ASSERT_TRUE(scan) << scan.error().message;
    EXPECT_TRUE(scan->problems.empty()) << all(*scan);
    std::vector<std::string> found;
    for (const auto& [m, seq] : scan->sequences) {
        found.push_back(m);
        EXPECT_EQ(seq.frames.size(), 2u) << m;
    }
    EXPECT_EQ(found,
              (std::vector<std::string>{"color", "depth", "depth_mask", "edge_mask", "seg_mask"}));
}

TEST(SequenceScan, NamesAMissingFrameAndItsNeighbours) {
    cosmos::test::TempDir dir;
    for (int i : {1, 2, 3, 5, 6}) {
        dir.write("color.000" + std::to_string(i) + ".png", "");
    }
    auto scan = scan_render_dir(dir.path());
    ASSERT_TRUE(scan);
    ASSERT_EQ(scan->problems.size(), 1u) << all(*scan);
    EXPECT_EQ(scan->problems[0],
              "color: missing frame color.0004.png (between color.0003.png and color.0005.png)");
}

TEST(SequenceScan, ReportsDuplicatesAndControlFramesMissingOrExtra) {
    cosmos::test::TempDir dir;
    for (int i = 1; i <= 4; ++i) {
        dir.write("color.000" + std::to_string(i) + ".png", "");
    }
    dir.write("color.02.png", "");  // duplicate of 2 with other padding
    for (int i : {1, 2, 4, 5}) {
        dir.write("depth.000" + std::to_string(i) + ".png", "");
    }
    auto scan = scan_render_dir(dir.path());
    ASSERT_TRUE(scan);
    EXPECT_TRUE(has_problem(*scan, "duplicate frame 2"));
    EXPECT_TRUE(
        has_problem(*scan, "depth: missing frame depth.0003.png (color has color.0003.png)"))
        << all(*scan);
    EXPECT_TRUE(has_problem(*scan, "depth: extra frame depth.0005.png has no color frame"))
        << all(*scan);
}

TEST(SequenceScan, RequiresAColorSequence) {
    cosmos::test::TempDir dir;
    dir.write("depth.0001.png", "");
    auto scan = scan_render_dir(dir.path());
    ASSERT_TRUE(scan);
    EXPECT_TRUE(has_problem(*scan, "no color sequence"));
    EXPECT_FALSE(scan_render_dir(dir / "nope"));
}
