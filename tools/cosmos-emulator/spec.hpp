#pragma once
// The --controlnet_specs JSON as transfer.py reads it: object values under valid hint keys are
// controls, scalar values override arguments not given as a separate "--key" token.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "core/result.hpp"
#include "options.hpp"

namespace cosmos::emulator {

struct ControlSpecs {
    nlohmann::ordered_json controls = nlohmann::ordered_json::object();   // hint key -> config
    nlohmann::ordered_json json_args = nlohmann::ordered_json::object();  // scalar keys
};

// The valid hint keys, in the model contract's order.
const std::vector<std::string>& valid_hint_keys();

// Reads the spec file. Fails with FileNotFoundError, a JSONDecodeError, AttributeError when the
// top level is not an object, or ValueError "Invalid hint_key: X. Must be one of [...]".
core::Result<ControlSpecs> load_controlnet_specs(const std::string& path);

// Sets each scalar spec key on `args` unless "--key" is a token of args.argv. Known keys are
// type-checked (TypeError); unknown keys are logged as a warning, or refused with `strict`.
core::Status apply_json_args(const ControlSpecs& specs, ParsedArgs& args, bool strict);

struct ControlCheck {
    const TransferArgs& args;
    std::string input_video_path;  // the video of this run ("" when none)
    bool strict = false;
    // When set, each control_weight read from a .pt file appends its summary here
    // (weight_tensor_summary), for the invocation record.
    nlohmann::ordered_json* weight_tensors = nullptr;
};

// Validates and completes one run's controls in place: sigma_max >= 80 and input_control for
// every modality without an input video, control_weight (default 0.5) a number >= 0 or a
// .pt tensor the model can use (weight_tensor.hpp), input_control present on disk, ckpt_path
// defaulted. Unknown per-modality keys are warned about (refused with strict).
core::Status validate_controls(nlohmann::ordered_json& controls, const ControlCheck& check);

// Merges one batch line's control_overrides into `controls`; overrides of modalities absent
// from the spec are ignored with a warning.
core::Status merge_overrides(nlohmann::ordered_json& controls,
                             const nlohmann::ordered_json& overrides);

}  // namespace cosmos::emulator
