// The worker refuses options that would break its leases (two workers running one run).

#include <gtest/gtest.h>

#include "services/worker.hpp"

namespace cosmos::services {
namespace {

WorkerOptions opts(std::int64_t lease_ms, std::int64_t poll_ms) {
    WorkerOptions o;
    o.lease_ms = lease_ms;
    o.poll_ms = poll_ms;
    return o;
}

TEST(WorkerOptions, DefaultsAreAccepted) {
    EXPECT_TRUE(check_worker_options(WorkerOptions{}));
    EXPECT_TRUE(check_worker_options(opts(3000, 200)));
}

TEST(WorkerOptions, RefusesLeasesThatExpireBeforeTheyAreRenewed) {
    for (std::int64_t lease : {0, -5000, 999}) {
        auto s = check_worker_options(opts(lease, 100));
        ASSERT_FALSE(s) << lease;
        EXPECT_EQ(s.error().code, core::ErrorCode::invalid_input);
        EXPECT_NE(s.error().message.find("too short"), std::string::npos);
    }
    auto s = check_worker_options(opts(2000, 1000));
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("three polls"), std::string::npos);
}

TEST(WorkerOptions, RefusesPollsAndBackoffsOutOfRange) {
    EXPECT_FALSE(check_worker_options(opts(30000, -1000)));
    EXPECT_FALSE(check_worker_options(opts(30000, 0)));
    auto o = WorkerOptions{};
    o.retry_base_ms = -1000;
    EXPECT_FALSE(check_worker_options(o));
    o = WorkerOptions{};
    o.max_batch = 0;
    EXPECT_FALSE(check_worker_options(o));
}

}  // namespace
}  // namespace cosmos::services
