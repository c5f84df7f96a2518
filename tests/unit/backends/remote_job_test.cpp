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
