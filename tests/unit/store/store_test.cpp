#include <thread>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;

namespace {

PromptRecord sample_prompt(const std::string& text,
                           const std::string& created_at = core::now_iso()) {
    PromptRecord p;
    p.id = core::new_id(core::IdKind::prompt);
    p.name = "sample";
    p.prompt = text;
    p.negative_prompt = "blurry";
    p.input_dir = "/in";
    p.input_video = "/in/color.mp4";
    p.controls = {{"depth", "/in/depth.mp4"}};
    p.video = {640, 352, 121, 24};
    p.created_at = created_at;
    return p;
}

RunRecord sample_run(const std::string& prompt_id,
                     const std::string& created_at = core::now_iso()) {
    RunRecord r;
    r.id = core::new_id(core::IdKind::run);
    r.prompt_id = prompt_id;
    r.params.weights = {{"vis", 0.3}};
    r.created_at = created_at;
    r.updated_at = created_at;
    return r;
}

Database open_db(const test::TempDir& dir) {
    auto db = Database::open(dir / "cosmos.db");
    if (!db) {
        throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
}

}  // namespace

TEST(Store, MigratesToCurrentVersionAndReopens) {
    test::TempDir dir;
    {
        auto db = open_db(dir);
        EXPECT_EQ(db.schema_version(), current_schema_version());
    }
    auto again = open_db(dir);
    EXPECT_EQ(again.schema_version(), current_schema_version());
}

TEST(Store, RefusesADatabaseFromANewerVersion) {
    test::TempDir dir;
    {
        auto db = open_db(dir);
        ASSERT_TRUE(db.exec("PRAGMA user_version = 999").has_value());
    }
    auto db = Database::open(dir / "cosmos.db");
    ASSERT_FALSE(db.has_value());
    EXPECT_NE(db.error().message.find("999"), std::string::npos);
}

TEST(Store, PromptRoundTripAndDuplicateIdIsAConflict) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto p = sample_prompt("a foggy harbour at dawn");
    ASSERT_TRUE(insert_prompt(db, p).has_value());
    auto got = get_prompt(db, p.id);
    ASSERT_TRUE(got.has_value() && got->has_value());
    EXPECT_EQ((*got)->prompt, p.prompt);
    EXPECT_EQ((*got)->controls, p.controls);
    EXPECT_EQ((*got)->video.frames, 121);
    auto dup = insert_prompt(db, p);
    ASSERT_FALSE(dup.has_value());
    EXPECT_EQ(dup.error().code, core::ErrorCode::conflict);
    auto missing = get_prompt(db, "ps_nope");
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(missing->has_value());
}

TEST(Store, SearchFindsWordPrefixesAndTreatsSyntaxAsText) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto harbour = sample_prompt("a foggy harbour at dawn");
    auto street = sample_prompt("a rainy street at night");
    ASSERT_TRUE(insert_prompt(db, harbour).has_value());
    ASSERT_TRUE(insert_prompt(db, street).has_value());
    auto found = search_prompts(db, "harb fog", 10);
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ(found->front().id, harbour.id);
    for (const char* hostile : {"\"", "*", "NEAR(", "a OR b", "'; DROP TABLE prompts; --", ""}) {
        auto r = search_prompts(db, hostile, 10);
        EXPECT_TRUE(r.has_value()) << hostile;
    }
    EXPECT_EQ(*count_prompts(db), 2);
}

TEST(Store, ListsNewestFirstWithFilters) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto p = sample_prompt("x");
    ASSERT_TRUE(insert_prompt(db, p).has_value());
    auto old_run = sample_run(p.id, "2026-01-01T00:00:00.000Z");
    auto new_run = sample_run(p.id, "2026-06-01T00:00:00.000Z");
    ASSERT_TRUE(insert_run(db, old_run).has_value());
    ASSERT_TRUE(insert_run(db, new_run).has_value());
    ASSERT_TRUE(transition_run(db, old_run.id, RunStatus::running).has_value());
    auto all = list_runs(db, RunQuery{});
    ASSERT_TRUE(all.has_value());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ(all->front().id, new_run.id);
    RunQuery running;
    running.status = RunStatus::running;
    auto only = list_runs(db, running);
    ASSERT_EQ(only->size(), 1u);
    EXPECT_EQ(only->front().id, old_run.id);
}

