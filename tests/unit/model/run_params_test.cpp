#include "model/run_params.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace cosmos::model;

TEST(RunParams, DefaultsAreValid) {
    EXPECT_TRUE(validate(RunParams{}).has_value());
}

TEST(RunParams, RangesFollowTheReference) {
    EXPECT_FALSE(check_num_steps(0).has_value());
    EXPECT_TRUE(check_num_steps(1).has_value());
    EXPECT_TRUE(check_num_steps(100).has_value());
    EXPECT_FALSE(check_num_steps(101).has_value());
    EXPECT_FALSE(check_guidance(0.5).has_value());
    EXPECT_FALSE(check_guidance(20.5).has_value());
    EXPECT_FALSE(check_sigma_max(-1).has_value());
    EXPECT_TRUE(check_sigma_max(80).has_value());
    EXPECT_FALSE(check_sigma_max(80.01).has_value());
    EXPECT_FALSE(check_fps(0).has_value());
    EXPECT_FALSE(check_fps(61).has_value());
    EXPECT_FALSE(check_seed(0).has_value());
    EXPECT_TRUE(check_seed(4294967295LL).has_value());
    EXPECT_FALSE(check_seed(4294967296LL).has_value());
    for (int n : {1, 2, 4, 8}) {
        EXPECT_TRUE(check_num_gpus(n).has_value()) << n;
    }
    for (int n : {0, 3, 5, 16}) {
        EXPECT_FALSE(check_num_gpus(n).has_value()) << n;
    }
}

TEST(RunParams, WeightsMustBeNonNegativeOnKnownTransferModalities) {
    EXPECT_TRUE(check_weight("depth", 0).has_value());
    EXPECT_TRUE(check_weight("seg", 1.5).has_value());
    EXPECT_FALSE(check_weight("depth", -0.01).has_value());
    EXPECT_FALSE(check_weight("depth", std::nan("")).has_value());
    EXPECT_FALSE(check_weight("color", 0.5).has_value());
    EXPECT_FALSE(check_weight("upscale", 0.5).has_value());
    auto e = check_weight("depth", -1);
    EXPECT_NE(e.error().message.find("depth"), std::string::npos);
}

TEST(RunParams, JsonRoundTrip) {
    RunParams p;
    p.weights = {{"vis", 0.3}, {"depth", 0.6}};
    p.seed = 4294967295ULL;
    p.offload = {"guardrail_models"};
    auto back = run_params_from_json(to_json(p));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->weights, p.weights);
    EXPECT_EQ(back->seed, p.seed);
    EXPECT_EQ(back->offload, p.offload);
}
