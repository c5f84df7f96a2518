// Cosmos-Transfer2.5 (docs/models/transfer2.5.md): the spec holds exactly the fields 2.5 takes,
// values outside its rules are refused naming the rule, the command line is torchrun over
// examples/inference.py, batches share a load only for one control set, and its log's progress.

#include "model/transfer25.hpp"

#include <gtest/gtest.h>

#include "model/family.hpp"
#include "model/model_log.hpp"

using namespace cosmos::model;

namespace {

SpecInput input(std::map<std::string, double> weights) {
    SpecInput in;
    in.prompt = "a harbour at dawn";
    in.negative_prompt = "blurry";
    in.input_video = "/in/color.mp4";
    in.controls["depth"] = "/in/depth.mp4";
    in.params = transfer25_defaults();
    in.params.weights = std::move(weights);
    return in;
}

std::string refusal(const RunParams& p) {
    auto s = check_transfer25_params(p);
    return s ? std::string() : s.error().message;
}

}  // namespace

TEST(Transfer25, SpecHoldsExactlyTheFieldsTheModelTakes) {
    auto in = input({{"depth", 0.5}, {"edge", 1.0}, {"vis", 0}});
    in.masks["depth"] = "/in/depth_mask.mp4";
    in.params.mask_prompts["edge"] = "the road";
    auto spec = build_transfer25_spec(in);
    ASSERT_TRUE(spec) << spec.error().message;
    std::vector<std::string> keys;
    for (const auto& [k, v] : spec->items()) {
        keys.push_back(k);
    }
    EXPECT_EQ(keys,
              (std::vector<std::string>{"name",
                                        "prompt",
                                        "negative_prompt",
                                        "seed",
                                        "guidance",
                                        "video_path",
                                        "num_steps",
                                        "resolution",
                                        "edge",
                                        "depth"}));
    EXPECT_EQ((*spec)["name"], "output");
    EXPECT_EQ((*spec)["guidance"], 3);
    EXPECT_TRUE((*spec)["guidance"].is_number_integer());
    EXPECT_EQ((*spec)["seed"], 2025);
    EXPECT_EQ((*spec)["depth"],
              (nlohmann::ordered_json{{"control_weight", 0.5},
                                      {"control_path", "/in/depth.mp4"},
                                      {"mask_path", "/in/depth_mask.mp4"}}));
    EXPECT_EQ((*spec)["edge"]["mask_prompt"], "the road");
    EXPECT_FALSE((*spec)["edge"].contains("control_path"));  // computed from the input
    // Native long video settings appear only when given.
    in.params.chunk_frames = 61;
    in.params.conditional_frames = 2;
    spec = build_transfer25_spec(in);
    ASSERT_TRUE(spec);
    EXPECT_EQ((*spec)["num_video_frames_per_chunk"], 61);
    EXPECT_EQ((*spec)["num_conditional_frames"], 2);
}

TEST(Transfer25, RulesAreThe2_5Ones) {
    auto p = transfer25_defaults();
    p.weights = {{"edge", 1.0}};
    EXPECT_EQ(refusal(p), "");
    p.guidance = 7.5;
    EXPECT_NE(refusal(p).find("guidance is a whole number 0-7 (got 7.5)"), std::string::npos);
    p.guidance = 8;
    EXPECT_NE(refusal(p).find("guidance"), std::string::npos);
    p.guidance = 0;
    EXPECT_EQ(refusal(p), "");
    p.weights = {{"edge", 1.2}};
    EXPECT_NE(refusal(p).find("out of range 0-1"), std::string::npos);
    p.weights = {{"keypoint", 0.5}};
    EXPECT_NE(refusal(p).find("no 'keypoint' control"), std::string::npos);
    p.weights = {{"edge", 0}};
    EXPECT_NE(refusal(p).find("at least one control"), std::string::npos);
    p.weights = {{"edge", 1.0}};
    p.conditional_frames = 3;
    EXPECT_NE(refusal(p).find("0, 1 or 2"), std::string::npos);
    p.conditional_frames.reset();
    p.offload = {"text_encoder_model"};
    EXPECT_NE(refusal(p).find("offload"), std::string::npos);
    p.offload = {"guardrail_models"};
    EXPECT_EQ(refusal(p), "");
    p.resolution = "4k";
    EXPECT_NE(refusal(p).find("resolution '4k'"), std::string::npos);
    p.resolution = "480";
    EXPECT_EQ(refusal(p), "");
    p.mask_prompts = {{"depth", "road"}};
    EXPECT_NE(refusal(p).find("not an active control"), std::string::npos);
    // The distilled edge model: edge only, 4 steps (its default).
    auto d = transfer25_defaults("edge/distilled");
    EXPECT_EQ(d.num_steps, 4);
    d.weights = {{"edge", 1.0}};
    EXPECT_EQ(refusal(d), "");
    d.weights = {{"edge", 1.0}, {"depth", 0.5}};
    EXPECT_NE(refusal(d).find("takes only the edge control"), std::string::npos);
    d.weights = {{"edge", 1.0}};
    d.num_steps = 35;
    EXPECT_NE(refusal(d).find("runs 4 steps"), std::string::npos);
    // No input video: 2.5 generates from one.
    auto in = input({{"edge", 1.0}});
    in.input_video.reset();
    auto spec = build_transfer25_spec(in);
    ASSERT_FALSE(spec);
    EXPECT_NE(spec.error().message.find("needs an input video"), std::string::npos);
}

