// The upscale and enhance run kinds against docs/models/transfer1.md ("Upscaler
// spec", prompt upsampler) and Cosmos-Transfer1's upsampler_pipeline.py.

#include <gtest/gtest.h>

#include "model/enhance_command.hpp"
#include "model/upscale_command.hpp"

using namespace cosmos::model;

TEST(UpscaleRun, SpecIsTheReferencesUpscalerSpec) {
    auto spec = build_upscale_run_spec({"/jobs/rs_1/outputs/output.mp4", 0.5});
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(
        spec->dump(),
        R"({"input_video_path":"/jobs/rs_1/outputs/output.mp4","upscale":{"control_weight":0.5}})");
    EXPECT_EQ(UpscaleInput{}.weight, 0.5);
    EXPECT_TRUE(build_upscale_run_spec({"/x.mp4", 0.0}).has_value());
    EXPECT_TRUE(build_upscale_run_spec({"/x.mp4", 1.7}).has_value());  // non-negative, no cap
    EXPECT_FALSE(build_upscale_run_spec({"/x.mp4", -0.1}).has_value());
    EXPECT_FALSE(build_upscale_run_spec({"/x.mp4", std::nan("")}).has_value());
    EXPECT_FALSE(build_upscale_run_spec({"", 0.5}).has_value());
}

TEST(UpscaleRun, LaunchedWithTenStepsAndTextEncoderOffload) {
    TransferCommandInput in;
    in.cosmos_dir = "/opt/cosmos";
    in.checkpoint_dir = "/opt/cosmos/checkpoints";
    in.spec_path = "/jobs/up_1/spec.json";
    in.output_dir = "/jobs/up_1/outputs";
    in.batch_input_path = "/jobs/up_1/batch.jsonl";  // dropped: the upscaler runs one video
    auto cmd = upscale_command(in);
    std::vector<std::string> expected = {"torchrun",
                                         "--nproc_per_node=1",
                                         "--nnodes=1",
                                         "--node_rank=0",
                                         "cosmos_transfer1/diffusion/inference/transfer.py",
                                         "--checkpoint_dir",
                                         "/opt/cosmos/checkpoints",
                                         "--video_save_folder",
                                         "/jobs/up_1/outputs",
                                         "--controlnet_specs",
                                         "/jobs/up_1/spec.json",
                                         "--num_gpus",
                                         "1",
                                         "--video_save_name",
                                         "output",
                                         "--num_steps",
                                         "10",
                                         "--offload_text_encoder_model"};
    EXPECT_EQ(cmd.argv, expected);
    in.offload = {"guardrail_models", "text_encoder_model"};
    auto kept = upscale_command(in);
    EXPECT_EQ(std::count(kept.argv.begin(), kept.argv.end(), "--offload_text_encoder_model"), 1);
}

TEST(EnhanceRun, RunsTheUpsamplerPipelineThroughTorchrunOnOneGpu) {
    EnhanceCommandInput in;
    in.torchrun = "/opt/cosmos/bin/torchrun";
    in.cosmos_dir = "/opt/cosmos";
    in.checkpoint_dir = "/opt/cosmos/checkpoints";
    in.prompt = "a red ball; $(touch /tmp/pwned)";
    in.input_video = "/jobs/en_1/frame.mp4";
    in.gpu_id = 3;
    auto cmd = enhance_command(in);
    std::vector<std::string> expected = {
        "/opt/cosmos/bin/torchrun",
        "--nproc_per_node=1",
        "--nnodes=1",
        "--node_rank=0",
        "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py",
        "--prompt",
        "a red ball; $(touch /tmp/pwned)",
        "--input_video",
        "/jobs/en_1/frame.mp4",
        "--checkpoint_dir",
        "/opt/cosmos/checkpoints"};
    EXPECT_EQ(cmd.argv, expected);
    EXPECT_EQ(cmd.env.at("CUDA_VISIBLE_DEVICES"), "3");
    EXPECT_EQ(cmd.env.at("PYTHONPATH"), "/opt/cosmos");
    EXPECT_EQ(cmd.env.at("OMP_NUM_THREADS"), "1");  // the script deletes it: KeyError if unset
    EXPECT_EQ(cmd.cwd, "/opt/cosmos");
    in.offload = true;
    EXPECT_EQ(enhance_command(in).argv.back(), "--offload_prompt_upsampler");
}

TEST(EnhanceRun, FrameSizeFitsThePixtralLimit) {
    auto fits = [](FrameSize s) { return static_cast<long>(s.width) * s.height <= 497260; };
    FrameSize a = upsampler_frame_size(1280, 720);
    EXPECT_EQ(a.width, 940);
    EXPECT_EQ(a.height, 528);
    FrameSize b = upsampler_frame_size(1920, 1080);
    EXPECT_TRUE(fits(b));
    EXPECT_EQ(b.width, 940);
    FrameSize c = upsampler_frame_size(940, 529);  // confirmed to work: unchanged
    EXPECT_EQ(c.width, 940);
    EXPECT_EQ(c.height, 529);
    FrameSize d = upsampler_frame_size(704, 1280);
    EXPECT_TRUE(fits(d));
    EXPECT_EQ(d.width % 2, 0);
    EXPECT_EQ(d.height % 2, 0);
    EXPECT_NEAR(static_cast<double>(d.width) / d.height, 704.0 / 1280.0, 0.01);
    FrameSize e = upsampler_frame_size(3840, 2112);
    EXPECT_TRUE(fits(e));
    EXPECT_GT(static_cast<long>(e.width) * e.height, 490000);
}

TEST(EnhanceRun, ParsesThePrintedPrompt) {
    EXPECT_EQ(parse_upsampled_prompt("INFO 11-30 12:00:01 [llm.py:1] loading\n"
                                     "Upsampled prompt: A red ball rolls across wet grass.\n"),
              "A red ball rolls across wet grass.");
    EXPECT_EQ(parse_upsampled_prompt("Upsampled prompt: First paragraph.\n\nSecond one.\n"
                                     "INFO 11-30 12:00:09 [core.py:9] shutting down\n"),
              "First paragraph.\n\nSecond one.");
    EXPECT_EQ(parse_upsampled_prompt("[11-30 12:00:00|INFO|x.py:300:demo] Upsampled prompt: "
                                     "old\nUpsampled prompt: new\n"),
              "new");
    EXPECT_EQ(parse_upsampled_prompt("Upsampled prompt: text\nW1130 12:00:00.000 1 run.py:1] x\n"),
              "text");
    // What our tooling appends to a log is not the model's text (a local run's trailer once
    // became part of the enhanced prompt).
    EXPECT_EQ(parse_upsampled_prompt("Upsampled prompt: a wet street\n# cosmos: exit code 0\n"),
              "a wet street");
    EXPECT_EQ(parse_upsampled_prompt("Upsampled prompt: a wet street\n\ncosmos: the job did not "
                                     "start within 10 s\n"),
              "a wet street");
    EXPECT_EQ(parse_upsampled_prompt("Upsampled prompt: a wet street\ncosmos-job.sh: unknown\n"),
              "a wet street");
    EXPECT_FALSE(parse_upsampled_prompt("no prompt here\n").has_value());
    EXPECT_FALSE(parse_upsampled_prompt("Upsampled prompt: \n").has_value());
}
