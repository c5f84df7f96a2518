// Reading nvidia-smi's looping csv output into samples.

#include "scheduler/gpu_sampling.hpp"

#include <gtest/gtest.h>

using namespace cosmos;
using namespace cosmos::scheduler;

TEST(GpuSampling, ReadsACsvLine) {
    auto s = parse_gpu_sample("1, 97, 73403, 81559, 612.50, 71", "gpu1", 42);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->host, "gpu1");
    EXPECT_EQ(s->gpu, 1);
    EXPECT_EQ(s->t_ms, 42);
    EXPECT_DOUBLE_EQ(s->util_percent, 97);
    EXPECT_DOUBLE_EQ(s->mem_used_mib, 73403);
    EXPECT_DOUBLE_EQ(s->mem_total_mib, 81559);
    EXPECT_DOUBLE_EQ(*s->power_w, 612.5);
    EXPECT_DOUBLE_EQ(*s->temp_c, 71);
}

TEST(GpuSampling, PowerAndTemperatureMayBeMissing) {
    auto s = parse_gpu_sample("0, 5, 100, 81559, [N/A], [Not Supported]\r", "h", 1);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->power_w);
    EXPECT_FALSE(s->temp_c);
}

TEST(GpuSampling, WhatIsNotASampleIsSkipped) {
    for (const char* line :
         {"",
          "index, utilization.gpu [%], memory.used [MiB], memory.total [MiB], "
          "power.draw [W], temperature.gpu",
          "0, 97, 73403, 81559, 612.50",
          "0, 97, 73403, 81559, 612.50, 71, 9",
          "0, [N/A], 73403, 81559, 612.50, 71",
          "0, 130, 73403, 81559, 612.50, 71",
          "-1, 97, 73403, 81559, 612.50, 71",
          "0.5, 97, 73403, 81559, 612.50, 71",
          "Unable to determine the device handle for GPU0000:01:00.0: Unknown"}) {
        EXPECT_FALSE(parse_gpu_sample(line, "h", 1)) << line;
    }
}

TEST(GpuSampling, HeldGpusDefaultToTheFirstOnes) {
    EXPECT_EQ(held_gpus({2, 3}, 2), "2,3");
    EXPECT_EQ(held_gpus({}, 2), "0,1");
    EXPECT_EQ(held_gpus({}, 0), "0");
}
