#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "services/import_legacy.hpp"
#include "store/database.hpp"
#include "support/import_fixture.hpp"

// The later Python tool's SQLite database (SQLAlchemy schema), written here with sqlite3 as
// that tool wrote it, then imported.

namespace fs = std::filesystem;
using cosmos::services::ImportItem;
using cosmos::store::Database;
using cosmos::store::RunStatus;
using cosmos::test::contains;
using cosmos::test::find_item;
using cosmos::test::k_default_negative;

namespace {

void exec_sql(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "") << "\n"
        << sql;
}

// Writes a database as the Python tool's SQLAlchemy models created it, with `rows` inserted.
void write_legacy_db(const fs::path& file, const std::string& rows) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    exec_sql(db, R"sql(
CREATE TABLE prompts (
    id VARCHAR NOT NULL, model_type VARCHAR NOT NULL, prompt_text TEXT NOT NULL,
    created_at DATETIME NOT NULL, inputs JSON NOT NULL, parameters JSON NOT NULL,
    PRIMARY KEY (id));
CREATE TABLE runs (
    id VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
    status VARCHAR NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    started_at DATETIME, completed_at DATETIME, execution_config JSON NOT NULL,
    outputs JSON NOT NULL, metadata JSON NOT NULL, log_path VARCHAR, error_message TEXT,
    PRIMARY KEY (id), FOREIGN KEY(prompt_id) REFERENCES prompts (id));
)sql" + rows);
    sqlite3_close(db);
}

const std::string k_prompt_a = "ps_3f2a9c1be07d4e5f8a6b2c1d0e9f8a7b";
const std::string k_prompt_b = "ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

const std::string k_rows = R"sql(
INSERT INTO prompts VALUES ('ps_3f2a9c1be07d4e5f8a6b2c1d0e9f8a7b', 'transfer',
  'A foggy harbour at dawn', '2025-06-02 07:30:12.345678',
  '{"video": "C:\\data\\harbour\\color.mp4", "depth": "C:\\data\\harbour\\depth.mp4",
    "segmentation": "C:\\data\\harbour\\segmentation.mp4", "frames": [1, 2, 3]}',
  '{"name": "foggy_harbour", "negative_prompt": "oversaturated"}');
INSERT INTO prompts VALUES ('ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d', 'transfer',
  'Snow on a mountain road', '2025-06-03 12:00:00',
  '{"input_video": "/data/road/color.mp4"}', '{"num_steps": 20, "cfg_scale": 5.5}');
INSERT INTO prompts VALUES ('ps_0000000000000000000000000000000c', 'reason',
  'What happens next?', '2025-06-03 12:00:00', '{"video": "/out/x.mp4"}', '{}');
INSERT INTO prompts VALUES ('ps_00000000000000000000000000000bad', 'transfer',
  'Broken inputs', '2025-06-03 12:00:00', '{"video": ', '{}');
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'ps_3f2a9c1be07d4e5f8a6b2c1d0e9f8a7b',
  'transfer', 'completed', '2025-06-02 07:31:00', '2025-06-02 07:45:00.5',
  '2025-06-02 07:32:00', '2025-06-02 07:45:00',
  '{"weights": {"vis": 0.25, "depth": 0.6, "seg": 0.15}, "num_steps": 40,
    "guidance_scale": 8.0, "seed": 1234, "sigma_max": 75.0, "fps": 30}',
  '{"output_path": "outputs\\run_aaaa\\output.mp4"}', '{}', 'logs\run_aaaa.log', NULL);
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', 'ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d',
  'upscale', 'running', '2025-06-03 12:01:00', '2025-06-03 12:01:00', '2025-06-03 12:02:00', NULL,
  '{"vis": 0.5, "edge": 0.5, "upscale": 0.4, "parameters": {"num_steps": 10}}', '{}', '{}', NULL, NULL);
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3', 'ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d',
  'transfer', 'failed', '2025-06-03 12:05:00', '2025-06-03 12:06:00', NULL, NULL,
  '{"weights": "/weights/cosmos_transfer.ckpt"}', '{"result_video": "/out/r3.mp4"}', '{}', NULL,
  'CUDA out of memory');
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4', 'ps_ffffffffffffffffffffffffffffffff',
  'transfer', 'pending', '2025-06-03 12:05:00', '2025-06-03 12:05:00', NULL, NULL,
  '{}', '{}', '{}', NULL, NULL);
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5', 'ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d',
  'transfer', 'pending', '2025-06-03 12:05:00', '2025-06-03 12:05:00', NULL, NULL,
  '{"weights": {"edge": 3.0e400}}', '{}', '{}', NULL, NULL);
INSERT INTO runs VALUES ('rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6', 'ps_7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d',
  'transfer', 'pending', '2025-06-03 12:05:00', '2025-06-03 12:05:00', NULL, NULL,
  '{"weights": {"edge": -1}}', '{}', '{}', NULL, NULL);
)sql";

class LegacyDatabase : public cosmos::test::ImportTest {};

}  // namespace

