#pragma once
// The command-line options of transfer.py (docs/models/transfer1.md), written
// down independently of src/model so the emulator can catch the orchestrator's mistakes.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

enum class ArgKind { str, integer, real, flag };

struct OptionDef {
    std::string dest;  // "num_steps"; the flag is "--" + dest
    ArgKind kind = ArgKind::str;
    nlohmann::ordered_json default_value;
    std::vector<std::string> choices;  // allowed values as text (empty: any)
    bool required = false;
    std::string help;
};

// The options in the order transfer.py declares them.
const std::vector<OptionDef>& transfer_options();

// Returns the option with `dest`, or nullptr.
const OptionDef* find_option(std::string_view dest);

// argparse's usage text, "usage: transfer.py [-h] --controlnet_specs ...", wrapped at 78
// columns, with a trailing newline.
std::string transfer_usage();

// argparse's -h output (usage, then one entry per option).
std::string transfer_help();

// Checks a value coming from the spec JSON for option `def` as the model's code would use it;
// fails with a Python TypeError (or ValueError for a bad choice) when it does not fit.
core::Status check_spec_value(const OptionDef& def, const nlohmann::ordered_json& value);

// The typed view of the final arguments the run uses.
struct TransferArgs {
    std::string controlnet_specs, checkpoint_dir, tokenizer_dir, video_save_folder;
    std::string video_save_name, batch_input_path, prompt, negative_prompt, input_video_path;
    std::string blur_strength, canny_threshold;
    std::int64_t batch_size = 1, num_input_frames = 1, num_steps = 35, fps = 24, seed = 1;
    std::int64_t num_gpus = 1;
    double sigma_max = 70, guidance = 5;
    bool offload_diffusion_transformer = false, offload_text_encoder_model = false;
    bool offload_guardrail_models = false, offload_prompt_upsampler = false;
    bool upsample_prompt = false, use_distilled = false, is_av_sample = false;
    bool save_input_noise = false, benchmark = false;
};

// Builds the typed view from the final namespace (every value already type-checked).
TransferArgs to_transfer_args(const nlohmann::ordered_json& values);

}  // namespace cosmos::emulator
