#include "model/spec.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "model/modality.hpp"

namespace cosmos::model {

using core::ErrorCode;
using core::fail;

std::vector<std::string> active_modalities(const RunParams& params) {
    std::vector<std::string> out;
    for (const auto& key : modality_keys()) {
        auto it = params.weights.find(key);
        if (it != params.weights.end() && it->second > 0) {
            out.push_back(key);
        }
    }
    return out;
}

core::Status check_spec_input(const SpecInput& in) {
    if (auto s = validate(in.params); !s) {
        return s;
    }
    if (in.prompt.empty()) {
        return fail(ErrorCode::invalid_input, "the prompt text is empty");
    }
    auto active = active_modalities(in.params);
    if (active.empty()) {
        return fail(ErrorCode::invalid_input,
                    "no control modality has a weight above 0",
                    "give at least one weight, e.g. --weight edge=0.5");
    }
    for (const auto& m : active) {
        if (m == "upscale") {
            return fail(ErrorCode::invalid_input,
                        "'upscale' is not a transfer control; use `cosmos upscale RUN_ID`");
        }
        bool has_control = in.controls.count(m) != 0;
        if (!in.input_video && !has_control) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} has a weight but neither an input video nor a {} control "
                                    "video exists",
                                    m,
                                    m));
        }
        if ((m == "hdmap" || m == "lidar") && !has_control) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} needs a rendered control video ({}.mp4)", m, m));
        }
    }
    if (!in.input_video && in.params.sigma_max < 80) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("sigma-max {} needs an input video; without one it must be 80",
                                in.params.sigma_max));
    }
    return {};
}

core::Result<nlohmann::ordered_json> build_transfer_spec(const SpecInput& in) {
    if (auto s = check_spec_input(in); !s) {
        return fail(s.error());
    }
    const RunParams& p = in.params;
    auto active = active_modalities(p);
    auto has = [&](const char* m) {
        return std::find(active.begin(), active.end(), m) != active.end();
    };
    nlohmann::ordered_json spec;
    spec["prompt"] = in.prompt;
    spec["negative_prompt"] = in.negative_prompt;
    if (in.input_video) {
        spec["input_video_path"] = *in.input_video;
    }
    spec["num_steps"] = p.num_steps;
    spec["guidance"] = p.guidance + 0.0;  // + 0.0: -0 is written 0
    spec["sigma_max"] = p.sigma_max + 0.0;
    spec["seed"] = p.seed;
    spec["fps"] = p.fps;
    if (has("vis")) {
        spec["blur_strength"] = p.blur_strength;
    }
    if (has("edge")) {
        spec["canny_threshold"] = p.canny_threshold;
    }
    for (const auto& m : active) {
        nlohmann::ordered_json control;
        control["control_weight"] = p.weights.at(m) + 0.0;
        if (auto it = in.controls.find(m); it != in.controls.end()) {
            control["input_control"] = it->second;
        }
        spec[m] = control;
    }
    return spec;
}

nlohmann::ordered_json build_upscale_spec(const std::string& input_video,
                                          double weight,
                                          const std::string& prompt) {
    nlohmann::ordered_json spec;
    if (!prompt.empty()) {
        spec["prompt"] = prompt;
    }
    spec["input_video_path"] = input_video;
    spec["upscale"] = nlohmann::ordered_json{{"control_weight", weight + 0.0}};
    return spec;
}

}  // namespace cosmos::model
