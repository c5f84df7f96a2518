#include "model/transfer25.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/sha256.hpp"

namespace cosmos::model {

using core::ErrorCode;
using core::fail;
using core::Status;

namespace {

constexpr int k_chunk_frames = 93;
constexpr int k_distilled_steps = 4;
constexpr std::array<std::string_view, 9> k_resolutions = {
    "256", "480", "480p", "512", "720", "720p", "720robocasa", "1024", "1080"};
constexpr std::array<std::string_view, 6> k_variants = {
    "", "edge", "depth", "seg", "vis", "edge/distilled"};

bool is_control(std::string_view m) {
    return std::find(k_transfer25_controls.begin(), k_transfer25_controls.end(), m) !=
           k_transfer25_controls.end();
}

core::Unexpected refuse(std::string message, std::string hint = {}) {
    return fail(
        ErrorCode::invalid_input, "Cosmos-Transfer2.5: " + std::move(message), std::move(hint));
}

Status check_weights(const RunParams& p) {
    bool any = false;
    for (const auto& [m, w] : p.weights) {
        if (!is_control(m)) {
            if (w > 0) {
                return refuse(fmt::format("has no '{}' control", m),
                              "its controls are edge, depth, seg and vis");
            }
            continue;
        }
        if (!std::isfinite(w) || w < 0 || w > 1) {
            return refuse(fmt::format("control weight {} for {} is out of range 0-1", w, m));
        }
        any = any || w > 0;
    }
    if (!any) {
        return refuse("needs at least one control with a weight above 0",
                      "e.g. --weight edge=1 (computed from the input) or --weight depth=0.5");
    }
    for (const auto& [m, text] : p.mask_prompts) {
        auto it = p.weights.find(m);
        if (it == p.weights.end() || it->second <= 0) {
            return refuse(fmt::format("a mask prompt for {}, which is not an active control", m));
        }
        if (text.empty()) {
            return refuse(fmt::format("the mask prompt for {} is empty", m));
        }
    }
    return {};
}

Status check_variant(const RunParams& p) {
    if (std::find(k_variants.begin(), k_variants.end(), p.variant) == k_variants.end()) {
        return refuse(
            fmt::format("model variant '{}' is not one of edge, depth, seg, vis, "
                        "edge/distilled",
                        p.variant));
    }
    if (p.variant != "edge/distilled") {
        return {};
    }
    for (const auto& [m, w] : p.weights) {
        if (w > 0 && m != "edge") {
            return refuse(
                fmt::format("the distilled edge model takes only the edge control "
                            "(got {})",
                            m));
        }
    }
    if (p.num_steps != k_distilled_steps) {
        return refuse(fmt::format(
            "the distilled edge model runs {} steps (got {})", k_distilled_steps, p.num_steps));
    }
    return {};
}

Status check_scalars(const RunParams& p) {
    if (!std::isfinite(p.guidance) || p.guidance != std::floor(p.guidance) || p.guidance < 0 ||
        p.guidance > 7) {
        return refuse(fmt::format("guidance is a whole number 0-7 (got {})", p.guidance));
    }
    if (p.num_steps < 1 || p.num_steps > 100) {
        return refuse(fmt::format("steps {} is out of range 1-100", p.num_steps));
    }
    if (p.seed > k_max_seed) {
        return refuse(fmt::format("seed {} is out of range 0-{}", p.seed, k_max_seed));
    }
    if (auto s = check_num_gpus(p.num_gpus); !s) {
        return s;
    }
    if (!p.resolution.empty() &&
        std::find(k_resolutions.begin(), k_resolutions.end(), p.resolution) ==
            k_resolutions.end()) {
        return refuse(fmt::format("resolution '{}' is not one of 256, 480, 512, 720, 1024, 1080",
                                  p.resolution));
    }
    if (p.max_frames && *p.max_frames < 1) {
        return refuse(fmt::format("max frames {} must be at least 1", *p.max_frames));
    }
    if (p.chunk_frames && (*p.chunk_frames < 2 || *p.chunk_frames > 1000)) {
        return refuse(fmt::format("frames per chunk {} is out of range 2-1000", *p.chunk_frames));
    }
    if (p.conditional_frames && (*p.conditional_frames < 0 || *p.conditional_frames > 2)) {
        return refuse(
            fmt::format("conditional frames {} must be 0, 1 or 2", *p.conditional_frames));
    }
    for (const auto& o : p.offload) {
        if (o != "guardrail_models") {
            return refuse(
                fmt::format("offload '{}' is not available (2.5 offloads only "
                            "guardrail_models)",
                            o));
        }
    }
    for (const auto& s : {check_strength("blur-strength", p.blur_strength),
                          check_strength("canny-threshold", p.canny_threshold)}) {
        if (!s) {
            return s;
        }
    }
    return {};
}

nlohmann::ordered_json control_object(const SpecInput& in, const std::string& m, double w) {
    nlohmann::ordered_json c;
    c["control_weight"] = w + 0.0;  // -0 is written 0
    if (auto it = in.controls.find(m); it != in.controls.end()) {
        c["control_path"] = it->second;
    }
    if (auto it = in.masks.find(m); it != in.masks.end()) {
        c["mask_path"] = it->second;
    } else if (auto p = in.params.mask_prompts.find(m); p != in.params.mask_prompts.end()) {
        c["mask_prompt"] = p->second;
    }
    if (m == "edge") {
        c["preset_edge_threshold"] = in.params.canny_threshold;
    } else if (m == "vis") {
        c["preset_blur_strength"] = in.params.blur_strength;
    }
    return c;
}

}  // namespace

RunParams transfer25_defaults(std::string_view variant) {
    RunParams p;
    p.weights.clear();
    p.guidance = 3;
    p.seed = 2025;
    p.variant = std::string(variant);
    p.num_steps = variant == "edge/distilled" ? k_distilled_steps : 35;
    return p;
}

Status check_transfer25_params(const RunParams& params) {
    COSMOS_CHECK(check_scalars(params));
    COSMOS_CHECK(check_weights(params));
    return check_variant(params);
}

int transfer25_chunks(std::int64_t frames, const RunParams& params) {
    std::int64_t t = params.max_frames ? std::min(frames, *params.max_frames) : frames;
    std::int64_t chunk = params.chunk_frames.value_or(k_chunk_frames);
    std::int64_t fresh = std::max<std::int64_t>(1, chunk - params.conditional_frames.value_or(1));
    if (t <= chunk) {
        return 1;
    }
    return static_cast<int>(std::min<std::int64_t>(1 + (t - chunk + fresh - 1) / fresh, 100000));
}

core::Result<nlohmann::ordered_json> build_transfer25_spec(const SpecInput& in,
                                                           std::string_view name) {
    COSMOS_CHECK(check_transfer25_params(in.params));
    if (!in.input_video) {
        return refuse(
            "needs an input video (color.mp4): it generates from one and computes "
            "missing controls from it",
            "add the video to the prompt's input set");
    }
    const RunParams& p = in.params;
    nlohmann::ordered_json s;
    s["name"] = std::string(name);
    s["prompt"] = in.prompt;
    s["negative_prompt"] = in.negative_prompt;
    s["seed"] = p.seed;
    s["guidance"] = static_cast<int>(p.guidance);
    s["video_path"] = *in.input_video;
    s["num_steps"] = p.num_steps;
    s["resolution"] = p.resolution.empty() ? std::string("720") : p.resolution;
    if (p.max_frames) {
        s["max_frames"] = *p.max_frames;
    }
    if (p.chunk_frames) {
        s["num_video_frames_per_chunk"] = *p.chunk_frames;
    }
    if (p.conditional_frames) {
        s["num_conditional_frames"] = *p.conditional_frames;
    }
    for (auto m : k_transfer25_controls) {
        auto it = p.weights.find(std::string(m));
        if (it != p.weights.end() && it->second > 0) {
            s[std::string(m)] = control_object(in, std::string(m), it->second);
        }
    }
    return s;
}

std::string transfer25_sample_name(std::optional<int> line) {
    return line ? fmt::format("line{}", *line) : std::string("output");
}

LaunchCommand transfer25_command(const Transfer25CommandInput& in) {
    LaunchCommand cmd;
    cmd.cwd = in.checkout;
    cmd.argv = {in.torchrun,
                fmt::format("--nproc_per_node={}", in.gpu_ids.size()),
                "--nnodes=1",
                "--node_rank=0",
                k_transfer25_script,
                "-i",
                in.input_file,
                "-o",
                in.output_dir};
    if (!in.params.variant.empty()) {
        cmd.argv.insert(cmd.argv.end(), {"--model", in.params.variant});
    }
    if (std::find(in.params.offload.begin(), in.params.offload.end(), "guardrail_models") !=
        in.params.offload.end()) {
        cmd.argv.emplace_back("--offload-guardrail-models");
    }
    if (!in.params.checkpoint_path.empty()) {
        cmd.argv.insert(cmd.argv.end(), {"--checkpoint-path", in.params.checkpoint_path});
    }
    if (!in.params.experiment.empty()) {
        cmd.argv.insert(cmd.argv.end(), {"--experiment", in.params.experiment});
    }
    cmd.argv.insert(cmd.argv.end(), in.params.extra_flags.begin(), in.params.extra_flags.end());
    std::string devices;
    for (int id : in.gpu_ids) {
        devices += (devices.empty() ? "" : ",") + std::to_string(id);
    }
    cmd.env["CUDA_VISIBLE_DEVICES"] = devices;
    return cmd;
}

std::optional<std::string> transfer25_batch_key(const BatchFacts& facts) {
    if (facts.kind != core::RunKind::transfer) {
        return std::nullopt;
    }
    std::set<std::string> controls;
    for (auto m : k_transfer25_controls) {
        if (facts.spec.contains(std::string(m))) {
            controls.insert(std::string(m));
        }
    }
    std::vector<std::string> offload = facts.params.offload;
    std::sort(offload.begin(), offload.end());
    nlohmann::json canonical{{"variant", facts.params.variant},
                             {"checkpoint_path", facts.params.checkpoint_path},
                             {"experiment", facts.params.experiment},
                             {"extra_flags", facts.params.extra_flags},
                             {"controls", controls},
                             {"num_gpus", facts.params.num_gpus},
                             {"offload", offload}};
    return "t25:" + core::sha256_hex(canonical.dump()).substr(0, 20);
}

}  // namespace cosmos::model
