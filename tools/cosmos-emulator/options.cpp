#include "options.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "log.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::string_view k_default_prompt =
    "The video captures a stunning, photorealistic scene with remarkable attention to detail, "
    "giving it a lifelike appearance that is almost indistinguishable from reality. It appears "
    "to be from a high-budget 4K movie, showcasing ultra-high-definition quality with flawless "
    "resolution.";

constexpr std::string_view k_default_negative_prompt =
    "The video captures a game playing, with bad crappy graphics and cartoonish frames. It "
    "represents a recording of old outdated games. The lighting looks very fake. The textures "
    "are very raw and basic. The geometries are very primitive. The images are very pixelated "
    "and of poor CG quality. There are many subtitles in the footage. Overall, the video is "
    "unrealistic at all.";

const std::vector<std::string> k_strengths = {"very_low", "low", "medium", "high", "very_high"};

OptionDef str(std::string dest, nlohmann::ordered_json def, std::string help) {
    return OptionDef{std::move(dest), ArgKind::str, std::move(def), {}, false, std::move(help)};
}
OptionDef integer(std::string dest, std::int64_t def, std::string help) {
    return OptionDef{std::move(dest), ArgKind::integer, def, {}, false, std::move(help)};
}
OptionDef real(std::string dest, double def, std::string help) {
    return OptionDef{std::move(dest), ArgKind::real, def, {}, false, std::move(help)};
}
OptionDef flag(std::string dest, std::string help) {
    return OptionDef{std::move(dest), ArgKind::flag, false, {}, false, std::move(help)};
}

std::vector<OptionDef> build_options() {
    std::vector<OptionDef> o;
    o.push_back(str("controlnet_specs", nullptr, "Path to JSON file specifying multicontrolnet"));
    o.back().required = true;
    o.push_back(
        str("checkpoint_dir", "checkpoints", "Base directory containing model checkpoints"));
    o.push_back(
        str("tokenizer_dir", "Cosmos-Tokenize1-CV8x8x8-720p", "Tokenizer weights directory"));
    o.push_back(
        str("video_save_folder", "outputs/", "Output folder for generating a batch of videos"));
    o.push_back(str("video_save_name", "output", "Output filename for generating a single video"));
    o.push_back(str("batch_input_path", nullptr, "Path to a JSONL file of input prompts"));
    o.push_back(integer("batch_size", 1, "Batch size"));
    o.push_back(str(
        "prompt", std::string(k_default_prompt), "prompt which the sampled video condition on"));
    o.push_back(str("negative_prompt", std::string(k_default_negative_prompt), "negative prompt"));
    o.push_back(str("input_video_path", "", "Optional input RGB video path"));
    o.push_back(integer("num_input_frames", 1, "Number of conditional frames for long video"));
    o.back().choices = {"1"};
    o.push_back(real("sigma_max", 70.0, "sigma_max for partial denoising"));
    o.push_back(str("blur_strength", "medium", "blur strength for vis"));
    o.back().choices = k_strengths;
    o.push_back(str("canny_threshold", "medium", "blur strength of canny threshold for edge"));
    o.back().choices = k_strengths;
    o.push_back(integer("num_steps", 35, "Number of diffusion sampling steps"));
    o.push_back(real("guidance", 5.0, "Classifier-free guidance scale value"));
    o.push_back(integer("fps", 24, "FPS of the output video"));
    o.push_back(integer("seed", 1, "Random seed"));
    o.push_back(integer("num_gpus", 1, "Number of GPUs used to run context parallel inference."));
    o.push_back(flag("offload_diffusion_transformer", "Offload DiT after inference"));
    o.push_back(flag("offload_text_encoder_model", "Offload text encoder model after inference"));
    o.push_back(flag("offload_guardrail_models", "Offload guardrail models after inference"));
    o.push_back(flag("offload_prompt_upsampler", "Offload prompt upsampler after inference"));
    o.push_back(flag("upsample_prompt", "Upsample prompt using Pixtral upsampler model"));
    o.push_back(flag("use_distilled", "Use distilled ControlNet model variant"));
    o.push_back(flag("is_av_sample", "Whether the model is an driving post-training model"));
    o.push_back(flag("save_input_noise", "Save the input noise tensor"));
    o.push_back(flag("benchmark", "Time each stage of the run"));
    return o;
}

std::string usage_part(const OptionDef& o) {
    std::string meta = o.dest;
    std::transform(meta.begin(), meta.end(), meta.begin(), ::toupper);
    std::string part =
        o.kind == ArgKind::flag ? "--" + o.dest : fmt::format("--{} {}", o.dest, meta);
    return o.required ? part : "[" + part + "]";
}

