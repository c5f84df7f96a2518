#include "model/spec.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

using cosmos::model::build_transfer_spec;
using cosmos::model::build_upscale_spec;
using cosmos::model::SpecInput;

namespace {

std::string read_fixture(const std::string& rel) {
    std::ifstream in(std::string(COSMOS_FIXTURES_DIR) + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The model contract's multi-control example: input video, vis 0.3, edge 0.7, depth 0.1.
SpecInput multi_control_example() {
    SpecInput in;
    in.prompt = "Captured from a camera mounted on a vehicle roof, we see ...";
    in.negative_prompt = "bad quality";
    in.input_video = "assets/nurec2.mp4";
    in.params.weights = {{"vis", 0.3}, {"edge", 0.7}, {"depth", 0.1}, {"seg", 0.0}};
    return in;
}

}  // namespace

TEST(Spec, MultiControlExampleCarriesTheSameModalitiesWeightsAndVideo) {
    auto spec = build_transfer_spec(multi_control_example());
    ASSERT_TRUE(spec.has_value()) << spec.error().message;
    EXPECT_EQ((*spec)["input_video_path"], "assets/nurec2.mp4");
    EXPECT_EQ((*spec)["vis"], (nlohmann::ordered_json{{"control_weight", 0.3}}));
    EXPECT_EQ((*spec)["edge"], (nlohmann::ordered_json{{"control_weight", 0.7}}));
    EXPECT_EQ((*spec)["depth"], (nlohmann::ordered_json{{"control_weight", 0.1}}));
    EXPECT_FALSE(spec->contains("seg")) << "a zero weight must leave the modality out";
}

TEST(Spec, GoldenFilePinsTheExactJson) {
    auto spec = build_transfer_spec(multi_control_example());
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(spec->dump(2) + "\n", read_fixture("golden/multi_control_spec.json"));
}

TEST(Spec, EveryObjectKeyIsAValidModalityAndEveryScalarARealTransferArgument) {
    auto in = multi_control_example();
    in.controls = {{"depth", "/in/depth.mp4"}, {"seg", "/in/segmentation.mp4"}};
    in.params.weights["seg"] = 0.4;
    in.params.weights["keypoint"] = 0.2;
    auto spec = build_transfer_spec(in);
    ASSERT_TRUE(spec.has_value());
    const std::set<std::string> modalities = {
        "vis", "edge", "depth", "seg", "keypoint", "upscale", "hdmap", "lidar"};
    const std::set<std::string> transfer_args = {"prompt",
                                                 "negative_prompt",
                                                 "input_video_path",
                                                 "num_steps",
                                                 "guidance",
                                                 "sigma_max",
                                                 "seed",
                                                 "fps",
                                                 "blur_strength",
                                                 "canny_threshold"};
    for (auto& [key, value] : spec->items()) {
        if (value.is_object()) {
            EXPECT_TRUE(modalities.count(key)) << key;
            EXPECT_TRUE(value.contains("control_weight")) << key;
            EXPECT_GE(value["control_weight"].get<double>(), 0.0);
        } else {
            EXPECT_TRUE(transfer_args.count(key)) << key << " is not a transfer.py argument";
        }
    }
}

TEST(Spec, InputControlOnlyWhereAControlVideoExists) {
    auto in = multi_control_example();
    in.controls = {{"depth", "/in/depth.mp4"}};
    auto spec = build_transfer_spec(in);
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ((*spec)["depth"]["input_control"], "/in/depth.mp4");
    EXPECT_FALSE((*spec)["vis"].contains("input_control"));
    EXPECT_FALSE((*spec)["edge"].contains("input_control"));
}

TEST(Spec, StrengthKeysOnlyWithTheirModality) {
    auto in = multi_control_example();
    in.params.weights = {{"depth", 0.5}};
    auto spec = build_transfer_spec(in);
    ASSERT_TRUE(spec.has_value());
    EXPECT_FALSE(spec->contains("blur_strength"));
    EXPECT_FALSE(spec->contains("canny_threshold"));
}

TEST(Spec, WithoutInputVideoSigmaMustBe80AndEveryModalityNeedsAControl) {
    SpecInput in;
    in.prompt = "p";
    in.params.weights = {{"depth", 0.5}};
    in.controls = {{"depth", "/in/depth.mp4"}};
    in.params.sigma_max = 70;
    auto low = build_transfer_spec(in);
    ASSERT_FALSE(low.has_value());
    EXPECT_NE(low.error().message.find("sigma"), std::string::npos);
    in.params.sigma_max = 80;
    EXPECT_TRUE(build_transfer_spec(in).has_value());
    in.params.weights["edge"] = 0.5;
    auto no_edge = build_transfer_spec(in);
    ASSERT_FALSE(no_edge.has_value());
    EXPECT_NE(no_edge.error().message.find("edge"), std::string::npos);
}

TEST(Spec, RefusesNegativeWeightsAndNoActiveModality) {
    auto in = multi_control_example();
    in.params.weights["vis"] = -0.1;
    EXPECT_FALSE(build_transfer_spec(in).has_value());
    in.params.weights = {{"vis", 0.0}};
    EXPECT_FALSE(build_transfer_spec(in).has_value());
}

TEST(Spec, HdmapNeedsARenderedControl) {
    auto in = multi_control_example();
    in.params.weights = {{"hdmap", 0.5}};
    EXPECT_FALSE(build_transfer_spec(in).has_value());
    in.controls = {{"hdmap", "/in/hdmap.mp4"}};
    EXPECT_TRUE(build_transfer_spec(in).has_value());
}

TEST(Spec, UpscaleSpecMatchesTheReference) {
    auto spec = build_upscale_spec("outputs/x/output.mp4", 0.5);
    EXPECT_EQ(spec.dump(),
              R"({"input_video_path":"outputs/x/output.mp4","upscale":{"control_weight":0.5}})");
}
