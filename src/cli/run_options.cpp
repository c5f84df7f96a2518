#include "cli/run_options.hpp"

#include <cerrno>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/decimal.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

void RunOptionsBinding::add_to(CLI::App& cmd) {
    m_model_opt = cmd.add_option(
        "--model",
        m_model,
        "Model family: transfer1 or transfer2.5 (default: the prompt's; `cosmos models list`)");
    cmd.add_option("--weights",
                   m_weights,
                   "Control weights for vis, edge, depth and seg, in that order (>= 0; 0 leaves "
                   "the modality out)")
        ->expected(4)
        ->type_name("VIS EDGE DEPTH SEG");
    cmd.add_option("--weight",
                   m_weight,
                   "One modality's weight, e.g. --weight depth=0.6 (repeatable; vis, edge, depth, "
                   "seg, keypoint, hdmap, lidar; Transfer2.5: edge, depth, seg, vis, 0-1)")
        ->type_name("MODALITY=W")
        ->allow_extra_args(false);
    m_steps_opt = cmd.add_option(
        "--steps", m_steps, "Diffusion steps (1-100; default 35, the distilled model 4)");
    m_guidance_opt = cmd.add_option(
        "--guidance",
        m_guidance,
        "Guidance / CFG scale (Transfer1: 1-20, default 7; Transfer2.5: a whole number 0-7, "
        "default 3)");
    m_seed_opt = cmd.add_option(
        "--seed", m_seed, "Random seed (Transfer1: 1-4294967295; Transfer2.5: default 2025)");
    m_sigma_opt = cmd.add_option("--sigma-max",
                                 m_sigma_max,
                                 "Partial denoising strength (0-80; < 80 keeps more of the input)");
    m_fps_opt = cmd.add_option("--fps", m_fps, "Output frames per second (1-60)");
    m_gpus_opt = cmd.add_option("--num-gpus", m_num_gpus, "GPUs for the run: 1, 2, 4 or 8");
    m_blur_opt = cmd.add_option(
        "--blur-strength", m_blur, "vis control blur: very_low, low, medium, high, very_high");
    m_canny_opt = cmd.add_option("--canny-threshold",
                                 m_canny,
                                 "edge control threshold: very_low, low, medium, high, very_high");
    m_variant_opt = cmd.add_option(
        "--variant",
        m_variant,
        "Transfer2.5's model variant: edge/distilled (4 steps, edge only, about 7x faster)");
    m_resolution_opt = cmd.add_option(
        "--resolution", m_resolution, "Transfer2.5's resolution: 256, 480, 720 (default), 1080");
    m_max_frames_opt = cmd.add_option(
        "--max-frames", m_max_frames, "Transfer2.5: generate only the first N frames");
    m_chunk_opt = cmd.add_option("--chunk-frames",
                                 m_chunk_frames,
                                 "Transfer2.5's native long video: frames per chunk (default 93)");
    m_cond_opt =
        cmd.add_option("--conditional-frames",
                       m_conditional_frames,
                       "Transfer2.5's native long video: frames each chunk takes from the one "
                       "before (0, 1 or 2; default 1)");
    cmd.add_option("--mask-prompt",
                   m_mask_prompts,
                   "Transfer2.5: where a control applies, as text its mask is made from, e.g. "
                   "--mask-prompt depth=\"the road\" (repeatable)")
        ->type_name("CONTROL=TEXT")
        ->allow_extra_args(false);
}

core::Status RunOptionsBinding::family_options(services::RunOptions& o) const {
    if (m_model_opt->count() > 0) {
        o.model = m_model;
    }
    if (m_variant_opt->count() > 0) {
        o.variant = m_variant;
    }
    if (m_resolution_opt->count() > 0) {
        o.resolution = m_resolution;
    }
    if (m_max_frames_opt->count() > 0) {
        o.max_frames = m_max_frames;
    }
    if (m_chunk_opt->count() > 0) {
        o.chunk_frames = m_chunk_frames;
    }
    if (m_cond_opt->count() > 0) {
        o.conditional_frames = m_conditional_frames;
    }
    for (const auto& m : m_mask_prompts) {
        auto eq = m.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--mask-prompt '{}' must look like CONTROL=TEXT", m));
        }
        o.mask_prompts[m.substr(0, eq)] = m.substr(eq + 1);
    }
    return {};
}

core::Result<services::RunOptions> RunOptionsBinding::options() const {
    services::RunOptions o;
    if (!m_weights.empty()) {
        o.weights = std::array<double, 4>{m_weights[0], m_weights[1], m_weights[2], m_weights[3]};
    }
    for (const auto& w : m_weight) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == w.size()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--weight '{}' must look like MODALITY=NUMBER", w));
        }
        COSMOS_TRY(double d,
                   core::parse_decimal(w.substr(eq + 1), fmt::format("--weight '{}'", w)));
        o.weight[w.substr(0, eq)] = d;
    }
    if (m_steps_opt->count() > 0) {
        o.num_steps = m_steps;
    }
    if (m_guidance_opt->count() > 0) {
        o.guidance = m_guidance;
    }
    if (m_seed_opt->count() > 0) {
        o.seed = m_seed;
    }
    if (m_sigma_opt->count() > 0) {
        o.sigma_max = m_sigma_max;
    }
    if (m_fps_opt->count() > 0) {
        o.fps = m_fps;
    }
    if (m_gpus_opt->count() > 0) {
        o.num_gpus = m_num_gpus;
    }
    if (m_blur_opt->count() > 0) {
        o.blur_strength = m_blur;
    }
    if (m_canny_opt->count() > 0) {
        o.canny_threshold = m_canny;
    }
    COSMOS_CHECK(family_options(o));
    return o;
}

}  // namespace cosmos::cli
