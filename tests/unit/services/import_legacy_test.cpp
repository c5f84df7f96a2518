#include "services/import_legacy.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/import_fixture.hpp"

namespace fs = std::filesystem;
using cosmos::core::ErrorCode;
using cosmos::services::import_legacy;
using cosmos::services::ImportDefaults;
using cosmos::services::ImportItem;
using cosmos::store::RunStatus;
using cosmos::test::contains;
using cosmos::test::find_item;
using cosmos::test::find_source;
using cosmos::test::k_default_negative;

namespace {

const fs::path k_fixtures = fs::path(COSMOS_FIXTURES_DIR) / "legacy";

// A prompt spec as the Python tool wrote it; `extra` is spliced in as more fields.
std::string prompt_spec(const std::string& id, const std::string& extra = "") {
    return R"({"id": ")" + id + R"(", "name": "city", "prompt": "A city at night",
               "negative_prompt": "blurry", "input_video_path": "inputs/videos/city/color.mp4",
               "control_inputs": {"depth": "inputs/videos/city/depth.mp4"},
               "timestamp": "2025-03-01T08:00:00")" +
           extra + "}";
}

// A run spec as the Python tool wrote it, with `weights` and `status`.
std::string run_spec(const std::string& id,
                     const std::string& prompt_id,
                     const std::string& status = "success",
                     const std::string& weights = R"({"vis": 0.3, "edge": 0.5})") {
    return R"({"id": ")" + id + R"(", "prompt_id": ")" + prompt_id +
           R"(", "name": "run", "control_weights": )" + weights +
           R"(, "parameters": {"num_steps": 30, "guidance": 6.0, "sigma_max": 70.0,
               "blur_strength": "medium", "canny_threshold": "medium", "fps": 24, "seed": 7},
               "timestamp": "2025-03-01T09:00:00", "execution_status": ")" +
           status + R"(", "output_path": "outputs\\city\\output.mp4"})";
}

class ImportLegacy : public cosmos::test::ImportTest {};

}  // namespace

TEST_F(ImportLegacy, ImportsTheDatedFoldersOfThePythonTool) {
    auto report = import({k_fixtures});
    EXPECT_EQ(report.imported_prompts, 2);
    EXPECT_EQ(report.imported_runs, 1);
    EXPECT_EQ(report.skipped, 2);  // the malformed spec and spec_used.json
    EXPECT_EQ(cosmos::store::count_prompts(db).value(), 2);
    EXPECT_EQ(cosmos::store::count_runs(db).value(), 1);
}

TEST_F(ImportLegacy, KeepsTheReferenceExampleIdAndMapsEveryPromptField) {
    import({k_fixtures});
    auto p = prompt("ps_ace0bae276be");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->name, "futuristic_city_sunset");
    EXPECT_EQ(p->prompt, "A futuristic city at sunset");
    EXPECT_EQ(p->negative_prompt, "blurry, low quality, cartoonish");
    EXPECT_EQ(p->input_video, "inputs/videos/scene1/color.mp4");
    EXPECT_EQ(p->input_dir, "inputs/videos/scene1");
    EXPECT_EQ(
        p->controls,
        (std::map<std::string, std::string>{{"depth", "inputs/videos/scene1/depth.mp4"},
                                            {"seg", "inputs/videos/scene1/segmentation.mp4"}}));
    EXPECT_EQ(p->created_at, "2025-01-31T10:15:30.123Z");
    auto file = k_fixtures / "inputs/prompts/2025-01-31" /
                "futuristic_city_sunset_20250131_101530_ps_ace0bae276be.json";
    EXPECT_EQ(p->source, "import:" + file.lexically_normal().string());
    EXPECT_EQ(p->video.width, 0);
    EXPECT_EQ(p->video.frames, 0);
}

TEST_F(ImportLegacy, ConvertsWindowsPathsSanitisesNamesAndFillsTheDefaultNegative) {
    auto report = import({k_fixtures});
    auto p = prompt("ps_fd086e538a20");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->input_video, "inputs/videos/warehouse/color.mp4");
    EXPECT_EQ(p->input_dir, "inputs/videos/warehouse");
    EXPECT_EQ(p->controls.at("edge"), "inputs/videos/warehouse/edge.mp4");
    EXPECT_EQ(p->controls.at("depth"), "inputs/videos/warehouse/depth.mp4");
    EXPECT_EQ(p->name, "warehouse_robots");
    EXPECT_EQ(p->negative_prompt, k_default_negative);
    const ImportItem* item = find_item(report, "ps_fd086e538a20");
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->action, "imported");
    EXPECT_TRUE(contains(item->reason, "'Warehouse Robots' sanitised to 'warehouse_robots'"))
        << item->reason;
}

