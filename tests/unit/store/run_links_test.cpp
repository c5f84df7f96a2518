// Parent/child links between runs (windows of a parallel long-video run).

#include "store/run_links.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;

TEST(RunLinks, ChildrenPointAtTheirParentAndAreListedInOrder) {
    test::TempDir dir;
    auto db = Database::open(dir / "cosmos.db");
    ASSERT_TRUE(db) << db.error().message;
    PromptRecord p;
    p.id = core::new_id(core::IdKind::prompt);
    p.name = "long";
    p.prompt = "a long pan";
    p.negative_prompt = "blurry";
    p.input_dir = "/in";
    p.created_at = core::now_iso();
    ASSERT_TRUE(insert_prompt(*db, p));
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        RunRecord r;
        r.id = core::new_id(core::IdKind::run);
        r.prompt_id = p.id;
        r.created_at = r.updated_at = "2026-11-30T00:00:0" + std::to_string(i) + ".000Z";
        ASSERT_TRUE(insert_run(*db, r));
        ids.push_back(r.id);
    }
    ASSERT_TRUE(set_run_parent(*db, ids[2], ids[0]));
    ASSERT_TRUE(set_run_parent(*db, ids[1], ids[0]));
    auto children = child_run_ids(*db, ids[0]);
    ASSERT_TRUE(children);
    EXPECT_EQ(*children, (std::vector<std::string>{ids[1], ids[2]}));
    EXPECT_EQ((*get_run(*db, ids[1]))->parent_run_id, ids[0]);
    auto missing = set_run_parent(*db, "rs_nope", ids[0]);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
}
