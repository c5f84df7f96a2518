#include "spec.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "checkpoints.hpp"
#include "log.hpp"
#include "python_error.hpp"
#include "weight_tensor.hpp"

namespace cosmos::emulator {

namespace {

constexpr const char* k_load = "parse_arguments>load_controlnet_specs";
constexpr const char* k_validate = "validate_controlnet_specs";
constexpr const char* k_load_weight = "validate_controlnet_specs>torch.load";

const std::vector<std::string> k_control_keys = {"control_weight",
                                                 "input_control",
                                                 "ckpt_path",
                                                 "control_weight_prompt",
                                                 "input_control_prompt"};

bool is_hint_key(const std::string& key) {
    const auto& keys = valid_hint_keys();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string python_list(const std::vector<std::string>& items) {
    std::vector<std::string> shown;
    for (const auto& i : items) {
        shown.push_back(py_repr(i));
    }
    return fmt::format("[{}]", fmt::join(shown, ", "));
}

std::string_view py_type(const nlohmann::ordered_json& v) {
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
    return v.is_null() ? "NoneType" : v.is_array() ? "list" : "dict";
}

bool exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

// control_weight: a number >= 0, a numeric string, or a path to a .pt tensor the model can use
// (weight_tensor.hpp), whose summary goes to check.weight_tensors.
core::Status check_weight(const std::string& key,
                          nlohmann::ordered_json& config,
                          const ControlCheck& check) {
    if (!config.contains("control_weight")) {
        config["control_weight"] = 0.5;
        return {};
    }
    const auto& w = config["control_weight"];
    if (w.is_number() && !w.is_boolean()) {
        if (w.get<double>() < 0) {
            return raise_py("ValueError",
                            fmt::format("control_weight of {} must be >= 0, got {}", key, w.dump()),
                            k_validate);
        }
        return {};
    }
    if (!w.is_string()) {
        return raise_py(
            "TypeError",
            fmt::format(
                "control_weight of {} must be a number or a .pt path, not {}", key, py_type(w)),
            k_validate);
    }
    std::string text = w.get<std::string>();
    if (text.ends_with(".pt")) {
        if (!exists(text)) {
            return file_not_found(text, k_validate);
        }
        COSMOS_TRY(WeightTensor tensor, read_weight_tensor(key, text, k_load_weight));
        if (check.weight_tensors != nullptr) {
            check.weight_tensors->push_back(weight_tensor_summary(key, text, tensor));
        }
        return {};
    }
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || v < 0) {
        return raise_py("ValueError",
                        fmt::format("control_weight of {} must be a number >= 0 or a path to a "
                                    ".pt file, got {}",
                                    key,
                                    py_repr(text)),
                        k_validate);
    }
    return {};
}

core::Status check_unknown_keys(const std::string& key,
                                const nlohmann::ordered_json& config,
                                bool strict) {
    for (const auto& [name, value] : config.items()) {
        if (std::find(k_control_keys.begin(), k_control_keys.end(), name) != k_control_keys.end()) {
            continue;
        }
        if (strict) {
            return raise_py("ValueError",
                            fmt::format("Unknown key {} in controlnet spec {} (emulator strict "
                                        "mode; allowed: {})",
                                        py_repr(name),
                                        py_repr(key),
                                        fmt::join(k_control_keys, ", ")),
                            k_validate);
        }
        log_line(Level::warning,
                 190,
                 fmt::format(
                     "Ignoring unknown key {} in controlnet spec {}", py_repr(name), py_repr(key)));
    }
    return {};
}

core::Status check_strings(const std::string& key, const nlohmann::ordered_json& config) {
    for (const char* name :
         {"input_control", "ckpt_path", "control_weight_prompt", "input_control_prompt"}) {
        if (config.contains(name) && !config[name].is_string()) {
            return raise_py(
                "TypeError",
                fmt::format("{} of {} must be str, not {}", name, key, py_type(config[name])),
                k_validate);
        }
    }
    return {};
}

core::Status validate_control(const std::string& key,
                              nlohmann::ordered_json& config,
                              const ControlCheck& check) {
    if (!config.is_object()) {
        return raise_py("AttributeError",
                        fmt::format("'{}' object has no attribute 'get'", py_type(config)),
                        k_validate);
    }
    if (check.input_video_path.empty() && check.args.sigma_max < 80) {
        return raise_py(
            "ValueError", "Must have 'input_video' specified if sigma_max < 80", k_validate);
    }
    if (check.input_video_path.empty() && !config.contains("input_control")) {
        return raise_py("ValueError",
                        fmt::format("{} controlnet must have 'input_control' video specified if "
                                    "no 'input_video' specified.",
                                    key),
                        k_validate);
    }
    for (core::Status st : {check_unknown_keys(key, config, check.strict),
                            check_strings(key, config),
                            check_weight(key, config, check)}) {
        if (!st) {
            return st;
        }
    }
    if (config.contains("input_control")) {
        std::string path = config["input_control"].get<std::string>();
        if (!exists(path)) {
            return file_not_found(path, "demo>read_video_or_image_into_frames_BCTHW");
        }
    }
    if (!config.contains("ckpt_path")) {
        log_line(Level::info,
                 201,
                 fmt::format("No checkpoint path specified for {}. Using default.", key));
        config["ckpt_path"] = default_control_checkpoint(key, check.args);
    }
    if (config.contains("control_weight_prompt") && key != "seg") {
        log_line(
            Level::warning,
            214,
            fmt::format("control_weight_prompt only takes effect under seg; ignored for {}", key));
    }
    return {};
}

}  // namespace

const std::vector<std::string>& valid_hint_keys() {
    static const std::vector<std::string> keys = {
        "vis", "edge", "depth", "seg", "keypoint", "upscale", "hdmap", "lidar"};
    return keys;
}

core::Result<ControlSpecs> load_controlnet_specs(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return file_not_found(path, k_load);
    }
    std::stringstream text;
    text << in.rdbuf();
    auto json = nlohmann::ordered_json::parse(text.str(), nullptr, false);
    if (json.is_discarded()) {
        return raise_py("json.decoder.JSONDecodeError",
                        fmt::format("could not parse {} as JSON", py_repr(path)),
                        k_load);
    }
    if (!json.is_object()) {
        return raise_py("AttributeError",
                        fmt::format("'{}' object has no attribute 'items'", py_type(json)),
                        k_load);
    }
    ControlSpecs specs;
    for (const auto& [key, value] : json.items()) {
        if (is_hint_key(key)) {
            specs.controls[key] = value;
        } else if (value.is_object()) {
            return raise_py(
                "ValueError",
                fmt::format(
                    "Invalid hint_key: {}. Must be one of {}", key, python_list(valid_hint_keys())),
                k_load);
        } else {
            specs.json_args[key] = value;
        }
    }
    return specs;
}

