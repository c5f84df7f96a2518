#pragma once
// The form of POST /v1/videos (vLLM-Omni's Videos API) checked against the model's limits.
// A refused field fails with invalid_input whose hint is the field's name (the OpenAI error's
// "param"); the HTTP layer answers it with 400.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

struct VideoParams {
    std::string prompt;
    std::string negative_prompt;
    int width = 0;  // 0 (with height 0): the default (apply_input_defaults)
    int height = 0;
    int num_frames = 0;  // 0: the default
    int fps = 24;
    int steps = 35;  // num_inference_steps
    double guidance_scale = 7.0;
    double flow_shift = 5.0;
    std::int64_t seed = -1;  // -1: drawn at random when the job is created
    int max_sequence_length = 512;
    nlohmann::ordered_json extra_params = nlohmann::ordered_json::object();
    bool guardrails = true;  // extra_params "guardrails"
};

// The uploaded input_reference as probed.
struct InputReference {
    enum class Kind { none, image, video };
    Kind kind = Kind::none;
    std::string filename;  // as uploaded
    std::size_t bytes = 0;
    std::filesystem::path path;  // the saved copy
    std::int64_t frames = 0;     // 1 for an image
    int width = 0;
    int height = 0;
};

// The text fields as received (first value of each name).
using FormFields = std::map<std::string, std::string>;

// Parses and range-checks the text fields (prompt required; size tiers; num_frames 5..300; fps
// 10/16/24/30; steps 1..200; guidance 0..30; flow_shift 0..50; seed 0..2^63-1;
// max_sequence_length 1..4096; extra_params a JSON object).
core::Result<VideoParams> parse_video_form(const FormFields& fields);

// Fills the defaults that depend on the input: num_frames from a video's frame count (clipped
// to 5..300, else 121) and the size from the input's when it is a tier (else 1280x720).
void apply_input_defaults(VideoParams& params, const InputReference& input);

// True for the tier sizes: 320x192, 832x480, 1280x720 and their portrait forms.
bool is_tier_size(int width, int height);

}  // namespace cosmos::emulator
