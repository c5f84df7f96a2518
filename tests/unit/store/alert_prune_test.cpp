// Resolved alerts go after their retention, events and undelivered ones stay.

#include <gtest/gtest.h>

#include "store/alert_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;

namespace {

constexpr std::int64_t k_t0 = 1'800'000'000'000;
constexpr std::int64_t k_day = 24LL * 3600 * 1000;

AlertFinding finding(const std::string& subject) {
    AlertFinding f;
    f.subject = subject;
    f.host = subject;
    f.summary = "host " + subject + " unreachable";
    return f;
}

std::int64_t count(const Database& db, const std::string& where) {
    auto st = db.prepare("SELECT count(*) FROM alerts WHERE " + where);
    EXPECT_TRUE(st);
    EXPECT_TRUE(*st->step());
    return st->int64(0);
}

}  // namespace

TEST(AlertPrune, ResolvedAlertsGoAfterTheirRetentionEventsAndPendingOnesStay) {
    test::TempDir dir;
    auto db = Database::open(dir / "cosmos.db");
    ASSERT_TRUE(db) << db.error().message;
    // gpu1 fired and resolved long ago, its deliveries done (no sinks); gpu2 resolved long ago
    // with a delivery still pending; gpu3 resolved yesterday; a failed run's event, long ago.
    for (const char* host : {"gpu1", "gpu2", "gpu3"}) {
        auto sinks = std::string(host) == "gpu2" ? std::vector<std::string>{"ops"}
                                                 : std::vector<std::string>{};
        ASSERT_TRUE(fire_alert(*db, "down", "host_unreachable", false, finding(host), sinks, k_t0));
    }
    ASSERT_TRUE(fire_alert(*db, "failed", "run_failed", true, finding("rs_1"), {}, k_t0));
    ASSERT_TRUE(resolve_alerts(*db, "down", {"gpu2", "gpu3"}, {}, k_t0 + k_day));
    ASSERT_TRUE(resolve_alerts(*db, "down", {"gpu3"}, {"ops"}, k_t0 + k_day));
    ASSERT_TRUE(resolve_alerts(*db, "down", {}, {}, k_t0 + 39 * k_day));
    EXPECT_EQ(count(*db, "state = 'resolved'"), 3);

    auto pruned = prune_resolved_alerts(*db, k_t0 + 40 * k_day - k_resolved_alert_keep_ms);
    ASSERT_TRUE(pruned) << pruned.error().message;
    EXPECT_EQ(*pruned, 1);  // gpu1 only
    EXPECT_EQ(count(*db, "subject = 'gpu1'"), 0);
    EXPECT_EQ(count(*db, "subject = 'gpu2'"), 1);  // a delivery still pending
    EXPECT_EQ(count(*db, "subject = 'gpu3'"), 1);  // resolved 1 day ago
    EXPECT_EQ(count(*db, "state = 'event'"), 1);
    // Its deliveries went with it (ON DELETE CASCADE); nothing is left pointing at it.
    auto orphans = db->prepare(
        "SELECT count(*) FROM alert_deliveries WHERE alert_id NOT IN (SELECT id FROM alerts)");
    ASSERT_TRUE(orphans);
    ASSERT_TRUE(*orphans->step());
    EXPECT_EQ(orphans->int64(0), 0);
}