TEST_F(ImportLegacy, MapsARunSpec) {
    import({k_fixtures});
    auto r = run("rs_c65826242cac");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->prompt_id, "ps_ace0bae276be");
    EXPECT_EQ(r->kind, cosmos::core::RunKind::transfer);
    EXPECT_EQ(r->status, RunStatus::succeeded);
    EXPECT_EQ(
        r->params.weights,
        (std::map<std::string, double>{{"vis", 0.2}, {"edge", 0.5}, {"depth", 0.3}, {"seg", 0.4}}));
    EXPECT_EQ(r->params.num_steps, 35);
    EXPECT_EQ(r->params.guidance, 7.0);
    EXPECT_EQ(r->params.canny_threshold, "high");
    EXPECT_EQ(r->output_video, "outputs/futuristic_city_sunset/output.mp4");
    EXPECT_EQ(r->created_at, "2025-01-31T10:20:00.000Z");
    EXPECT_TRUE(contains(r->source, "import:"));
    EXPECT_TRUE(contains(r->source, "rs_c65826242cac.json"));
}

TEST_F(ImportLegacy, ReportsMalformedJsonWithTheFileAndPosition) {
    auto report = import({k_fixtures});
    const ImportItem* item = find_source(report, "night_rain_20250204_090000_ps_0b1c2d3e4f5a");
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->action, "skipped");
    EXPECT_TRUE(contains(item->reason, "malformed JSON in"));
    EXPECT_TRUE(contains(item->reason, "night_rain_20250204_090000_ps_0b1c2d3e4f5a.json"));
    EXPECT_TRUE(contains(item->reason, "line 8")) << item->reason;
    EXPECT_FALSE(prompt("ps_0b1c2d3e4f5a").has_value());
    const ImportItem* other = find_source(report, "spec_used.json");
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->reason, "not a prompt or run spec");
}

TEST_F(ImportLegacy, ImportingAgainAddsNothing) {
    auto first = import({k_fixtures});
    ASSERT_EQ(first.imported_prompts + first.imported_runs, 3);
    auto second = import({k_fixtures});
    EXPECT_EQ(second.imported_prompts, 0);
    EXPECT_EQ(second.imported_runs, 0);
    EXPECT_EQ(second.skipped, 5);
    for (const char* id : {"ps_ace0bae276be", "ps_fd086e538a20", "rs_c65826242cac"}) {
        const ImportItem* item = find_item(second, id);
        ASSERT_NE(item, nullptr) << id;
        EXPECT_EQ(item->action, "skipped");
        EXPECT_EQ(item->reason, "already imported");
    }
    EXPECT_EQ(cosmos::store::count_prompts(db).value(), 2);
    EXPECT_EQ(cosmos::store::count_runs(db).value(), 1);
}

TEST_F(ImportLegacy, SkipsARunWhosePromptIsUnknown) {
    auto file = dir.write("in/run.json", run_spec("rs_000000000001", "ps_00000000dead"));
    auto report = import({file});
    EXPECT_EQ(report.imported_runs, 0);
    const ImportItem* item = find_item(report, "rs_000000000001");
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->kind, "run");
    EXPECT_EQ(item->action, "skipped");
    EXPECT_TRUE(contains(item->reason, "ps_00000000dead is unknown")) << item->reason;
}

TEST_F(ImportLegacy, ImportsPromptsBeforeRunsAcrossPaths) {
    auto runs = dir.write("a/run.json", run_spec("rs_000000000002", "ps_000000000002"));
    auto prompts = dir.write("b/prompt.json", prompt_spec("ps_000000000002"));
    auto report = import({runs, prompts});
    EXPECT_EQ(report.imported_prompts, 1);
    EXPECT_EQ(report.imported_runs, 1);
    ASSERT_TRUE(run("rs_000000000002").has_value());
    EXPECT_EQ(run("rs_000000000002")->params.seed, 7U);
}

TEST_F(ImportLegacy, SkipsRunsWithValuesOutOfRange) {
    dir.write("in/p.json", prompt_spec("ps_000000000003"));
    dir.write("in/neg.json",
              run_spec("rs_00000000000a", "ps_000000000003", "success", R"({"vis": -0.5})"));
    dir.write("in/key.json",
              run_spec("rs_00000000000b", "ps_000000000003", "success", R"({"normals": 0.5})"));
    auto steps = run_spec("rs_00000000000c", "ps_000000000003");
    steps.replace(steps.find("\"num_steps\": 30"), 15, "\"num_steps\": 500");
    dir.write("in/steps.json", steps);
    auto report = import({dir.path() / "in"});
    EXPECT_EQ(report.imported_prompts, 1);
    EXPECT_EQ(report.imported_runs, 0);
    const ImportItem* neg = find_item(report, "rs_00000000000a");
    ASSERT_NE(neg, nullptr);
    EXPECT_EQ(neg->action, "skipped");
    EXPECT_TRUE(contains(neg->reason, "weight -0.5 for vis is out of range")) << neg->reason;
    EXPECT_TRUE(contains(find_item(report, "rs_00000000000b")->reason, "'normals'"));
    EXPECT_TRUE(contains(find_item(report, "rs_00000000000c")->reason, "steps 500"));
    EXPECT_FALSE(run("rs_00000000000a").has_value());
}

