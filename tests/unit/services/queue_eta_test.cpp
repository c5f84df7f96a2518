// The queue's estimated start and finish times (services/queue_eta.hpp), replayed by hand.

#include "services/queue_eta.hpp"

#include <gtest/gtest.h>

namespace {

using cosmos::services::estimate_queue;
using cosmos::services::EtaHost;
using cosmos::services::EtaJob;

constexpr std::int64_t k_now = 1'000'000;
constexpr std::int64_t k_min = 60'000;

EtaJob queued(const std::string& id, int gpus, std::optional<double> seconds) {
    EtaJob j;
    j.id = id;
    j.run_id = "run_" + id;
    j.gpus = gpus;
    j.seconds = seconds;
    return j;
}

TEST(QueueEta, JobsShareAHostsGpusInClaimOrder) {
    // Two GPUs: two 1-GPU jobs start now, the 2-GPU job waits for both, the last for the first
    // GPU free after it.
    std::vector<EtaJob> jobs = {
        queued("a", 1, 600), queued("b", 1, 1200), queued("c", 2, 300), queued("d", 1, 60)};
    auto eta = estimate_queue({EtaHost{"gpu1", 2}}, jobs, k_now);
    EXPECT_EQ(eta.at("a").start_ms, k_now);
    EXPECT_EQ(eta.at("a").finish_ms, k_now + 10 * k_min);
    EXPECT_EQ(eta.at("b").start_ms, k_now);
    EXPECT_EQ(eta.at("c").start_ms, k_now + 20 * k_min);  // both GPUs free after b
    EXPECT_EQ(eta.at("c").finish_ms, k_now + 25 * k_min);
    EXPECT_EQ(eta.at("d").start_ms, k_now + 25 * k_min);
}

TEST(QueueEta, ARunningJobHoldsItsGpusUntilItsEstimateAndNotBeforeNow) {
    EtaJob running = queued("r", 1, 600);
    running.running = true;
    running.host = "gpu1";
    running.started_ms = k_now - 5 * k_min;
    EtaJob late = queued("late", 1, 60);
    late.running = true;
    late.host = "gpu2";
    late.started_ms = k_now - 30 * k_min;  // past its estimate
    auto eta = estimate_queue(
        {EtaHost{"gpu1", 1}, EtaHost{"gpu2", 1}}, {running, late, queued("next", 1, 60)}, k_now);
    EXPECT_EQ(eta.at("r").finish_ms, k_now + 5 * k_min);
    EXPECT_EQ(eta.at("late").finish_ms, k_now);
    EXPECT_EQ(eta.at("next").start_ms, k_now);  // gpu2, whose run ends any moment
}

TEST(QueueEta, PinnedHostsDependenciesAndBackoffDelayTheStart) {
    EtaJob pinned = queued("p", 1, 60);
    pinned.host = "gpu2";
    EtaJob after = queued("u", 1, 60);
    after.depends_on = "run_a";
    EtaJob backoff = queued("k", 1, 60);
    backoff.not_before_ms = k_now + 7 * k_min;
    // a takes gpu1, x gpu2 (the first host with a GPU free now); gpu3 stays free.
    auto eta = estimate_queue({EtaHost{"gpu1", 1}, EtaHost{"gpu2", 1}, EtaHost{"gpu3", 4}},
                              {queued("a", 1, 600), queued("x", 1, 600), pinned, after, backoff},
                              k_now);
    EXPECT_EQ(eta.at("x").start_ms, k_now);
    EXPECT_EQ(eta.at("p").start_ms, k_now + 10 * k_min);  // gpu2's only GPU went to x
    EXPECT_EQ(eta.at("u").start_ms, k_now + 10 * k_min);  // after run_a
    EXPECT_EQ(eta.at("k").start_ms, k_now + 7 * k_min);
}

TEST(QueueEta, AnUnknownLengthLeavesLaterJobsOnThoseGpusUnknown) {
    auto eta = estimate_queue(
        {EtaHost{"gpu1", 1}}, {queued("a", 1, std::nullopt), queued("b", 1, 60)}, k_now);
    EXPECT_EQ(eta.at("a").start_ms, k_now);
    EXPECT_FALSE(eta.at("a").finish_ms);
    EXPECT_FALSE(eta.at("b").start_ms);
    EXPECT_FALSE(eta.at("b").finish_ms);
}

TEST(QueueEta, PausedJobsAndJobsNoHostHoldsGetNothing) {
    EtaJob paused = queued("p", 1, 60);
    paused.paused = true;
    EtaJob too_big = queued("big", 8, 60);
    EtaJob elsewhere = queued("e", 1, 60);
    elsewhere.host = "gone";
    auto eta = estimate_queue(
        {EtaHost{"gpu1", 2}}, {paused, too_big, elsewhere, queued("ok", 2, 60)}, k_now);
    EXPECT_FALSE(eta.count("p"));
    EXPECT_FALSE(eta.count("e"));
    EXPECT_FALSE(eta.count("big"));           // more GPUs than any host has
    EXPECT_EQ(eta.at("ok").start_ms, k_now);  // and it holds none of gpu1's
}

}  // namespace
