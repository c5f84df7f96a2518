#include "model/transfer_command.hpp"

#include <fmt/format.h>

namespace cosmos::model {

LaunchCommand transfer_command(const TransferCommandInput& in) {
    const auto gpus = static_cast<int>(in.gpu_ids.size());
    LaunchCommand cmd;
    cmd.cwd = in.cosmos_dir;
    cmd.argv = {in.torchrun,
                fmt::format("--nproc_per_node={}", gpus),
                "--nnodes=1",
                "--node_rank=0",
                k_transfer_script,
                "--checkpoint_dir",
                in.checkpoint_dir,
                "--video_save_folder",
                in.output_dir,
                "--controlnet_specs",
                in.spec_path,
                "--num_gpus",
                std::to_string(gpus)};
    if (in.batch_input_path) {
        cmd.argv.insert(cmd.argv.end(), {"--batch_input_path", *in.batch_input_path});
    } else {
        cmd.argv.insert(cmd.argv.end(), {"--video_save_name", in.save_name});
    }
    if (in.num_steps) {
        cmd.argv.insert(cmd.argv.end(), {"--num_steps", std::to_string(*in.num_steps)});
    }
    for (const auto& o : in.offload) {
        cmd.argv.push_back("--offload_" + o);
    }
    if (in.upsample_prompt) {
        cmd.argv.emplace_back("--upsample_prompt");
    }
    std::string devices;
    for (int id : in.gpu_ids) {
        devices += (devices.empty() ? "" : ",") + std::to_string(id);
    }
    cmd.env["CUDA_VISIBLE_DEVICES"] = devices;
    cmd.env["PYTHONPATH"] = in.cosmos_dir;
    return cmd;
}

}  // namespace cosmos::model