core::Status apply_json_args(const ControlSpecs& specs, ParsedArgs& args, bool strict) {
    for (const auto& [key, value] : specs.json_args.items()) {
        if (appears_as_token(args.argv, "--" + key)) {
            continue;
        }
        const OptionDef* def = find_option(key);
        if (def == nullptr) {
            if (strict) {
                return raise_py("ValueError",
                                fmt::format("Unknown argument {} in the controlnet spec "
                                            "(emulator strict mode)",
                                            py_repr(key)),
                                "parse_arguments");
            }
            log_line(Level::warning,
                     377,
                     fmt::format("Unknown argument {} in the controlnet spec is set but unused",
                                 py_repr(key)));
            args.values[key] = value;
            continue;
        }
        core::Status typed = check_spec_value(*def, value);
        if (!typed) {
            return typed;
        }
        args.values[key] = value.is_number_integer() && def->kind == ArgKind::real
                               ? nlohmann::ordered_json(value.get<double>())
                               : value;
    }
    return {};
}

core::Status validate_controls(nlohmann::ordered_json& controls, const ControlCheck& check) {
    for (auto& [key, config] : controls.items()) {
        core::Status st = validate_control(key, config, check);
        if (!st) {
            return st;
        }
    }
    return {};
}

core::Status merge_overrides(nlohmann::ordered_json& controls,
                             const nlohmann::ordered_json& overrides) {
    if (overrides.is_null()) {
        return {};
    }
    if (!overrides.is_object()) {
        return raise_py("AttributeError",
                        fmt::format("'{}' object has no attribute 'items'", py_type(overrides)),
                        "demo");
    }
    for (const auto& [key, values] : overrides.items()) {
        if (!controls.contains(key)) {
            log_line(Level::warning,
                     296,
                     fmt::format("Ignoring control_overrides for {}: not in the controlnet spec",
                                 py_repr(key)));
            continue;
        }
        if (!values.is_object() || !controls[key].is_object()) {
            return raise_py("AttributeError",
                            fmt::format("'{}' object has no attribute 'items'", py_type(values)),
                            "demo");
        }
        for (const auto& [name, value] : values.items()) {
            controls[key][name] = value;
        }
    }
    return {};
}

}  // namespace cosmos::emulator
