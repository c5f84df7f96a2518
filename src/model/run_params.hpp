#pragma once
// The parameters of a transfer run and their valid ranges. The same checks guard the config
// file's [run] defaults, `cosmos create run`, imports and (later) the API, so every entry point
// agrees on what is valid.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.hpp"

namespace cosmos::model {

struct RunParams {
    std::map<std::string, double> weights;  // modality -> control weight (only > 0 reach the spec)
    int num_steps = 35;
    double guidance = 7.0;
    double sigma_max = 70.0;
    int fps = 24;
    std::uint64_t seed = 1;
    std::string blur_strength = "medium";
    std::string canny_threshold = "medium";
    int num_gpus = 1;
    std::vector<std::string> offload;  // e.g. {"text_encoder_model", "guardrail_models"}
    // Cosmos-Transfer2.5 only (docs/models/transfer2.5.md); Transfer1 ignores them, and they are
    // stored only when set.
    std::string variant;                              // its --model: "" (by the controls) or
                                                      // edge/distilled
    std::string resolution;                           // "" = the model's default ("720")
    std::optional<std::int64_t> max_frames;           // generate only the first frames
    std::optional<int> chunk_frames;                  // num_video_frames_per_chunk
    std::optional<int> conditional_frames;            // num_conditional_frames (0, 1, 2)
    std::map<std::string, std::string> mask_prompts;  // control -> text its mask is made from
    // From a user model file (docs/models/model-files.md), copied onto the run so it records
    // exactly what ran: Transfer2.5's --checkpoint-path and --experiment, and flags appended to
    // the model's command line.
    std::string checkpoint_path;
    std::string experiment;
    std::vector<std::string> extra_flags;
    // Upscale runs only: the upscaler's guiding prompt (`cosmos upscale --prompt`); empty: the
    // model's default text. Stored only when set.
    std::string upscale_prompt;
};

// Ranges (those the Python tool validated; num_gpus from transfer.py).
inline constexpr int k_min_steps = 1, k_max_steps = 100;
inline constexpr double k_min_guidance = 1.0, k_max_guidance = 20.0;
inline constexpr double k_min_sigma = 0.0, k_max_sigma = 80.0;
inline constexpr int k_min_fps = 1, k_max_fps = 60;
inline constexpr std::uint64_t k_min_seed = 1, k_max_seed = 4294967295ULL;

// Each check fails with invalid_input and a message naming the value and the allowed range.
core::Status check_weight(std::string_view modality, double weight);
core::Status check_num_steps(std::int64_t v);
core::Status check_guidance(double v);
core::Status check_sigma_max(double v);
core::Status check_fps(std::int64_t v);
core::Status check_seed(std::int64_t v);
core::Status check_num_gpus(std::int64_t v);                             // 1, 2, 4 or 8
core::Status check_strength(std::string_view flag, std::string_view v);  // very_low..very_high
core::Status check_offload(std::string_view name);  // diffusion_transformer, text_encoder_model,
                                                    // guardrail_models, prompt_upsampler

// Checks every field of `params`; returns the first failure.
core::Status validate(const RunParams& params);

// JSON form used in the store, `--json` output and the API (field names as the spec's keys).
nlohmann::json to_json(const RunParams& params);
core::Result<RunParams> run_params_from_json(const nlohmann::json& j);

}  // namespace cosmos::model
