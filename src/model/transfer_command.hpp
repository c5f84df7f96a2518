#pragma once
// The command line that launches Cosmos-Transfer1's transfer script, as its contract says
// (docs/models/transfer1.md): always through torchrun (also on one GPU), flags as two tokens,
// --num_gpus equal to
// --nproc_per_node, CUDA_VISIBLE_DEVICES listing the GPUs, PYTHONPATH and cwd = checkout root.
// Returned as argv + environment: it is never turned into a shell string here.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cosmos::model {

// Path of the transfer script relative to the checkout root.
inline constexpr const char* k_transfer_script = "cosmos_transfer1/diffusion/inference/transfer.py";

struct TransferCommandInput {
    std::string torchrun = "torchrun";
    std::string cosmos_dir;  // checkout root: cwd and PYTHONPATH
    std::string checkpoint_dir;
    std::string spec_path;
    std::string output_dir;  // --video_save_folder
    std::string save_name = "output";
    std::optional<std::string> batch_input_path;
    std::vector<int> gpu_ids = {0};
    std::vector<std::string> offload;  // without the --offload_ prefix
    bool upsample_prompt = false;
    std::optional<int> num_steps;  // given as a flag only where the model contract asks (upscaler)
};

struct LaunchCommand {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string cwd;
};

// Returns the argv, environment additions and working directory for one transfer launch.
LaunchCommand transfer_command(const TransferCommandInput& in);

}  // namespace cosmos::model
