#include "services/emulator_install.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "core/shell_quote.hpp"
#include "media/probe.hpp"
#include "media/synthetic.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using cosmos::core::ErrorCode;
using cosmos::services::emulated_checkpoint_files;
using cosmos::services::find_emulator_binary;
using cosmos::services::install_emulator;

namespace {

bool is_executable(const fs::path& p) {
    return (fs::status(p).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

// Runs `command` with /bin/sh in `cwd`; returns its exit status and output.
int run_in(const fs::path& cwd, const std::string& command, std::string& output) {
    std::string full = "cd " + cosmos::core::shell_quote(cwd.string()) + " && " + command + " 2>&1";
    FILE* p = popen(full.c_str(), "r");
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        output.append(buf, n);
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(EmulatorInstall, LaysOutTheCheckoutScriptsAndCheckpoints) {
    cosmos::test::TempDir dir;
    auto root = dir / "checkout";
    ASSERT_TRUE(install_emulator(root, COSMOS_EMULATOR_PATH));
    EXPECT_TRUE(is_executable(root / ".emulator/cosmos-emulator"));
    EXPECT_EQ(fs::file_size(root / ".emulator/cosmos-emulator"),
              fs::file_size(COSMOS_EMULATOR_PATH));
    EXPECT_NE(cosmos::test::read_file(root / ".emulator/VERSION").find("sha256 "),
              std::string::npos);
    for (const char* script :
         {"cosmos_transfer1/diffusion/inference/transfer.py",
          "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py",
          "bin/torchrun",
          "bin/nvidia-smi",
          "bin/vllm",
          "bin/sglang"}) {
        ASSERT_TRUE(fs::is_regular_file(root / script)) << script;
        EXPECT_TRUE(is_executable(root / script)) << script;
        EXPECT_TRUE(cosmos::test::read_file(root / script).starts_with("#!/bin/sh\n")) << script;
    }
    EXPECT_TRUE(fs::is_regular_file(root / "cosmos_transfer1/__init__.py"));
    ASSERT_GE(emulated_checkpoint_files().size(), 14u);
    for (const std::string& rel : emulated_checkpoint_files()) {
        auto path = root / "checkpoints" / rel;
        ASSERT_TRUE(fs::is_regular_file(path)) << rel;
        EXPECT_GT(fs::file_size(path), 0u);
        EXPECT_LT(fs::file_size(path), 200u);
    }
    EXPECT_TRUE(fs::is_regular_file(root / "checkpoints/nvidia/Cosmos-Transfer1-7B/base_model.pt"));
    EXPECT_TRUE(fs::is_regular_file(
        root / "checkpoints/nvidia/Cosmos-Tokenize1-CV8x8x8-720p/autoencoder.jit"));
}

TEST(EmulatorInstall, RunningTwiceKeepsTheSameLayout) {
    cosmos::test::TempDir dir;
    ASSERT_TRUE(install_emulator(dir.path(), COSMOS_EMULATOR_PATH));
    auto before = fs::last_write_time(dir / ".emulator/cosmos-emulator");
    std::string script = cosmos::test::read_file(dir / "bin/torchrun");
    auto again = install_emulator(dir.path(), COSMOS_EMULATOR_PATH);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(fs::last_write_time(dir / ".emulator/cosmos-emulator"), before);
    EXPECT_EQ(cosmos::test::read_file(dir / "bin/torchrun"), script);
    EXPECT_FALSE(fs::exists(dir / ".emulator/cosmos-emulator.tmp"));
}

TEST(EmulatorInstall, MissingBinaryIsNotFound) {
    cosmos::test::TempDir dir;
    auto st = install_emulator(dir / "checkout", dir / "no-such-emulator");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::not_found);
}

TEST(EmulatorInstall, InstalledTorchrunRunsTheEmulatorEndToEnd) {
    cosmos::test::TempDir dir;
    ASSERT_TRUE(install_emulator(dir / "first", COSMOS_EMULATOR_PATH));
    // The wrappers locate the emulator relative to themselves: a copied checkout still works.
    fs::copy(dir / "first", dir / "root", fs::copy_options::recursive);
    auto root = dir / "root";
    fs::create_directories(root / "inputs");
    ASSERT_TRUE(cosmos::media::write_synthetic_video(
        root / "inputs/color.mp4",
        cosmos::media::SyntheticVideo{.width = 160, .height = 96, .frames = 9, .fps = 24}));
    std::ofstream(root / "spec.json")
        << R"({"prompt": "a ball", "input_video_path": "inputs/color.mp4", "edge": {}})";
    std::string output;
    int rc = run_in(root,
                    "PYTHONPATH=\"$PWD\" COSMOS_EMULATOR_TIME_SCALE=0 bin/torchrun "
                    "--nproc_per_node=1 cosmos_transfer1/diffusion/inference/transfer.py "
                    "--controlnet_specs spec.json --num_gpus 1",
                    output);
    ASSERT_EQ(rc, 0) << output;
    EXPECT_NE(output.find("Saved video to outputs/output.mp4"), std::string::npos) << output;
    auto info = cosmos::media::probe_video(root / "outputs/output.mp4");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->frames, 9);
    EXPECT_EQ(info->width, 1280);
    EXPECT_EQ(info->height, 704);
    output.clear();
    EXPECT_EQ(run_in(root, "bin/nvidia-smi -L", output), 0);
    EXPECT_NE(output.find("GPU 0: NVIDIA H100"), std::string::npos) << output;
    // The Cosmos 3 servers' wrappers reach the emulator's vllm / sglang modes (an unknown flag
    // is refused before anything loads, as the real CLIs do).
    output.clear();
    EXPECT_EQ(run_in(root, "bin/vllm serve nvidia/Cosmos3-Nano --omni --no-such-flag", output), 2);
    EXPECT_NE(output.find("vllm serve: error: unrecognized arguments: --no-such-flag"),
              std::string::npos)
        << output;
    output.clear();
    EXPECT_EQ(run_in(root, "bin/sglang serve", output), 2);
    EXPECT_NE(output.find("required: --model-path"), std::string::npos) << output;
}

TEST(EmulatorInstall, FindsTheBinaryFromTheEnvironment) {
    cosmos::test::TempDir dir;
    const char* saved = std::getenv("COSMOS_EMULATOR_BIN");
    std::string saved_value = saved != nullptr ? saved : "";
    setenv("COSMOS_EMULATOR_BIN", COSMOS_EMULATOR_PATH, 1);
    auto found = find_emulator_binary();
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, fs::path(COSMOS_EMULATOR_PATH));
    setenv("COSMOS_EMULATOR_BIN", (dir / "missing").c_str(), 1);
    found = find_emulator_binary();
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error().code, ErrorCode::not_found);
    EXPECT_FALSE(found.error().hint.empty());
    unsetenv("COSMOS_EMULATOR_BIN");
    found = find_emulator_binary();
    // The test binary lives in build/tests/, the emulator in build/: not beside it.
    bool beside = fs::exists(fs::read_symlink("/proc/self/exe").parent_path() / "cosmos-emulator");
    EXPECT_EQ(found.has_value(), beside);
    if (!saved_value.empty()) {
        setenv("COSMOS_EMULATOR_BIN", saved_value.c_str(), 1);
    }
}
