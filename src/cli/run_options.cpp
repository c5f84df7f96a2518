#include "cli/run_options.hpp"

#include <cerrno>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

void RunOptionsBinding::add_to(CLI::App& cmd) {
    cmd.add_option("--weights",
                   m_weights,
                   "Control weights for vis, edge, depth and seg, in that order (>= 0; 0 leaves "
                   "the modality out)")
        ->expected(4)
        ->type_name("VIS EDGE DEPTH SEG");
    cmd.add_option("--weight",
                   m_weight,
                   "One modality's weight, e.g. --weight depth=0.6 (repeatable; vis, edge, depth, "
                   "seg, keypoint, hdmap, lidar)")
        ->type_name("MODALITY=W")
        ->allow_extra_args(false);
    m_steps_opt = cmd.add_option("--steps", m_steps, "Diffusion steps (1-100; default 35)");
    m_guidance_opt = cmd.add_option("--guidance", m_guidance, "Guidance / CFG scale (1-20)");
    m_seed_opt = cmd.add_option("--seed", m_seed, "Random seed (1-4294967295)");
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
        std::string value = w.substr(eq + 1);
        errno = 0;
        char* end = nullptr;
        double d = std::strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0' || errno != 0) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--weight '{}': '{}' is not a number", w, value));
        }
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
    return o;
}

}  // namespace cosmos::cli
