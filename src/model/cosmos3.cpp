#include "model/cosmos3.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace cosmos::model {

using core::ErrorCode;
using core::fail;
using core::Status;

RunParams cosmos3_defaults() {
    RunParams p;
    p.weights.clear();
    p.offload.clear();
    return p;
}

namespace {

const Cosmos3Tier* tier_named(std::string_view name) {
    std::string_view n = name;
    if (!n.empty() && n.back() == 'p') {
        n.remove_suffix(1);
    }
    for (const auto& t : k_cosmos3_tiers) {
        if (t.name == n) {
            return &t;
        }
    }
    return nullptr;
}

Status refuse(std::string_view what, std::string_view hint) {
    return fail(
        ErrorCode::invalid_input, fmt::format("Cosmos 3 runs have no {}", what), std::string(hint));
}

}  // namespace

Status check_cosmos3_params(const RunParams& p) {
    if (std::find(k_cosmos3_fps.begin(), k_cosmos3_fps.end(), p.fps) == k_cosmos3_fps.end()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("fps {} is not one Cosmos 3 generates (10, 16, 24 or 30)", p.fps),
                    "pass --fps 24 (or 10, 16, 30)");
    }
    if (!p.resolution.empty() && tier_named(p.resolution) == nullptr) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("resolution '{}' is not a Cosmos 3 tier (256, 480, 720)", p.resolution),
            "pass --resolution 720 (1280x720), 480 (832x480) or 256 (320x192)");
    }
    if (p.max_frames &&
        (*p.max_frames < k_cosmos3_min_frames || *p.max_frames > k_cosmos3_max_frames)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("--max-frames {} is outside the frames Cosmos 3 generates "
                                "({}-{})",
                                *p.max_frames,
                                k_cosmos3_min_frames,
                                k_cosmos3_max_frames));
    }
    COSMOS_CHECK(check_num_steps(p.num_steps));
    COSMOS_CHECK(check_guidance(p.guidance));
    COSMOS_CHECK(check_seed(static_cast<std::int64_t>(p.seed)));
    bool weighted = std::any_of(
        p.weights.begin(), p.weights.end(), [](const auto& kv) { return kv.second > 0; });
    if (weighted) {
        return refuse("control weights: a run sends the prompt's color video (video-to-video)",
                      "leave out --weights/--weight");
    }
    if (!p.variant.empty() || p.chunk_frames || p.conditional_frames || !p.mask_prompts.empty()) {
        return refuse("--variant, --chunk-frames, --conditional-frames or --mask-prompt",
                      "leave them out (they are Cosmos-Transfer2.5's)");
    }
    if (p.num_gpus != 1) {
        return refuse("--num-gpus: the server's own parallelism flags decide its GPUs",
                      "leave out --num-gpus (docs/serving.md)");
    }
    return {};
}

std::pair<int, int> cosmos3_size(const RunParams& params, int input_width, int input_height) {
    bool portrait = input_height > input_width;
    auto oriented = [portrait](const Cosmos3Tier& t) {
        return portrait ? std::pair{t.height, t.width} : std::pair{t.width, t.height};
    };
    if (const Cosmos3Tier* t = tier_named(params.resolution)) {
        return oriented(*t);
    }
    const Cosmos3Tier* best = &k_cosmos3_tiers.back();
    double input_pixels = static_cast<double>(input_width) * input_height;
    double best_gap = -1;
    for (const auto& t : k_cosmos3_tiers) {
        auto [w, h] = oriented(t);
        if (w == input_width && h == input_height) {
            return {w, h};
        }
        double gap = std::abs(std::log((static_cast<double>(w) * h) / std::max(input_pixels, 1.0)));
        if (input_pixels > 0 && (best_gap < 0 || gap < best_gap)) {
            best_gap = gap;
            best = &t;
        }
    }
    return oriented(*best);
}

core::Result<std::int64_t> cosmos3_frames(const RunParams& params, std::int64_t input_frames) {
    std::int64_t frames = input_frames > 0 ? input_frames : 121;
    if (params.max_frames) {
        frames = std::min(frames, *params.max_frames);
    }
    if (frames < k_cosmos3_min_frames) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("the input has {} frames; Cosmos 3 generates {}-{}",
                                frames,
                                k_cosmos3_min_frames,
                                k_cosmos3_max_frames),
                    "use an input of at least 5 frames");
    }
    if (frames > k_cosmos3_max_frames) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("the input has {} frames; one Cosmos 3 request generates at most "
                                "{}",
                                frames,
                                k_cosmos3_max_frames),
                    "pass --max-frames 300 (the first 300 frames), or split the shot with "
                    "`cosmos prepare --chunk`");
    }
    return frames;
}

core::Result<nlohmann::ordered_json> build_cosmos3_spec(const SpecInput& in) {
    COSMOS_CHECK(check_cosmos3_params(in.params));
    if (in.prompt.empty()) {
        return fail(ErrorCode::invalid_input, "a Cosmos 3 request needs a prompt");
    }
    COSMOS_TRY(std::int64_t frames, cosmos3_frames(in.params, in.frames));
    auto [w, h] = cosmos3_size(in.params, in.width, in.height);
    nlohmann::ordered_json spec;
    spec["prompt"] = in.prompt;
    if (!in.negative_prompt.empty()) {
        spec["negative_prompt"] = in.negative_prompt;
    }
    spec["size"] = fmt::format("{}x{}", w, h);
    spec["num_frames"] = frames;
    spec["fps"] = in.params.fps;
    spec["num_inference_steps"] = in.params.num_steps;
    spec["guidance_scale"] = in.params.guidance;
    spec["seed"] = in.params.seed;
    if (in.input_video) {
        spec["input_reference"] = *in.input_video;
    }
    spec["extra_params"] = nlohmann::ordered_json::object();
    for (const auto& flag : in.params.extra_flags) {  // a model file's extra_params entries
        auto eq = flag.find('=');
        if (eq != std::string::npos) {
            auto value = nlohmann::ordered_json::parse(flag.substr(eq + 1), nullptr, false);
            spec["extra_params"][flag.substr(0, eq)] =
                value.is_discarded() ? nlohmann::ordered_json(flag.substr(eq + 1)) : value;
        }
    }
    return spec;
}

std::vector<std::pair<std::string, std::string>> cosmos3_form_fields(
    const nlohmann::ordered_json& spec) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, value] : spec.items()) {
        if (key == "input_reference") {
            continue;
        }
        if (value.is_string()) {
            fields.emplace_back(key, value.get<std::string>());
        } else if (key == "extra_params" && value.empty()) {
            continue;
        } else {
            fields.emplace_back(key, value.dump());
        }
    }
    return fields;
}

}  // namespace cosmos::model
