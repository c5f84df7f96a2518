// GPU samples over time: stored raw, merged by age without changing means and peaks, dropped
// after their retention, read back per window and per GPU.

#include "store/gpu_samples.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace cosmos::store;

namespace {

constexpr std::int64_t k_t0 = 1'800'000'000'000;  // a whole hour, in ms

GpuSample sample(int gpu, std::int64_t t_ms, double util, double mem) {
    GpuSample s;
    s.host = "gpu1";
    s.gpu = gpu;
    s.t_ms = t_ms;
    s.util_percent = util;
    s.mem_used_mib = mem;
    s.mem_total_mib = 81559;
    s.power_w = util * 5;
    s.temp_c = 40 + util / 10;
    return s;
}

std::int64_t count_rows(const Database& db, int span) {
    auto st = db.prepare("SELECT count(*) FROM gpu_samples WHERE span_s = ?");
    EXPECT_TRUE(st);
    st->bind(1, span);
    EXPECT_TRUE(*st->step());
    return st->int64(0);
}

}  // namespace

TEST(GpuSamples, MeansAndPeaksSurviveMergingByAge) {
    test::TempDir dir;
    auto db = Database::open(dir / "cosmos.db");
    ASSERT_TRUE(db) << db.error().message;
    // Two GPUs sampled every 5 s for 10 minutes: GPU 0 alternates 80/100 %, GPU 1 idles at 0.
    std::vector<GpuSample> all;
    for (int i = 0; i < 120; ++i) {
        all.push_back(sample(0, k_t0 + i * 5000, i % 2 == 0 ? 80 : 100, 60000 + i));
        all.push_back(sample(1, k_t0 + i * 5000, 0, 0));
    }
    ASSERT_TRUE(insert_gpu_samples(*db, all));
    auto before = gpu_usage(*db, "gpu1", {0}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(before) << before.error().message;
    EXPECT_EQ(before->samples, 120);
    EXPECT_DOUBLE_EQ(before->util_mean, 90);
    EXPECT_DOUBLE_EQ(before->util_peak, 100);
    EXPECT_DOUBLE_EQ(before->mem_peak_mib, 60119);
    auto both = gpu_usage(*db, "gpu1", {}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(both);
    EXPECT_EQ(both->samples, 240);
    EXPECT_DOUBLE_EQ(both->util_mean, 45);

    // Two hours later the raw rows became 10 one-minute buckets per GPU, with the same numbers.
    ASSERT_TRUE(compact_gpu_samples(*db, k_t0 + 2 * 3'600'000));
    EXPECT_EQ(count_rows(*db, 0), 0);
    EXPECT_EQ(count_rows(*db, 60), 20);
    auto after = gpu_usage(*db, "gpu1", {0}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->samples, 120);
    EXPECT_DOUBLE_EQ(after->util_mean, 90);
    EXPECT_DOUBLE_EQ(after->util_peak, 100);
    EXPECT_DOUBLE_EQ(after->mem_peak_mib, 60119);

    // Samples arriving late for a bucket already merged are added to it, not counted twice.
    ASSERT_TRUE(insert_gpu_samples(*db, {sample(0, k_t0 + 1000, 0, 0)}));
    ASSERT_TRUE(compact_gpu_samples(*db, k_t0 + 2 * 3'600'000));
    auto late = gpu_usage(*db, "gpu1", {0}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(late);
    EXPECT_EQ(late->samples, 121);
    EXPECT_NEAR(late->util_mean, 90.0 * 120 / 121, 1e-9);

    // Two days later: one hour bucket per GPU; after 31 days nothing.
    ASSERT_TRUE(compact_gpu_samples(*db, k_t0 + 2 * 86'400'000));
    EXPECT_EQ(count_rows(*db, 60), 0);
    EXPECT_EQ(count_rows(*db, 3600), 2);
    auto hourly = gpu_usage(*db, "gpu1", {0}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(hourly);
    EXPECT_EQ(hourly->samples, 121);
    EXPECT_DOUBLE_EQ(hourly->util_peak, 100);
    ASSERT_TRUE(compact_gpu_samples(*db, k_t0 + 31 * 86'400'000LL));
    EXPECT_EQ(count_rows(*db, 3600), 0);
}

TEST(GpuSamples, UsageIsPerHostWindowAndGpu) {
    test::TempDir dir;
    auto db = Database::open(dir / "cosmos.db");
    ASSERT_TRUE(db);
    auto other = sample(0, k_t0 + 1000, 10, 10);
    other.host = "gpu2";
    ASSERT_TRUE(insert_gpu_samples(*db,
                                   {sample(0, k_t0, 50, 100),
                                    sample(1, k_t0, 90, 900),
                                    sample(0, k_t0 + 60'000, 70, 300),
                                    other}));
    auto first = gpu_usage(*db, "gpu1", {0}, k_t0, k_t0 + 1000);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->samples, 1);
    EXPECT_DOUBLE_EQ(first->util_mean, 50);
    auto none = gpu_usage(*db, "gpu1", {3}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->samples, 0);
    auto two = gpu_usage(*db, "gpu1", {0, 1}, k_t0, k_t0 + 600'000);
    ASSERT_TRUE(two);
    EXPECT_EQ(two->samples, 3);
    EXPECT_DOUBLE_EQ(two->util_mean, 70);
    EXPECT_DOUBLE_EQ(two->mem_peak_mib, 900);
    auto rows = gpu_sample_rows(*db, "gpu1", k_t0, k_t0 + 600'000);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 3U);
    EXPECT_EQ((*rows)[0].gpu, 0);
    EXPECT_EQ((*rows)[1].gpu, 1);
    EXPECT_EQ((*rows)[2].t_ms, k_t0 + 60'000);
    EXPECT_DOUBLE_EQ(*(*rows)[2].power_mean_w, 350);
}

TEST(GpuSamples, GpuIdListsRoundTrip) {
    EXPECT_EQ(parse_gpu_ids("0,1,3"), (std::vector<int>{0, 1, 3}));
    EXPECT_EQ(parse_gpu_ids(""), std::vector<int>{});
    EXPECT_EQ(parse_gpu_ids("2,x,-1,4"), (std::vector<int>{2, 4}));
    EXPECT_EQ(format_gpu_ids({0, 2}), "0,2");
}