std::string_view type_name(const nlohmann::ordered_json& v) {
    if (v.is_string()) {
        return "str";
    }
    if (v.is_boolean()) {
        return "bool";
    }
    if (v.is_number_integer()) {
        return "int";
    }
    if (v.is_number_float()) {
        return "float";
    }
    if (v.is_null()) {
        return "NoneType";
    }
    return v.is_array() ? "list" : "dict";
}

}  // namespace

const std::vector<OptionDef>& transfer_options() {
    static const std::vector<OptionDef> options = build_options();
    return options;
}

const OptionDef* find_option(std::string_view dest) {
    for (const OptionDef& o : transfer_options()) {
        if (o.dest == dest) {
            return &o;
        }
    }
    return nullptr;
}

std::string transfer_usage() {
    const std::string lead = "usage: transfer.py ";
    const std::string indent(lead.size(), ' ');
    std::string out = lead + "[-h]";
    std::size_t line_len = out.size();
    for (const OptionDef& o : transfer_options()) {
        std::string part = usage_part(o);
        if (line_len + 1 + part.size() > 78) {
            out += "\n" + indent + part;
            line_len = indent.size() + part.size();
        } else {
            out += " " + part;
            line_len += 1 + part.size();
        }
    }
    return out + "\n";
}

std::string transfer_help() {
    std::string out =
        transfer_usage() + "\noptions:\n  -h, --help            show this help message and exit\n";
    for (const OptionDef& o : transfer_options()) {
        std::string head = usage_part(o);
        if (!o.required) {
            head = head.substr(1, head.size() - 2);
        }
        out += fmt::format("  {}\n                        {}\n", head, o.help);
    }
    return out;
}

core::Status check_spec_value(const OptionDef& def, const nlohmann::ordered_json& value) {
    bool ok = false;
    switch (def.kind) {
        case ArgKind::str:
            ok = value.is_string() || (value.is_null() && !def.required);
            break;
        case ArgKind::integer:
            ok = value.is_number_integer();
            break;
        case ArgKind::real:
            ok = value.is_number() && !value.is_boolean();
            break;
        case ArgKind::flag:
            ok = value.is_boolean();
            break;
    }
    if (!ok) {
        std::string_view want = def.kind == ArgKind::str       ? "str"
                                : def.kind == ArgKind::integer ? "int"
                                : def.kind == ArgKind::real    ? "float"
                                                               : "bool";
        return raise_py("TypeError",
                        fmt::format("'{}' from the controlnet spec must be {}, not {}",
                                    def.dest,
                                    want,
                                    type_name(value)),
                        "parse_arguments");
    }
    if (!def.choices.empty()) {
        std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        if (std::find(def.choices.begin(), def.choices.end(), text) == def.choices.end()) {
            return raise_py("ValueError",
                            fmt::format("Invalid {} {} from the controlnet spec. Must be one of {}",
                                        def.dest,
                                        value.is_string() ? py_repr(text) : text,
                                        fmt::join(def.choices, ", ")),
                            "parse_arguments");
        }
    }
    return {};
}

TransferArgs to_transfer_args(const nlohmann::ordered_json& v) {
    auto s = [&](const char* k) { return v[k].is_string() ? v[k].get<std::string>() : ""; };
    auto i = [&](const char* k) { return v[k].get<std::int64_t>(); };
    auto d = [&](const char* k) { return v[k].get<double>(); };
    auto b = [&](const char* k) { return v[k].get<bool>(); };
    TransferArgs a;
    a.controlnet_specs = s("controlnet_specs");
    a.checkpoint_dir = s("checkpoint_dir");
    a.tokenizer_dir = s("tokenizer_dir");
    a.video_save_folder = s("video_save_folder");
    a.video_save_name = s("video_save_name");
    a.batch_input_path = s("batch_input_path");
    a.prompt = s("prompt");
    a.negative_prompt = s("negative_prompt");
    a.input_video_path = s("input_video_path");
    a.blur_strength = s("blur_strength");
    a.canny_threshold = s("canny_threshold");
    a.batch_size = i("batch_size");
    a.num_input_frames = i("num_input_frames");
    a.num_steps = i("num_steps");
    a.fps = i("fps");
    a.seed = i("seed");
    a.num_gpus = i("num_gpus");
    a.sigma_max = d("sigma_max");
    a.guidance = d("guidance");
    a.offload_diffusion_transformer = b("offload_diffusion_transformer");
    a.offload_text_encoder_model = b("offload_text_encoder_model");
    a.offload_guardrail_models = b("offload_guardrail_models");
    a.offload_prompt_upsampler = b("offload_prompt_upsampler");
    a.upsample_prompt = b("upsample_prompt");
    a.use_distilled = b("use_distilled");
    a.is_av_sample = b("is_av_sample");
    a.save_input_noise = b("save_input_noise");
    a.benchmark = b("benchmark");
    return a;
}

}  // namespace cosmos::emulator
