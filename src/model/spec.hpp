#pragma once
// The controlnet spec JSON that transfer.py reads (--controlnet_specs), built exactly by the
// contract (docs/models/transfer1.md, "The spec JSON"):
// - only modalities with weight > 0 are written, each as {"control_weight": w} plus
//   "input_control" when the input set has a control video for it;
// - the scalar keys are real transfer.py arguments, so the spec is a complete record of the run:
//   prompt, negative_prompt, input_video_path, num_steps, guidance, sigma_max, seed, fps,
//   blur_strength (with vis), canny_threshold (with edge);
// - without an input video sigma_max must be >= 80 and every modality needs input_control.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/run_params.hpp"

namespace cosmos::model {

struct SpecInput {
    std::string prompt;
    std::string negative_prompt;
    std::optional<std::string> input_video;       // path as the model process will see it
    std::map<std::string, std::string> controls;  // modality -> path as the model will see it
    std::map<std::string, std::string> masks;     // modality -> its mask video (Transfer2.5)
    RunParams params;
    // The input video's size and frame count (served models default to them; 0 when unknown).
    int width = 0;
    int height = 0;
    std::int64_t frames = 0;
};

// Checks `in` against the model contract's rules; fails with invalid_input saying which rule.
core::Status check_spec_input(const SpecInput& in);

// Returns the spec (keys in a fixed order, so the text is stable); fails as check_spec_input.
core::Result<nlohmann::ordered_json> build_transfer_spec(const SpecInput& in);

// Returns the spec of the 4K upscaler applied to `input_video` with `weight`
// (docs/models/transfer1.md: "Upscaler spec"), guided by `prompt` when one is given (a top-level
// "prompt", which overrides the model's default --prompt text).
nlohmann::ordered_json build_upscale_spec(const std::string& input_video,
                                          double weight,
                                          const std::string& prompt = {});

// Returns the modalities `in` would send (weight > 0), in spec order.
std::vector<std::string> active_modalities(const RunParams& params);

}  // namespace cosmos::model
