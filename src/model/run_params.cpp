#include "model/run_params.hpp"

#include <array>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/modality.hpp"

namespace cosmos::model {

using core::ErrorCode;
using core::fail;
using core::Status;

namespace {
constexpr std::array<std::string_view, 5> k_strengths = {
    "very_low", "low", "medium", "high", "very_high"};
constexpr std::array<std::string_view, 4> k_offloads = {
    "diffusion_transformer", "text_encoder_model", "guardrail_models", "prompt_upsampler"};
}  // namespace

Status check_weight(std::string_view modality, double weight) {
    if (!is_transfer_modality(modality)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unknown control modality '{}'", modality),
                    "modalities: vis, edge, depth, seg, keypoint, hdmap, lidar");
    }
    if (!std::isfinite(weight) || weight < 0) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "weight {} for {} is out of range: must be a number >= 0", weight, modality));
    }
    return {};
}

Status check_num_steps(std::int64_t v) {
    if (v < k_min_steps || v > k_max_steps) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("steps {} is out of range {}-{}", v, k_min_steps, k_max_steps));
    }
    return {};
}

Status check_guidance(double v) {
    if (!std::isfinite(v) || v < k_min_guidance || v > k_max_guidance) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("guidance {} is out of range {}-{}", v, k_min_guidance, k_max_guidance));
    }
    return {};
}

Status check_sigma_max(double v) {
    if (!std::isfinite(v) || v < k_min_sigma || v > k_max_sigma) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("sigma-max {} is out of range {}-{}", v, k_min_sigma, k_max_sigma));
    }
    return {};
}

Status check_fps(std::int64_t v) {
    if (v < k_min_fps || v > k_max_fps) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("fps {} is out of range {}-{}", v, k_min_fps, k_max_fps));
    }
    return {};
}

Status check_seed(std::int64_t v) {
    if (v < static_cast<std::int64_t>(k_min_seed) || v > static_cast<std::int64_t>(k_max_seed)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("seed {} is out of range {}-{}", v, k_min_seed, k_max_seed));
    }
    return {};
}

Status check_num_gpus(std::int64_t v) {
    if (v != 1 && v != 2 && v != 4 && v != 8) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("num-gpus {} is not allowed: Cosmos-Transfer1 runs on 1, 2, 4 or 8", v));
    }
    return {};
}

Status check_strength(std::string_view flag, std::string_view v) {
    for (auto s : k_strengths) {
        if (s == v) {
            return {};
        }
    }
    return fail(
        ErrorCode::invalid_input,
        fmt::format("{} '{}' is not one of very_low, low, medium, high, very_high", flag, v));
}

Status check_offload(std::string_view name) {
    for (auto s : k_offloads) {
        if (s == name) {
            return {};
        }
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("offload '{}' is not one of diffusion_transformer, "
                            "text_encoder_model, guardrail_models, prompt_upsampler",
                            name));
}

Status validate(const RunParams& p) {
    for (const auto& [m, w] : p.weights) {
        if (auto s = check_weight(m, w); !s) {
            return s;
        }
    }
    for (const Status& s : {check_num_steps(p.num_steps),
                            check_guidance(p.guidance),
                            check_sigma_max(p.sigma_max),
                            check_fps(p.fps),
                            check_seed(static_cast<std::int64_t>(p.seed)),
                            check_num_gpus(p.num_gpus),
                            check_strength("blur-strength", p.blur_strength),
                            check_strength("canny-threshold", p.canny_threshold)}) {
        if (!s) {
            return s;
        }
    }
    for (const auto& o : p.offload) {
        if (auto s = check_offload(o); !s) {
            return s;
        }
    }
    return {};
}

nlohmann::json to_json(const RunParams& p) {
    std::map<std::string, double> weights;
    for (const auto& [m, w] : p.weights) {
        weights[m] = w + 0.0;  // -0 is written 0
    }
    nlohmann::json j{{"weights", weights},
                     {"num_steps", p.num_steps},
                     {"guidance", p.guidance + 0.0},
                     {"sigma_max", p.sigma_max + 0.0},
                     {"fps", p.fps},
                     {"seed", p.seed},
                     {"blur_strength", p.blur_strength},
                     {"canny_threshold", p.canny_threshold},
                     {"num_gpus", p.num_gpus},
                     {"offload", p.offload}};
    if (!p.variant.empty()) {
        j["variant"] = p.variant;
    }
    if (!p.resolution.empty()) {
        j["resolution"] = p.resolution;
    }
    if (p.max_frames) {
        j["max_frames"] = *p.max_frames;
    }
    if (p.chunk_frames) {
        j["num_video_frames_per_chunk"] = *p.chunk_frames;
    }
    if (p.conditional_frames) {
        j["num_conditional_frames"] = *p.conditional_frames;
    }
    if (!p.mask_prompts.empty()) {
        j["mask_prompts"] = p.mask_prompts;
    }
    if (!p.checkpoint_path.empty()) {
        j["checkpoint_path"] = p.checkpoint_path;
    }
    if (!p.experiment.empty()) {
        j["experiment"] = p.experiment;
    }
    if (!p.extra_flags.empty()) {
        j["extra_flags"] = p.extra_flags;
    }
    if (!p.upscale_prompt.empty()) {
        j["upscale_prompt"] = p.upscale_prompt;
    }
    return j;
}

core::Result<RunParams> run_params_from_json(const nlohmann::json& j) {
    try {
        RunParams p;
        p.weights = j.value("weights", std::map<std::string, double>{});
        p.num_steps = j.value("num_steps", p.num_steps);
        p.guidance = j.value("guidance", p.guidance);
        p.sigma_max = j.value("sigma_max", p.sigma_max);
        p.fps = j.value("fps", p.fps);
        p.seed = j.value("seed", p.seed);
        p.blur_strength = j.value("blur_strength", p.blur_strength);
        p.canny_threshold = j.value("canny_threshold", p.canny_threshold);
        p.num_gpus = j.value("num_gpus", p.num_gpus);
        p.offload = j.value("offload", std::vector<std::string>{});
        p.variant = j.value("variant", std::string());
        p.resolution = j.value("resolution", std::string());
        if (j.contains("max_frames")) {
            p.max_frames = j.at("max_frames").get<std::int64_t>();
        }
        if (j.contains("num_video_frames_per_chunk")) {
            p.chunk_frames = j.at("num_video_frames_per_chunk").get<int>();
        }
        if (j.contains("num_conditional_frames")) {
            p.conditional_frames = j.at("num_conditional_frames").get<int>();
        }
        p.mask_prompts = j.value("mask_prompts", std::map<std::string, std::string>{});
        p.checkpoint_path = j.value("checkpoint_path", std::string());
        p.experiment = j.value("experiment", std::string());
        p.extra_flags = j.value("extra_flags", std::vector<std::string>{});
        p.upscale_prompt = j.value("upscale_prompt", std::string());
        return p;
    } catch (const nlohmann::json::exception& e) {
        return fail(ErrorCode::invalid_input, fmt::format("bad run parameters: {}", e.what()));
    }
}

}  // namespace cosmos::model
