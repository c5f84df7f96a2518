#include "model/transfer_command.hpp"

#include <string>

#include <gtest/gtest.h>

#include "model/model_log.hpp"

using namespace cosmos::model;

TEST(TransferCommand, AlwaysThroughTorchrunWithMatchingGpuCountsAndTwoTokenFlags) {
    TransferCommandInput in;
    in.torchrun = "/opt/cosmos/bin/torchrun";
    in.cosmos_dir = "/opt/cosmos";
    in.checkpoint_dir = "/opt/cosmos/checkpoints";
    in.spec_path = "/data/runs/rs_1/spec.json";
    in.output_dir = "/data/runs/rs_1/outputs";
    in.gpu_ids = {2, 3};
    in.offload = {"text_encoder_model", "guardrail_models"};
    auto cmd = transfer_command(in);
    std::vector<std::string> expected = {"/opt/cosmos/bin/torchrun",
                                         "--nproc_per_node=2",
                                         "--nnodes=1",
                                         "--node_rank=0",
                                         "cosmos_transfer1/diffusion/inference/transfer.py",
                                         "--checkpoint_dir",
                                         "/opt/cosmos/checkpoints",
                                         "--video_save_folder",
                                         "/data/runs/rs_1/outputs",
                                         "--controlnet_specs",
                                         "/data/runs/rs_1/spec.json",
                                         "--num_gpus",
                                         "2",
                                         "--video_save_name",
                                         "output",
                                         "--offload_text_encoder_model",
                                         "--offload_guardrail_models"};
    EXPECT_EQ(cmd.argv, expected);
    EXPECT_EQ(cmd.env.at("CUDA_VISIBLE_DEVICES"), "2,3");
    EXPECT_EQ(cmd.env.at("PYTHONPATH"), "/opt/cosmos");
    EXPECT_EQ(cmd.cwd, "/opt/cosmos");
    for (const auto& a : cmd.argv) {
        if (a.rfind("--", 0) == 0 && a.rfind("--nproc", 0) != 0 && a.rfind("--nnodes", 0) != 0 &&
            a.rfind("--node_rank", 0) != 0) {
            EXPECT_EQ(a.find('='), std::string::npos) << a << " must be two tokens";
        }
    }
}

TEST(TransferCommand, BatchFileReplacesSaveName) {
    TransferCommandInput in;
    in.batch_input_path = "/job/batch.jsonl";
    auto cmd = transfer_command(in);
    auto has = [&](const std::string& s) {
        return std::find(cmd.argv.begin(), cmd.argv.end(), s) != cmd.argv.end();
    };
    EXPECT_TRUE(has("--batch_input_path"));
    EXPECT_FALSE(has("--video_save_name"));
}

TEST(ModelLog, ExpectedChunksFollowTheReference) {
    EXPECT_EQ(expected_chunks(1), 1);
    EXPECT_EQ(expected_chunks(121), 1);
    EXPECT_EQ(expected_chunks(122), 2);
    EXPECT_EQ(expected_chunks(241), 2);
    EXPECT_EQ(expected_chunks(242), 3);
    EXPECT_EQ(expected_chunks(5000), 42);
    EXPECT_EQ(expected_chunks(9000), 42);
}

TEST(ModelLog, ParsesLogLinePrefix) {
    auto l =
        parse_log_line("[11-25 05:12:53|INFO|cosmos_transfer1/x.py:12:demo] Saved video to a.mp4");
    EXPECT_EQ(l.level, "INFO");
    EXPECT_EQ(l.message, "Saved video to a.mp4");
    auto after_bar = parse_log_line(
        "  0%|          | 0/1 [00:00<?, ?it/s][11-25 05:51:36|INFO|t.py:352:demo] Saved video to "
        "x");
    EXPECT_EQ(after_bar.level, "INFO");
    EXPECT_EQ(after_bar.message, "Saved video to x");
    auto plain = parse_log_line("Traceback (most recent call last):");
    EXPECT_EQ(plain.level, "");
}

TEST(ModelLog, TracksProgressOutputsAndErrors) {
    ProgressTracker t(2);
    EXPECT_EQ(t.phase(), "starting");
    t.feed("[11-25 05:12:53|INFO|t.py:1:demo] Completed diffusion sampling");
    EXPECT_DOUBLE_EQ(t.fraction(), 0.5);
    t.feed("[11-25 05:12:54|INFO|t.py:1:demo] Completed diffusion sampling");
    EXPECT_LT(t.fraction(), 1.0) << "1.0 only once the video is saved";
    t.feed("[11-25 05:12:55|INFO|t.py:1:demo] Saved video to /o/output.mp4");
    EXPECT_DOUBLE_EQ(t.fraction(), 1.0);
    EXPECT_EQ(t.saved_video().value_or(""), "/o/output.mp4");

    ProgressTracker oom(1);
    oom.feed("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.");
    ASSERT_TRUE(oom.error_line().has_value());
    EXPECT_NE(oom.error_line()->find("CUDA out of memory"), std::string::npos);

    ProgressTracker guard(1);
    guard.feed("[11-25 05:12:53|CRITICAL|t.py:1:demo] Guardrail blocked generation.");
    EXPECT_TRUE(guard.guardrail_blocked());

    ProgressTracker crash(1);
    crash.feed("RuntimeError: NCCL communicator was aborted");
    crash.feed("torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ");
    EXPECT_EQ(crash.error_line().value_or(""), "RuntimeError: NCCL communicator was aborted")
        << "the torchrun wrapper must not hide the worker's exception";

    ProgressTracker only_wrapper(1);
    only_wrapper.feed("torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ");
    EXPECT_TRUE(only_wrapper.error_line().has_value());
}

TEST(ModelLog, ExceptionLinesAreTheTracebacksLastLineOnly) {
    for (const char* line : {"ValueError: bad value",
                             "torch.cuda.OutOfMemoryError: ",
                             "my_pkg.LoaderException: no file"}) {
        ProgressTracker t(1);
        EXPECT_TRUE(t.feed(line)) << line;
        EXPECT_EQ(t.error_line().value_or(""), line);
    }
    for (const char* line : {"Error: no name before it",
                             "Exception: neither",
                             "  ValueError: indented",
                             "Value Error: spaced",
                             "ValueError:no space",
                             "3Error: digit first",
                             "ValueError: a\rb"}) {
        ProgressTracker t(1);
        EXPECT_FALSE(t.feed(line)) << line;
        EXPECT_FALSE(t.error_line().has_value()) << line;
    }
}

TEST(ModelLog, VeryLongLinesAreReadWithoutOverflowingTheStack) {
    // std::regex recursed once per character: a 100 KB exception message or tqdm line crashed
    // the watcher with a stack overflow (found writing fuzz/model_log.cpp).
    const std::string tail(100'000, 'x');
    ProgressTracker t(1);
    EXPECT_TRUE(t.feed("ValueError: " + tail));
    EXPECT_EQ(t.error_line()->size(), 12 + tail.size());
    ProgressTracker bar(1, LogDialect::transfer2_5);
    EXPECT_FALSE(bar.feed("Generating samples: " + std::string(100'000, '1') + "/" +
                          std::string(100'000, '2') + " ["));
    EXPECT_TRUE(bar.feed("Generating samples: " + tail + " 35/35 [00:03<00:00]"));
    EXPECT_EQ(bar.completed_chunks(), 1);
}
