// The queue's retry policy: which failures are retried, and the backoff between attempts.

#include "services/queue.hpp"

#include <gtest/gtest.h>

using namespace cosmos;

namespace {

TEST(QueueRetryPolicy, ClassifiesFailuresAndBacksOff) {
    using services::FailureClass;
    EXPECT_EQ(services::classify_failure(core::make_error(core::ErrorCode::host_unreachable, "x")),
              FailureClass::transient);
    EXPECT_EQ(services::classify_failure(core::make_error(core::ErrorCode::timeout, "x")),
              FailureClass::transient);
    EXPECT_EQ(services::classify_failure(core::make_error(core::ErrorCode::invalid_input, "spec")),
              FailureClass::permanent);
    EXPECT_EQ(
        services::classify_failure(core::make_error(core::ErrorCode::remote_failed, "guardrail")),
        FailureClass::permanent);
    EXPECT_EQ(services::retry_backoff_ms(1, 1000), 1000);
    EXPECT_EQ(services::retry_backoff_ms(3, 1000), 4000);
    EXPECT_EQ(services::retry_backoff_ms(30, 1000), 300000);
}

}  // namespace
