// Run ratings (schema v10): the migration from v9 keeps existing runs unrated, the column refuses
// values outside 1-5 whoever writes them, the rating filters of list_runs / count_runs, and run
// id prefixes (resolve_run_id, as `cosmos rate` takes them).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "store/id_prefix.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;

namespace {

Database open_db(const std::filesystem::path& path) {
    auto db = Database::open(path);
    if (!db) {
        throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
}

PromptRecord prompt(const std::string& id) {
    PromptRecord p;
    p.id = id;
    p.name = "harbour";
    p.prompt = "a foggy harbour";
    p.negative_prompt = "blurry";
    p.input_dir = "/in";
    p.created_at = core::now_iso();
    return p;
}

RunRecord run(const std::string& id, const std::string& prompt_id, const std::string& created) {
    RunRecord r;
    r.id = id;
    r.prompt_id = prompt_id;
    r.created_at = created;
    r.updated_at = created;
    return r;
}

std::vector<std::string> ids(const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) {
        out.push_back(r.id);
    }
    return out;
}

}  // namespace

TEST(Rating, MigrationFromV9KeepsRunsUnratedAndAddsTheCheck) {
    test::TempDir dir;
    auto path = dir / "cosmos.db";
    {
        // A v9 database with a run in it: today's schema with v10's column and index taken out.
        auto db = open_db(path);
        ASSERT_TRUE(insert_prompt(db, prompt("ps_aaaa")).has_value());
        ASSERT_TRUE(
            insert_run(db, run("rs_aaaa", "ps_aaaa", "2026-01-01T00:00:00.000Z")).has_value());
        ASSERT_TRUE(db.exec("DROP INDEX runs_by_rating; ALTER TABLE runs DROP COLUMN rating; "
                            "PRAGMA user_version = 9")
                        .has_value());
        auto st = db.prepare(
            "SELECT count(*) FROM pragma_table_info('runs') WHERE name = "
            "'rating'");
        ASSERT_TRUE(st.has_value());
        ASSERT_TRUE(st->step().value_or(false));
        ASSERT_EQ(st->int64(0), 0);
    }
    auto db = open_db(path);  // migrates to v10
    EXPECT_EQ(db.schema_version(), 10);
    EXPECT_EQ(current_schema_version(), 10);
    auto old = require_run(db, "rs_aaaa");
    ASSERT_TRUE(old.has_value());
    EXPECT_FALSE(old->rating.has_value());
    // The CHECK holds for any writer, not only set_run_rating.
    EXPECT_FALSE(db.exec("UPDATE runs SET rating = 6 WHERE id = 'rs_aaaa'").has_value());
    EXPECT_FALSE(db.exec("UPDATE runs SET rating = 0 WHERE id = 'rs_aaaa'").has_value());
    EXPECT_TRUE(db.exec("UPDATE runs SET rating = 5 WHERE id = 'rs_aaaa'").has_value());
    EXPECT_EQ(require_run(db, "rs_aaaa")->rating, 5);
    // A rating filter reads the partial index (list_runs asks for one rating per arm): a short
    // range already in created_at order, whatever the number of runs.
    auto plan = db.prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM runs WHERE 1=1 AND rating = 4 ORDER BY created_at "
        "DESC, id DESC LIMIT 50");
    ASSERT_TRUE(plan.has_value());
    std::string steps;
    while (plan->step().value_or(false)) {
        steps += plan->text(3) + "\n";
    }
    EXPECT_NE(steps.find("runs_by_rating"), std::string::npos) << steps;
}

