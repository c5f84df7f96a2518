// The scripts compiled into the binary (core/embedded_scripts.hpp, generated from
// src/*/scripts/*.sh) are exactly the files of the tree.

#include "core/embedded_scripts.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
namespace scripts = cosmos::scripts;

struct Embedded {
    const char* path;  // relative to the source dir
    std::string_view text;
};

const Embedded k_embedded[] = {
    {"src/backends/scripts/checkpoint-hash.sh", scripts::k_checkpoint_hash},
    {"src/backends/scripts/checkpoint-list.sh", scripts::k_checkpoint_list},
    {"src/backends/scripts/model-server.sh", scripts::k_model_server},
    {"src/backends/scripts/slurm-array-task.sh", scripts::k_slurm_array_task},
    {"src/backends/scripts/slurm-docker-entry.sh", scripts::k_slurm_docker_entry},
    {"src/backends/scripts/slurm-docker-job.sh", scripts::k_slurm_docker_job},
    {"src/backends/scripts/slurm-follow.sh", scripts::k_slurm_follow},
    {"src/backends/scripts/slurm-kill.sh", scripts::k_slurm_kill},
    {"src/backends/scripts/slurm-status.sh", scripts::k_slurm_status},
    {"src/backends/scripts/slurm-submit.sh", scripts::k_slurm_submit},
    {"src/runtime/scripts/docker-cleanup.sh", scripts::k_docker_cleanup},
    {"src/runtime/scripts/docker-container.sh", scripts::k_docker_container},
    {"src/runtime/scripts/docker-follow.sh", scripts::k_docker_follow},
    {"src/runtime/scripts/docker-kill.sh", scripts::k_docker_kill},
    {"src/runtime/scripts/docker-launch.sh", scripts::k_docker_launch},
    {"src/runtime/scripts/docker-status.sh", scripts::k_docker_status},
    {"src/runtime/scripts/native-follow.sh", scripts::k_native_follow},
    {"src/runtime/scripts/native-kill.sh", scripts::k_native_kill},
    {"src/runtime/scripts/native-status.sh", scripts::k_native_status},
    {"src/runtime/scripts/native-supervisor.sh", scripts::k_native_supervisor},
    {"src/services/scripts/emulator-transfer-wrapper.sh", scripts::k_emulator_transfer_wrapper},
    {"src/services/scripts/emulator-transfer25-wrapper.sh", scripts::k_emulator_transfer25_wrapper},
    {"src/services/scripts/emulator-upsampler-wrapper.sh", scripts::k_emulator_upsampler_wrapper},
    {"src/services/scripts/host-clean-list-files.sh", scripts::k_host_clean_list_files},
    {"src/services/scripts/host-clean-list-jobs.sh", scripts::k_host_clean_list_jobs},
    {"src/services/scripts/setup-build-image.sh", scripts::k_setup_build_image},
    {"src/services/scripts/setup-download-checkpoints.sh", scripts::k_setup_download_checkpoints},
    {"src/transport/scripts/command-server.sh", scripts::k_command_server},
    {"src/transport/scripts/input-cache.sh", scripts::k_input_cache},
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST(EmbeddedScripts, EachIsTheFileOfTheTree) {
    for (const auto& script : k_embedded) {
        SCOPED_TRACE(script.path);
        fs::path path = fs::path(COSMOS_SOURCE_DIR) / script.path;
        ASSERT_TRUE(fs::is_regular_file(path));
        EXPECT_FALSE(script.text.empty());
        EXPECT_EQ(script.text, read_file(path));
        EXPECT_EQ(script.text.back(), '\n');
        EXPECT_EQ(script.text.data()[script.text.size()], '\0');  // usable as a C string too
    }
}

TEST(EmbeddedScripts, EveryScriptOfTheTreeIsCheckedHere) {
    std::set<std::string> listed;
    for (const auto& script : k_embedded) {
        listed.insert(script.path);
    }
    std::set<std::string> found;
    for (const auto& layer : fs::directory_iterator(fs::path(COSMOS_SOURCE_DIR) / "src")) {
        fs::path dir = layer.path() / "scripts";
        if (!fs::is_directory(dir)) {
            continue;
        }
        for (const auto& file : fs::directory_iterator(dir)) {
            if (file.path().extension() == ".sh") {
                found.insert(fs::relative(file.path(), COSMOS_SOURCE_DIR).generic_string());
            }
        }
    }
    EXPECT_EQ(found, listed);
}

// These two travel inside a Slurm batch script's command line, which carries no newline: one
// line each (slurm_runtime.cpp drops the newline that ends the file).
TEST(EmbeddedScripts, ScriptsOfABatchCommandLineAreOneLine) {
    for (auto text : {scripts::k_slurm_array_task, scripts::k_slurm_docker_entry}) {
        EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
        EXPECT_EQ(text.find('\r'), std::string_view::npos) << text;
    }
}
