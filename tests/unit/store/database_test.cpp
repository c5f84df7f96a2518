#include "store/database.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using cosmos::store::Database;
using cosmos::test::TempDir;

namespace {
std::int64_t table_count(const Database& db) {
    auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    EXPECT_TRUE(st.has_value());
    EXPECT_TRUE(st->step().value_or(false));
    return st->int64(0);
}
}  // namespace

TEST(Database, OpenReadonlyLeavesAForeignDatabaseUnmigrated) {
    TempDir dir;
    auto file = dir.write("foreign.db", "");  // an empty file is an empty SQLite database
    auto db = Database::open_readonly(file);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    EXPECT_EQ(db->schema_version(), 0);
    EXPECT_EQ(table_count(*db), 0);
}

TEST(Database, OpenReadonlyRefusesWrites) {
    TempDir dir;
    auto file = dir.path() / "cosmos.db";
    {
        auto rw = Database::open(file);
        ASSERT_TRUE(rw.has_value()) << rw.error().message;
    }
    auto db = Database::open_readonly(file);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    EXPECT_EQ(db->schema_version(), cosmos::store::current_schema_version());
    auto count_before = table_count(*db);
    EXPECT_FALSE(db->exec("CREATE TABLE extra (a TEXT)").has_value());
    EXPECT_EQ(table_count(*db), count_before);
}

TEST(Database, OpenReadonlyFailsWithNotFoundForAMissingFile) {
    TempDir dir;
    auto db = Database::open_readonly(dir.path() / "missing.db");
    ASSERT_FALSE(db.has_value());
    EXPECT_EQ(db.error().code, ErrorCode::not_found);
    EXPECT_NE(db.error().message.find("missing.db"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing.db"));
}
