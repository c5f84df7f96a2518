// Cosmos 3 (docs/models/cosmos3.md): a run's request holds the input's frames and the nearest
// resolution tier, every range the servers enforce is checked before sending, and the form
// fields are the spec's values as strings (the uploaded video is no field).

#include "model/cosmos3.hpp"

#include <gtest/gtest.h>

#include "model/family.hpp"

using namespace cosmos::model;

namespace {

SpecInput input(int width = 1280, int height = 720, std::int64_t frames = 121) {
    SpecInput in;
    in.prompt = "a harbour; at dawn\nwith gulls";
    in.negative_prompt = "blurry";
    in.input_video = "/in/color.mp4";
    in.params = cosmos3_defaults();
    in.width = width;
    in.height = height;
    in.frames = frames;
    return in;
}

std::string refusal(const RunParams& p) {
    auto s = check_cosmos3_params(p);
    return s ? std::string() : s.error().message;
}

}  // namespace

TEST(Cosmos3, TheRequestDefaultsToTheInputsFramesAndSize) {
    auto spec = build_cosmos3_spec(input());
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ((*spec)["size"], "1280x720");
    EXPECT_EQ((*spec)["num_frames"], 121);
    EXPECT_EQ((*spec)["fps"], 24);
    EXPECT_EQ((*spec)["seed"], 1);
    EXPECT_EQ((*spec)["input_reference"], "/in/color.mp4");
    EXPECT_EQ((*spec)["prompt"], "a harbour; at dawn\nwith gulls");
}

TEST(Cosmos3, AnInputThatIsNoTierGetsTheNearestInItsOrientation) {
    RunParams p = cosmos3_defaults();
    EXPECT_EQ(cosmos3_size(p, 640, 352), (std::pair{832, 480}));
    EXPECT_EQ(cosmos3_size(p, 320, 176), (std::pair{320, 192}));
    EXPECT_EQ(cosmos3_size(p, 1920, 1080), (std::pair{1280, 720}));
    EXPECT_EQ(cosmos3_size(p, 720, 1280), (std::pair{720, 1280}));
    p.resolution = "480";
    EXPECT_EQ(cosmos3_size(p, 1920, 1080), (std::pair{832, 480}));
    EXPECT_EQ(cosmos3_size(p, 1080, 1920), (std::pair{480, 832}));
    p.resolution = "720p";
    EXPECT_EQ(cosmos3_size(p, 320, 176), (std::pair{1280, 720}));
}

TEST(Cosmos3, FramesOutsideFiveToThreeHundredAreRefusedWithTheFix) {
    RunParams p = cosmos3_defaults();
    EXPECT_EQ(*cosmos3_frames(p, 121), 121);
    EXPECT_FALSE(cosmos3_frames(p, 4));
    auto many = cosmos3_frames(p, 301);
    ASSERT_FALSE(many);
    EXPECT_NE(many.error().hint.find("--max-frames 300"), std::string::npos);
    p.max_frames = 300;
    EXPECT_EQ(*cosmos3_frames(p, 900), 300);
    p.max_frames = 4;
    EXPECT_NE(refusal(p).find("--max-frames 4"), std::string::npos);
    p.max_frames = 301;
    EXPECT_NE(refusal(p), "");
}

TEST(Cosmos3, EveryRangeTheServerEnforcesIsCheckedFirst) {
    RunParams p = cosmos3_defaults();
    EXPECT_EQ(refusal(p), "");
    for (int fps : {10, 16, 24, 30}) {
        p.fps = fps;
        EXPECT_EQ(refusal(p), "") << fps;
    }
    for (int fps : {0, 1, 25, 60}) {
        p.fps = fps;
        EXPECT_NE(refusal(p).find("fps"), std::string::npos) << fps;
    }
    p = cosmos3_defaults();
    for (const char* r : {"1080", "360", "", "256", "480p"}) {
        p.resolution = r;
        bool ok = std::string(r) != "1080" && std::string(r) != "360";
        EXPECT_EQ(refusal(p).empty(), ok) << r;
    }
    p = cosmos3_defaults();
    p.weights["depth"] = 0.5;
    EXPECT_NE(refusal(p).find("control weights"), std::string::npos);
    p = cosmos3_defaults();
    p.variant = "edge/distilled";
    EXPECT_NE(refusal(p), "");
    p = cosmos3_defaults();
    p.num_gpus = 2;
    EXPECT_NE(refusal(p).find("--num-gpus"), std::string::npos);
    p = cosmos3_defaults();
    p.num_steps = 0;
    EXPECT_NE(refusal(p), "");
}

TEST(Cosmos3, FormFieldsAreStringsAndLeaveOutTheUploadAndEmptyExtras) {
    auto spec = build_cosmos3_spec(input());
    ASSERT_TRUE(spec);
    auto fields = cosmos3_form_fields(*spec);
    std::map<std::string, std::string> by_name(fields.begin(), fields.end());
    EXPECT_EQ(by_name.count("input_reference"), 0u);
    EXPECT_EQ(by_name.count("extra_params"), 0u);
    EXPECT_EQ(by_name["prompt"], "a harbour; at dawn\nwith gulls");
    EXPECT_EQ(by_name["num_frames"], "121");
    EXPECT_EQ(by_name["seed"], "1");
    auto with_extra = input();
    with_extra.params.extra_flags = {"guardrails=false", "condition_video_keep=[0,1]"};
    auto spec2 = build_cosmos3_spec(with_extra);
    ASSERT_TRUE(spec2);
    auto f2 = cosmos3_form_fields(*spec2);
    std::map<std::string, std::string> m2(f2.begin(), f2.end());
    EXPECT_EQ(m2["extra_params"], R"({"guardrails":false,"condition_video_keep":[0,1]})");
}

TEST(Cosmos3, TheFamilyIsServedAndNeverBatched) {
    const auto& f = model_family(Family::cosmos3);
    EXPECT_TRUE(f.served());
    EXPECT_FALSE(model_family(Family::transfer1).served());
    EXPECT_FALSE(f.batch_key(BatchFacts{}));
    EXPECT_EQ(parse_family("cosmos3"), Family::cosmos3);
    EXPECT_TRUE(f.runs(cosmos::core::RunKind::transfer));
    EXPECT_FALSE(f.runs(cosmos::core::RunKind::upscale));
}
