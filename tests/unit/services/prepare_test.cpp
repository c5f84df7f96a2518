// cosmos prepare's service: render folder -> input set with manifest and previews.

#include "services/prepare.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "media/probe.hpp"
#include "services/input_set.hpp"
#include "services/long_video.hpp"
#include "support/media_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;

namespace {

services::PrepareRequest request(const std::filesystem::path& render,
                                 const std::filesystem::path& out) {
    services::PrepareRequest req;
    req.render_dir = render;
    req.output_dir = out;
    req.preset = "ultrafast";
    return req;
}

void write_render(const std::filesystem::path& dir, int frames) {
    test::write_sequence(dir, "color.", "color", 96, 64, 1, frames);
    test::write_sequence(dir / "depth", "depth.", "depth16", 96, 64, 1, frames);
    test::write_sequence(dir, "segmentation_", "seg", 96, 64, 1, frames, 3);
}

}  // namespace

TEST(Prepare, ThreeModalitiesBecomeAnInputSetWithAManifest) {
    test::TempDir dir;
    write_render(dir / "render", 6);
    auto req = request(dir / "render", dir / "set");
    req.make_edge = true;
    auto r = services::prepare_render(nullptr, req);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->files.size(), 4u);
    EXPECT_EQ(r->video.frames, 6);
    for (const auto& f : r->files) {
        auto info = media::probe_video(r->output_dir / f.file);
        ASSERT_TRUE(info) << f.file;
        EXPECT_EQ(info->frames, 6) << f.file;
        EXPECT_DOUBLE_EQ(info->fps, 24.0);
        EXPECT_EQ(*core::sha256_file(r->output_dir / f.file), f.sha256);
    }
    // The result is an input set the rest of cosmos accepts.
    auto set = services::scan_input_set(r->output_dir);
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->controls.size(), 3u);  // depth, edge, seg
    EXPECT_EQ(set->controls.at("seg").filename(), "segmentation.mp4");
    std::ifstream in(r->manifest);
    auto m = nlohmann::json::parse(in);
    EXPECT_EQ(m["format"], "cosmos-input-set/1");
    EXPECT_EQ(m["frames"], 6);
    EXPECT_EQ(m["files"].size(), 4u);
    EXPECT_EQ(m["depth"]["inverted"], true);
    EXPECT_TRUE(std::filesystem::exists(r->previews.contact_sheet));
}

TEST(Prepare, AMissingFrameIsNamedAndNothingIsWritten) {
    test::TempDir dir;
    write_render(dir / "render", 5);
    std::filesystem::remove(dir / "render" / "depth" / "depth.0003.png");
    auto r = services::prepare_render(nullptr, request(dir / "render", dir / "set"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("depth/depth.0003.png"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir / "set" / "color.mp4"));
}

TEST(Prepare, MismatchedResolutionsAreRefused) {
    test::TempDir dir;
    test::write_sequence(dir / "render", "color.", "color", 96, 64, 1, 3);
    test::write_sequence(dir / "render", "depth.", "depth16", 64, 64, 1, 3);
    auto r = services::prepare_render(nullptr, request(dir / "render", dir / "set"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("depth.0001.png is 64x64 but"), std::string::npos)
        << r.error().message;
}

TEST(Prepare, RefusesToOverwriteAnInputSetUnlessForced) {
    test::TempDir dir;
    write_render(dir / "render", 2);
    ASSERT_TRUE(services::prepare_render(nullptr, request(dir / "render", dir / "set")));
    auto again = services::prepare_render(nullptr, request(dir / "render", dir / "set"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, core::ErrorCode::conflict);
    auto req = request(dir / "render", dir / "set");
    req.force = true;
    EXPECT_TRUE(services::prepare_render(nullptr, req));
}

TEST(LongVideo, ChunksAnInputSetAndStitchesItBack) {
    test::TempDir dir;
    write_render(dir / "render", 30);
    ASSERT_TRUE(services::prepare_render(nullptr, request(dir / "render", dir / "set")));
    services::ChunkRequest cr;
    cr.input = dir / "set";
    cr.output_dir = dir / "chunks";
    cr.window = 12;
    cr.overlap = 4;
    cr.preset = "ultrafast";
    auto chunks = services::chunk_input(cr);
    ASSERT_TRUE(chunks) << chunks.error().message;
    EXPECT_TRUE(chunks->input_set);
    ASSERT_EQ(chunks->chunks.size(), 4u);  // 0..11, 8..19, 16..27, 24..29
    for (const auto& c : chunks->chunks) {
        auto set = services::scan_input_set(c.path);
        ASSERT_TRUE(set) << set.error().message;
        EXPECT_EQ(set->video.frames, c.window.frames);
        EXPECT_EQ(set->controls.size(), 2u);
    }
    services::StitchRequest sr;
    sr.manifest = chunks->manifest;
    sr.output = dir / "stitched.mp4";
    sr.preset = "ultrafast";
    auto st = services::stitch_parts(sr);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(media::probe_video(dir / "stitched.mp4")->frames, 30);
    sr.parts = {dir / "chunks" / "chunk_000" / "color.mp4"};
    auto wrong = services::stitch_parts(sr);
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("1 parts given but"), std::string::npos);
}

TEST(Prepare, AFailingPassStopsTheOthersAndLeavesNothingBehind) {
    test::TempDir dir;
    write_render(dir / "render", 40);
    // Frame 5 of depth at another size: found while encoding, after color has started.
    test::write_sequence(dir / "render" / "depth", "depth.", "depth16", 64, 64, 5, 1);
    auto r = services::prepare_render(nullptr, request(dir / "render", dir / "set"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("depth/depth.0005.png is 64x64 but"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir / "set"));
}