TEST(Store, TransitionsRecordEventsAndNeverLeaveATerminalState) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto p = sample_prompt("x");
    ASSERT_TRUE(insert_prompt(db, p).has_value());
    auto r = sample_run(p.id);
    ASSERT_TRUE(insert_run(db, r).has_value());
    EXPECT_TRUE(*transition_run(db, r.id, RunStatus::running, "on local"));
    EXPECT_TRUE(*transition_run(db, r.id, RunStatus::succeeded));
    EXPECT_FALSE(*transition_run(db, r.id, RunStatus::failed)) << "terminal states are final";
    auto got = get_run(db, r.id);
    EXPECT_EQ((*got)->status, RunStatus::succeeded);
    EXPECT_TRUE((*got)->started_at.has_value());
    EXPECT_TRUE((*got)->finished_at.has_value());
    EXPECT_DOUBLE_EQ((*got)->progress, 1.0);
    auto events = run_events(db, r.id);
    ASSERT_EQ(events->size(), 3u);
    EXPECT_EQ((*events)[0].status, RunStatus::pending);
    EXPECT_EQ((*events)[1].status, RunStatus::running);
    EXPECT_EQ((*events)[1].detail, "on local");
    EXPECT_EQ((*events)[2].status, RunStatus::succeeded);
}

TEST(Store, APromptWithRunsCannotBeDeletedAlone) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto p = sample_prompt("x");
    ASSERT_TRUE(insert_prompt(db, p).has_value());
    auto r = sample_run(p.id);
    ASSERT_TRUE(insert_run(db, r).has_value());
    auto s = delete_prompt(db, p.id);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, core::ErrorCode::conflict);
    ASSERT_TRUE(delete_run(db, r.id).has_value());
    EXPECT_TRUE(delete_prompt(db, p.id).has_value());
    EXPECT_EQ(*count_runs(db), 0);
}

TEST(Store, RunOfAnUnknownPromptIsRefused) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto s = insert_run(db, sample_run("ps_doesnotexist"));
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, core::ErrorCode::conflict);
}

TEST(Store, ConcurrentWritersOnSeparateConnectionsLoseNothing) {
    test::TempDir dir;
    std::string prompt_id;
    {
        auto db = open_db(dir);
        auto p = sample_prompt("x");
        prompt_id = p.id;
        ASSERT_TRUE(insert_prompt(db, p).has_value());
    }
    constexpr int k_threads = 4;
    constexpr int k_runs = 50;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&] {
            auto db = Database::open(dir / "cosmos.db");
            if (!db) {
                ++failures;
                return;
            }
            for (int i = 0; i < k_runs; ++i) {
                auto r = sample_run(prompt_id);
                if (!insert_run(*db, r) || !transition_run(*db, r.id, RunStatus::running)) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    auto db = open_db(dir);
    EXPECT_EQ(*count_runs(db), k_threads * k_runs);
}

TEST(Store, RecordsWhereAndWhatARemoteRunCost) {
    test::TempDir dir;
    auto db = open_db(dir);
    auto p = sample_prompt("remote");
    ASSERT_TRUE(insert_prompt(db, p));
    auto r = sample_run(p.id);
    ASSERT_TRUE(insert_run(db, r));
    ASSERT_TRUE(record_remote(db, r.id, RemoteRecord{"native", "/w/jobs/x", std::nullopt}));
    ASSERT_TRUE(record_costs(db, r.id, CostRecord{1234, 1.5, std::nullopt, std::nullopt}));
    // A later phase adds its numbers without erasing the earlier ones.
    ASSERT_TRUE(record_costs(db, r.id, CostRecord{std::nullopt, std::nullopt, 60.0, 0.25}));
    auto got = get_run(db, r.id);
    ASSERT_TRUE(got && *got);
    const auto& run = **got;
    EXPECT_EQ(run.runtime, "native");
    EXPECT_EQ(run.remote_dir, "/w/jobs/x");
    EXPECT_FALSE(run.image);
    EXPECT_EQ(run.uploaded_bytes, 1234);
    EXPECT_DOUBLE_EQ(run.upload_seconds.value_or(-1), 1.5);
    EXPECT_DOUBLE_EQ(run.run_seconds.value_or(-1), 60.0);
    EXPECT_DOUBLE_EQ(run.download_seconds.value_or(-1), 0.25);
    // Listing reads the same columns.
    auto listed = list_runs(db, RunQuery{});
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].uploaded_bytes, 1234);
}
