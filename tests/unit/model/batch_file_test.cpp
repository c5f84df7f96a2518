// Batch compatibility (docs/models/transfer1.md: "Batch input"): equal keys exactly when one spec
// file and per-line overrides can serve both runs; batch lines carry only what a line may change.

#include "model/batch_file.hpp"

#include <gtest/gtest.h>

#include "model/spec.hpp"

using namespace cosmos::model;

namespace {

BatchFacts facts(std::map<std::string, double> weights,
                 const std::string& prompt = "a harbour",
                 const std::string& video = "/in/a/color.mp4") {
    SpecInput in;
    in.prompt = prompt;
    in.negative_prompt = "bad";
    in.input_video = video;
    for (const auto& [m, w] : weights) {
        if (m == "depth" || m == "seg") {
            in.controls[m] = "/in/a/" + m + ".mp4";
        }
    }
    in.params.weights = std::move(weights);
    BatchFacts f;
    f.spec = *build_transfer_spec(in);
    f.params = in.params;
    f.width = 1280;
    f.height = 704;
    f.frames = 121;
    return f;
}

}  // namespace

TEST(BatchFile, KeyIgnoresWhatALineMayChangeAndNothingElse) {
    auto a = facts({{"depth", 0.6}});
    auto b = facts({{"depth", 0.3}}, "another prompt", "/in/b/color.mp4");
    EXPECT_EQ(batch_key(a), batch_key(b));
    EXPECT_NE(batch_key(a), batch_key(facts({{"depth", 0.6}, {"seg", 0.2}})));
    EXPECT_NE(batch_key(a), batch_key(facts({{"edge", 0.6}})));
    auto steps = facts({{"depth", 0.6}});
    steps.spec["num_steps"] = 20;
    EXPECT_NE(batch_key(a), batch_key(steps));
    auto seed = facts({{"depth", 0.6}});
    seed.spec["seed"] = 7;
    EXPECT_NE(batch_key(a), batch_key(seed));
    auto gpus = facts({{"depth", 0.6}});
    gpus.params.num_gpus = 2;
    EXPECT_NE(batch_key(a), batch_key(gpus));
    auto size = facts({{"depth", 0.6}});
    size.frames = 241;
    EXPECT_NE(batch_key(a), batch_key(size));
    auto upscale = facts({{"depth", 0.6}});
    upscale.kind = cosmos::core::RunKind::upscale;
    EXPECT_FALSE(batch_key(upscale).has_value());
    ASSERT_TRUE(batch_key(a).has_value());
    EXPECT_EQ(batch_key(a)->rfind("tb1:", 0), 0u);
}

TEST(BatchFile, LineCarriesPromptVideoAndPerModalityOverrides) {
    auto f = facts({{"depth", 0.6}, {"vis", 0.2}}, "a \"quoted\" prompt");
    auto line = batch_line(f.spec);
    EXPECT_EQ(line["prompt"], "a \"quoted\" prompt");
    EXPECT_EQ(line["visual_input"], "/in/a/color.mp4");
    EXPECT_EQ(line["control_overrides"]["depth"]["control_weight"], 0.6);
    EXPECT_EQ(line["control_overrides"]["depth"]["input_control"], "/in/a/depth.mp4");
    EXPECT_EQ(line["control_overrides"]["vis"]["control_weight"], 0.2);
    EXPECT_FALSE(line["control_overrides"]["vis"].contains("input_control"));
    EXPECT_FALSE(line.contains("negative_prompt"));
}

TEST(BatchFile, LineOfASpecThatIsNotAnObjectOrHasNoTextPromptIsEmpty) {
    // Found by fuzz_batch_file: `value("prompt", ...)` threw json's type_error on these.
    for (const char* text :
         {"7", "\"x\"", "[1,2]", "null", R"({"prompt": 3})", R"({"prompt": ["a"]})"}) {
        auto line = batch_line(nlohmann::ordered_json::parse(text));
        EXPECT_EQ(line["prompt"], "") << text;
    }
}

TEST(BatchFile, SpecRefusesToMixIncompatibleRuns) {
    auto ok = batch_spec({facts({{"depth", 0.6}}), facts({{"depth", 0.1}}, "b")});
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ((*ok)["prompt"], "a harbour");
    auto mixed = batch_spec({facts({{"depth", 0.6}}), facts({{"seg", 0.6}})});
    ASSERT_FALSE(mixed.has_value());
    EXPECT_NE(mixed.error().message.find("not compatible"), std::string::npos);
    EXPECT_EQ(batch_output_video(3), "video_3/output.mp4");
}