TEST_F(LegacyDatabase, ImportsTheLaterToolsDatabase) {
    auto legacy = dir.path() / "legacy" / "cosmos.db";
    fs::create_directories(legacy.parent_path());
    write_legacy_db(legacy, k_rows);
    auto report = import({legacy});
    EXPECT_EQ(report.imported_prompts, 2);
    EXPECT_EQ(report.imported_runs, 3);

    auto a = prompt(k_prompt_a);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->name, "foggy_harbour");
    EXPECT_EQ(a->prompt, "A foggy harbour at dawn");
    EXPECT_EQ(a->negative_prompt, "oversaturated");
    EXPECT_EQ(a->input_video, "C:/data/harbour/color.mp4");
    EXPECT_EQ(a->input_dir, "C:/data/harbour");
    EXPECT_EQ(a->controls.at("seg"), "C:/data/harbour/segmentation.mp4");
    EXPECT_EQ(a->controls.at("depth"), "C:/data/harbour/depth.mp4");
    EXPECT_EQ(a->created_at, "2025-06-02T07:30:12.345Z");
    EXPECT_EQ(a->source, "import:" + legacy.string());
    EXPECT_TRUE(contains(find_item(report, k_prompt_a)->reason, "inputs.frames left out"));
    auto b = prompt(k_prompt_b);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->name, "snow_mountain_road");  // derived: the row has no name
    EXPECT_EQ(b->negative_prompt, k_default_negative);
    EXPECT_EQ(b->input_video, "/data/road/color.mp4");
    const ImportItem* reason = find_item(report, "ps_0000000000000000000000000000000c");
    ASSERT_NE(reason, nullptr);
    EXPECT_EQ(reason->action, "skipped");
    EXPECT_TRUE(contains(reason->reason, "model_type 'reason'")) << reason->reason;
}

TEST_F(LegacyDatabase, MapsTheDatabasesRuns) {
    auto legacy = dir.path() / "legacy.db";
    write_legacy_db(legacy, k_rows);
    auto report = import({legacy});

    auto done = run("rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1");
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->status, RunStatus::succeeded);
    EXPECT_EQ(done->params.weights,
              (std::map<std::string, double>{{"vis", 0.25}, {"depth", 0.6}, {"seg", 0.15}}));
    EXPECT_EQ(done->params.num_steps, 40);
    EXPECT_EQ(done->params.guidance, 8.0);
    EXPECT_EQ(done->params.seed, 1234U);
    EXPECT_EQ(done->params.sigma_max, 75.0);
    EXPECT_EQ(done->params.fps, 30);
    EXPECT_EQ(done->output_video, "outputs/run_aaaa/output.mp4");
    EXPECT_EQ(done->log_path, "logs/run_aaaa.log");
    EXPECT_EQ(done->created_at, "2025-06-02T07:31:00.000Z");
    EXPECT_EQ(done->started_at, "2025-06-02T07:32:00.000Z");
    EXPECT_EQ(done->finished_at, "2025-06-02T07:45:00.000Z");

    auto running = run("rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2");
    ASSERT_TRUE(running.has_value());
    EXPECT_EQ(running->kind, cosmos::core::RunKind::upscale);
    EXPECT_EQ(running->status, RunStatus::failed);
    EXPECT_EQ(running->error, "imported while running; its outcome is unknown");
    EXPECT_EQ(running->params.num_steps, 10);  // execution_config beats the prompt's 20
    EXPECT_EQ(running->params.guidance, 5.5);  // the prompt's cfg_scale
    // An upscale run keeps its upscale weight as cosmos's own do (its only weight); the control
    // weights it also had are noted as left out.
    EXPECT_EQ(running->params.weights, (std::map<std::string, double>{{"upscale", 0.4}}));
    EXPECT_TRUE(contains(find_item(report, "rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2")->reason,
                         "control weights edge 0.5, vis 0.5 left out"));

    auto failed = run("rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3");
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->status, RunStatus::failed);
    EXPECT_EQ(failed->error, "CUDA out of memory");
    EXPECT_EQ(failed->params.num_steps, 20);      // inherited from its prompt's parameters
    EXPECT_TRUE(failed->params.weights.empty());  // "weights" was a checkpoint path
    EXPECT_EQ(failed->output_video, "/out/r3.mp4");

    const ImportItem* orphan = find_item(report, "rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4");
    ASSERT_NE(orphan, nullptr);
    EXPECT_EQ(orphan->action, "skipped");
    EXPECT_TRUE(contains(orphan->reason, "is unknown"));
    const ImportItem* negative = find_item(report, "rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6");
    ASSERT_NE(negative, nullptr);
    EXPECT_TRUE(contains(negative->reason, "out of range")) << negative->reason;
    const ImportItem* broken = find_item(report, "ps_00000000000000000000000000000bad");
    ASSERT_NE(broken, nullptr);
    EXPECT_TRUE(contains(broken->reason, "malformed JSON in column inputs")) << broken->reason;
}

TEST_F(LegacyDatabase, ImportingTheDatabaseAgainAddsNothing) {
    auto legacy = dir.path() / "legacy.db";
    write_legacy_db(legacy, k_rows);
    auto first = import({legacy});
    auto second = import({legacy});
    EXPECT_EQ(second.imported_prompts + second.imported_runs, 0);
    EXPECT_EQ(second.skipped, first.skipped + first.imported_prompts + first.imported_runs);
    EXPECT_EQ(find_item(second, k_prompt_a)->reason, "already imported");
    EXPECT_EQ(find_item(second, "rs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1")->reason, "already imported");
}

TEST_F(LegacyDatabase, SkipsADatabaseThatIsNotThePythonTools) {
    auto ours = dir.path() / "other" / "cosmos.db";
    { auto other = Database::open(ours).value(); }
    auto report = import({ours});
    EXPECT_EQ(report.imported_prompts + report.imported_runs, 0);
    ASSERT_FALSE(report.items.empty());
    EXPECT_EQ(report.items[0].kind, "file");
    // Our own store is refused whole, by name: its runs would lose their weights and seeds.
    EXPECT_TRUE(contains(report.items[0].reason, "a cosmos database, not the Python tool's"))
        << report.items[0].reason;
}