TEST_F(ImportLegacy, MapsEveryExecutionStatus) {
    dir.write("in/p.json", prompt_spec("ps_000000000004"));
    struct Case {
        const char* legacy;
        const char* id;
        RunStatus ours;
    };
    const std::vector<Case> cases = {{"pending", "rs_0000000000a1", RunStatus::pending},
                                     {"running", "rs_0000000000a2", RunStatus::failed},
                                     {"success", "rs_0000000000a3", RunStatus::succeeded},
                                     {"failed", "rs_0000000000a4", RunStatus::failed},
                                     {"cancelled", "rs_0000000000a5", RunStatus::cancelled}};
    for (const auto& c : cases) {
        dir.write(fs::path("in") / (std::string(c.id) + ".json"),
                  run_spec(c.id, "ps_000000000004", c.legacy));
    }
    dir.write("in/odd.json", run_spec("rs_0000000000a6", "ps_000000000004", "exploded"));
    auto report = import({dir.path() / "in"});
    EXPECT_EQ(report.imported_runs, 5);
    for (const auto& c : cases) {
        auto r = run(c.id);
        ASSERT_TRUE(r.has_value()) << c.legacy;
        EXPECT_EQ(r->status, c.ours) << c.legacy;
    }
    EXPECT_EQ(run("rs_0000000000a2")->error, "imported while running; its outcome is unknown");
    EXPECT_FALSE(run("rs_0000000000a4")->error.has_value());
    EXPECT_TRUE(contains(find_item(report, "rs_0000000000a6")->reason, "'exploded'"));
}

TEST_F(ImportLegacy, MapsSegmentationAndSkipsUnknownControls) {
    auto seg = prompt_spec("ps_000000000005");
    seg.replace(seg.find("\"depth\""), 7, "\"segmentation\"");
    dir.write("in/seg.json", seg);
    auto odd = prompt_spec("ps_000000000006");
    odd.replace(odd.find("\"depth\""), 7, "\"normals\"");
    dir.write("in/odd.json", odd);
    auto report = import({dir.path() / "in"});
    ASSERT_TRUE(prompt("ps_000000000005").has_value());
    EXPECT_EQ(prompt("ps_000000000005")->controls.count("seg"), 1U);
    EXPECT_FALSE(prompt("ps_000000000006").has_value());
    const ImportItem* item = find_item(report, "ps_000000000006");
    ASSERT_NE(item, nullptr);
    EXPECT_TRUE(contains(item->reason, "unknown control modality 'normals'")) << item->reason;
}

TEST_F(ImportLegacy, SkipsSpecsWithMissingOrBadFields) {
    dir.write("in/no_text.json", R"({"id": "ps_000000000007", "control_inputs": {}})");
    dir.write("in/bad_id.json", prompt_spec("ps_NOT-HEX"));
    dir.write("in/no_id.json", R"({"prompt_id": "ps_000000000007", "parameters": {}})");
    dir.write("in/list.json", "[1, 2, 3]");
    auto report = import({dir.path() / "in"});
    EXPECT_EQ(report.imported_prompts + report.imported_runs, 0);
    EXPECT_EQ(report.skipped, 4);
    EXPECT_TRUE(contains(find_source(report, "no_text.json")->reason, "missing field 'prompt'"));
    EXPECT_TRUE(contains(find_source(report, "bad_id.json")->reason, "not a valid prompt id"));
    EXPECT_TRUE(contains(find_source(report, "no_id.json")->reason, "missing field 'id'"));
    EXPECT_EQ(find_source(report, "list.json")->reason, "not a prompt or run spec");
}

TEST_F(ImportLegacy, ReadsAFileNamedTwiceOnce) {
    auto file = dir.write("in/p.json", prompt_spec("ps_000000000008"));
    auto report = import({dir.path() / "in", file});
    EXPECT_EQ(report.imported_prompts, 1);
    EXPECT_EQ(report.items.size(), 1U);
}

TEST_F(ImportLegacy, FailsBeforeImportingAnythingWhenAPathDoesNotExist) {
    auto file = dir.write("in/p.json", prompt_spec("ps_000000000009"));
    auto r = import_legacy(db, {file, dir.path() / "nowhere"}, ImportDefaults{});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::not_found);
    EXPECT_TRUE(contains(r.error().message, "nowhere"));
    EXPECT_EQ(cosmos::store::count_prompts(db).value(), 0);
}