TEST(Transfer25, CommandIsTorchrunOverTheInferenceScript) {
    Transfer25CommandInput in;
    in.torchrun = "/opt/emu/bin/torchrun";
    in.checkout = "/opt/ct25";
    in.input_file = "/w/jobs/rs_1/spec.json";
    in.output_dir = "/w/jobs/rs_1/outputs";
    in.gpu_ids = {2, 3};
    in.params = transfer25_defaults("edge/distilled");
    in.params.offload = {"guardrail_models"};
    in.params.checkpoint_path = "/ckpt/post.pt";
    in.params.extra_flags = {"--disable-guardrails"};
    auto cmd = transfer25_command(in);
    EXPECT_EQ(cmd.argv,
              (std::vector<std::string>{"/opt/emu/bin/torchrun",
                                        "--nproc_per_node=2",
                                        "--nnodes=1",
                                        "--node_rank=0",
                                        "examples/inference.py",
                                        "-i",
                                        "/w/jobs/rs_1/spec.json",
                                        "-o",
                                        "/w/jobs/rs_1/outputs",
                                        "--model",
                                        "edge/distilled",
                                        "--offload-guardrail-models",
                                        "--checkpoint-path",
                                        "/ckpt/post.pt",
                                        "--disable-guardrails"}));
    EXPECT_EQ(cmd.env.at("CUDA_VISIBLE_DEVICES"), "2,3");
    EXPECT_EQ(cmd.cwd, "/opt/ct25");
}

TEST(Transfer25, BatchKeyFollowsTheControlSetNotThePerSampleFields) {
    auto facts = [](std::map<std::string, double> w, const std::string& prompt) {
        auto in = input(std::move(w));
        in.prompt = prompt;
        BatchFacts f;
        f.spec = *build_transfer25_spec(in);
        f.params = in.params;
        return f;
    };
    auto a = facts({{"depth", 0.6}, {"edge", 0.4}}, "one");
    auto b = facts({{"depth", 0.2}, {"edge", 1.0}}, "two");
    b.params.guidance = 5;
    b.params.seed = 7;
    EXPECT_EQ(transfer25_batch_key(a), transfer25_batch_key(b));
    EXPECT_EQ(transfer25_batch_key(a)->substr(0, 4), "t25:");
    auto c = facts({{"seg", 1.0}}, "three");
    EXPECT_NE(transfer25_batch_key(a), transfer25_batch_key(c));
    auto d = facts({{"depth", 0.6}, {"edge", 0.4}}, "four");
    d.params.num_gpus = 2;
    EXPECT_NE(transfer25_batch_key(a), transfer25_batch_key(d));
    const auto& family = model_family(Family::transfer2_5);
    auto line = family.batch_line(b.spec, 3);
    EXPECT_EQ(line["name"], "line3");
    EXPECT_EQ(family.output_video(3), "line3.mp4");
    EXPECT_EQ(family.output_video(std::nullopt), "output.mp4");
    EXPECT_FALSE(family.batch_spec({a, c}));
}

TEST(Transfer25, ChunksAndProgressFromItsLog) {
    auto p = transfer25_defaults();
    EXPECT_EQ(transfer25_chunks(25, p), 1);
    EXPECT_EQ(transfer25_chunks(93, p), 1);
    EXPECT_EQ(transfer25_chunks(200, p), 3);  // 93, then 92 new frames a chunk
    p.max_frames = 90;
    EXPECT_EQ(transfer25_chunks(200, p), 1);
    ProgressTracker t(2, LogDialect::transfer2_5);
    EXPECT_FALSE(t.feed("Generating samples:  40%|####      | 14/35 [00:01<00:02, 9.1it/s]"));
    // A line holding every redraw of one bar ('\r'-separated) completes one chunk.
    EXPECT_TRUE(
        t.feed("\rGenerating samples:   0%|  | 0/35 [00:00<?, ?it/s]\rGenerating "
               "samples: 100%|##########| 35/35 [00:03<00:00, 9.9it/s]"));
    EXPECT_EQ(t.completed_chunks(), 1);
    EXPECT_EQ(t.phase(), "sampling");
    EXPECT_TRUE(
        t.feed("[12-07 01:02:03|CRITICAL|cosmos_transfer2/inference.py:200:generate] "
               "Guardrail blocked generation. Prompt: bad"));
    EXPECT_TRUE(t.guardrail_blocked());
    EXPECT_TRUE(
        t.feed("[12-07 01:02:09|SUCCESS|cosmos_transfer2/inference.py:250:generate] "
               "Generated video saved to /w/outputs/output.mp4"));
    EXPECT_EQ(t.saved_video(), "/w/outputs/output.mp4");
    EXPECT_EQ(t.fraction(), 1.0);
}

TEST(Transfer25, ACounterTooLargeForAnIntIsNoProgressBar) {
    // stoi threw std::out_of_range out of the log watcher (found writing fuzz/model_log.cpp).
    ProgressTracker t(2, LogDialect::transfer2_5);
    EXPECT_FALSE(t.feed("Generating samples: 100%|###| 99999999999/99999999999 [00:03<00:00]"));
    EXPECT_EQ(t.completed_chunks(), 0);
    EXPECT_TRUE(t.feed("Generating samples: 99999999999/9 [00:01]\r 35/35 [00:03<00:00]"));
    EXPECT_EQ(t.completed_chunks(), 1);
}
