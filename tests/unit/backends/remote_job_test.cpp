#include "backends/remote_job.hpp"

#include <gtest/gtest.h>

using namespace cosmos;

TEST(GpuQuery, ParsesNvidiaSmiCsv) {
    auto gpus = backends::parse_gpu_query(
        "0, NVIDIA H100 80GB HBM3, 97, 61234, 81559\n"
        "1, NVIDIA H100 80GB HBM3, [N/A], 0, 81559\n"
        "garbage line\n");
    ASSERT_EQ(gpus.size(), 2u);
    EXPECT_EQ(gpus[0].index, 0);
    EXPECT_EQ(gpus[0].name, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(gpus[0].utilization_percent, 97);
    EXPECT_EQ(gpus[0].memory_used_mib, 61234);
    EXPECT_EQ(gpus[0].memory_total_mib, 81559);
    EXPECT_EQ(gpus[1].utilization_percent, 0);
    EXPECT_TRUE(backends::parse_gpu_query("").empty());
}

TEST(DfOutput, ReadsTheAvailableKibOfTheLastLine) {
    EXPECT_EQ(
        backends::parse_df_available("/dev/nvme0n1p1 1921724608 1100227476 723804808  61% /\n"),
        std::uint64_t{723804808} * 1024);
    EXPECT_EQ(backends::parse_df_available("overlay 10 10 0 100% /\n"), 0u);
    EXPECT_FALSE(backends::parse_df_available(""));
    EXPECT_FALSE(backends::parse_df_available("df: /w: No such file or directory\n"));
}

TEST(DfOutput, RefusesANegativeOrOverflowingAvailableCount) {
    // A file system past its reserve can report negative free space; stoull read "-1" as
    // 2^64-1 KiB and the host looked to have 16 EiB free.
    EXPECT_FALSE(backends::parse_df_available("/dev/sda1 100 120 -20 120% /\n"));
    EXPECT_FALSE(backends::parse_df_available("/dev/sda1 1 1 18014398509481984 1% /\n"));
    EXPECT_FALSE(backends::parse_df_available("/dev/sda1 1 1 12ab 1% /\n"));
}
