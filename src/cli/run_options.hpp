#pragma once
// The run parameters shared by `create run`, `inference` (and later `sweep`), bound to CLI11
// options and turned into services::RunOptions with clear errors.

#include <string>
#include <vector>

#include "core/result.hpp"
#include "services/create_run.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cosmos::cli {

class RunOptionsBinding {
public:
    // Adds --model, --weights, --weight, --steps, --guidance, --seed, --sigma-max, --fps,
    // --num-gpus, --blur-strength, --canny-threshold and Transfer2.5's --variant, --resolution,
    // --max-frames, --chunk-frames, --conditional-frames, --mask-prompt to `cmd`.
    void add_to(CLI::App& cmd);
    // Returns the options given on the command line; fails with invalid_input for a malformed
    // --weight (it must be MODALITY=NUMBER).
    core::Result<services::RunOptions> options() const;

private:
    core::Status family_options(services::RunOptions& o) const;

    std::vector<double> m_weights;
    std::vector<std::string> m_weight;
    std::int64_t m_steps = 0, m_seed = 0, m_fps = 0, m_num_gpus = 0;
    double m_guidance = 0, m_sigma_max = 0;
    std::string m_blur, m_canny;
    CLI::Option* m_steps_opt = nullptr;
    CLI::Option* m_seed_opt = nullptr;
    CLI::Option* m_fps_opt = nullptr;
    CLI::Option* m_gpus_opt = nullptr;
    CLI::Option* m_guidance_opt = nullptr;
    CLI::Option* m_sigma_opt = nullptr;
    CLI::Option* m_blur_opt = nullptr;
    CLI::Option* m_canny_opt = nullptr;
    std::string m_model, m_variant, m_resolution;
    std::int64_t m_max_frames = 0, m_chunk_frames = 0, m_conditional_frames = 0;
    std::vector<std::string> m_mask_prompts;
    CLI::Option* m_model_opt = nullptr;
    CLI::Option* m_variant_opt = nullptr;
    CLI::Option* m_resolution_opt = nullptr;
    CLI::Option* m_max_frames_opt = nullptr;
    CLI::Option* m_chunk_opt = nullptr;
    CLI::Option* m_cond_opt = nullptr;
};

}  // namespace cosmos::cli
