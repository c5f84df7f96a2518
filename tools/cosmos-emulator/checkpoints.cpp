#include "checkpoints.hpp"

#include <filesystem>
#include <system_error>

#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

constexpr const char* k_transfer_repo = "nvidia/Cosmos-Transfer1-7B";
constexpr const char* k_av_repo = "nvidia/Cosmos-Transfer1-7B-Sample-AV";

std::string join(const std::string& dir, const std::string& rel) {
    return (std::filesystem::path(dir) / rel).string();
}

std::string tokenizer_dir(const TransferArgs& args) {
    // The flag names the repository folder; a bare name lives under nvidia/.
    std::string rel = args.tokenizer_dir.find('/') == std::string::npos
                          ? "nvidia/" + args.tokenizer_dir
                          : args.tokenizer_dir;
    return join(args.checkpoint_dir, rel);
}

}  // namespace

std::string default_control_checkpoint(const std::string& key, const TransferArgs& args) {
    if (key == "hdmap" || key == "lidar") {
        return join(args.checkpoint_dir, std::string(k_av_repo) + "/" + key + "_control.pt");
    }
    std::string file = key == "upscale"                      ? "4kupscaler_control.pt"
                       : key == "edge" && args.use_distilled ? "edge_control_distilled.pt"
                                                             : key + "_control.pt";
    return join(args.checkpoint_dir, std::string(k_transfer_repo) + "/" + file);
}

std::vector<std::string> required_checkpoints(const TransferArgs& args,
                                              const nlohmann::ordered_json& controls) {
    std::vector<std::string> files;
    files.push_back(
        join(args.checkpoint_dir,
             std::string(args.is_av_sample ? k_av_repo : k_transfer_repo) + "/base_model.pt"));
    for (const auto& [key, config] : controls.items()) {
        if (config.is_object() && config.contains("ckpt_path") && config["ckpt_path"].is_string()) {
            files.push_back(config["ckpt_path"].get<std::string>());
        } else {
            files.push_back(default_control_checkpoint(key, args));
        }
    }
    std::string tok = tokenizer_dir(args);
    for (const char* f : {"autoencoder.jit", "decoder.jit", "encoder.jit"}) {
        files.push_back(join(tok, f));
    }
    if (args.upsample_prompt) {
        files.push_back(
            join(args.checkpoint_dir,
                 "nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/consolidated.safetensors"));
    }
    return files;
}

core::Status check_checkpoints(const TransferArgs& args, const nlohmann::ordered_json& controls) {
    for (const std::string& file : required_checkpoints(args, controls)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            return file_not_found(file, "demo>load_model_checkpoint");
        }
    }
    return {};
}

}  // namespace cosmos::emulator