TEST(Rating, SetClearAndFilter) {
    test::TempDir dir;
    auto db = open_db(dir / "cosmos.db");
    ASSERT_TRUE(insert_prompt(db, prompt("ps_aaaa")).has_value());
    for (int i = 1; i <= 4; ++i) {
        ASSERT_TRUE(insert_run(db,
                               run(fmt::format("rs_000{}", i),
                                   "ps_aaaa",
                                   fmt::format("2026-01-0{}T00:00:00.000Z", i)))
                        .has_value());
    }
    ASSERT_TRUE(set_run_rating(db, "rs_0001", 5).has_value());
    ASSERT_TRUE(set_run_rating(db, "rs_0002", 3).has_value());
    ASSERT_TRUE(set_run_rating(db, "rs_0003", 4).has_value());
    ASSERT_TRUE(set_run_rating(db, "rs_0003", std::nullopt).has_value());  // cleared

    auto bad = set_run_rating(db, "rs_0004", 6);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, core::ErrorCode::invalid_input);
    auto zero = set_run_rating(db, "rs_0004", 0);
    ASSERT_FALSE(zero.has_value());
    auto missing = set_run_rating(db, "rs_ffff", 3);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);

    RunQuery q;
    q.min_rating = 3;
    EXPECT_EQ(ids(*list_runs(db, q)), (std::vector<std::string>{"rs_0002", "rs_0001"}));
    EXPECT_EQ(*count_runs(db, q), 2);
    q.min_rating = 4;
    EXPECT_EQ(ids(*list_runs(db, q)), (std::vector<std::string>{"rs_0001"}));
    // Pages of a minimum rating run across ratings, newest first.
    RunQuery page;
    page.min_rating = 1;
    page.limit = 1;
    EXPECT_EQ(ids(*list_runs(db, page)), (std::vector<std::string>{"rs_0002"}));
    page.offset = 1;
    EXPECT_EQ(ids(*list_runs(db, page)), (std::vector<std::string>{"rs_0001"}));
    page.offset = 2;
    EXPECT_TRUE(list_runs(db, page)->empty());
    page.status = RunStatus::pending;  // other filters apply to every rating's arm
    page.offset = 0;
    page.limit = 10;
    EXPECT_EQ(ids(*list_runs(db, page)), (std::vector<std::string>{"rs_0002", "rs_0001"}));
    page.status = RunStatus::failed;
    EXPECT_TRUE(list_runs(db, page)->empty());
    RunQuery exact;
    exact.rating = 3;
    EXPECT_EQ(ids(*list_runs(db, exact)), (std::vector<std::string>{"rs_0002"}));
    EXPECT_EQ(*count_runs(db, exact), 1);
    exact.rating = 4;  // rs_0003's 4 was cleared
    EXPECT_TRUE(list_runs(db, exact)->empty());
    EXPECT_EQ(*count_runs(db, RunQuery{}), 4);  // no filter: every run, rated or not
    EXPECT_FALSE(require_run(db, "rs_0003")->rating.has_value());
    EXPECT_EQ(require_run(db, "rs_0001")->rating, 5);
}

TEST(Rating, InsertRunKeepsARating) {
    test::TempDir dir;
    auto db = open_db(dir / "cosmos.db");
    ASSERT_TRUE(insert_prompt(db, prompt("ps_aaaa")).has_value());
    auto r = run("rs_0001", "ps_aaaa", core::now_iso());
    r.rating = 2;  // as the import of the Python tool's database writes it
    ASSERT_TRUE(insert_run(db, r).has_value());
    EXPECT_EQ(require_run(db, "rs_0001")->rating, 2);
}

TEST(Rating, RunIdsResolveByUniquePrefix) {
    test::TempDir dir;
    auto db = open_db(dir / "cosmos.db");
    ASSERT_TRUE(insert_prompt(db, prompt("ps_aaaa")).has_value());
    for (const char* id : {"rs_3fa9c0", "rs_3fa9c1", "rs_77e1", "rs_77e1ab"}) {
        ASSERT_TRUE(insert_run(db, run(id, "ps_aaaa", core::now_iso())).has_value());
    }
    EXPECT_EQ(*resolve_run_id(db, "rs_3fa9c0"), "rs_3fa9c0");  // an exact id
    EXPECT_EQ(*resolve_run_id(db, "3fa9c1"), "rs_3fa9c1");     // without rs_
    EXPECT_EQ(*resolve_run_id(db, "rs_77e1"), "rs_77e1");      // exact, though a prefix of another
    EXPECT_EQ(*resolve_run_id(db, "77e1a"), "rs_77e1ab");
    auto ambiguous = resolve_run_id(db, "rs_3fa9");
    ASSERT_FALSE(ambiguous.has_value());
    EXPECT_EQ(ambiguous.error().code, core::ErrorCode::invalid_input);
    EXPECT_NE(ambiguous.error().message.find("rs_3fa9c0, rs_3fa9c1"), std::string::npos);
    auto none = resolve_run_id(db, "rs_dead");
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code, core::ErrorCode::not_found);
}
