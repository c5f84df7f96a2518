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
    // Adds --weights, --weight, --steps, --guidance, --seed, --sigma-max, --fps, --num-gpus,
    // --blur-strength, --canny-threshold to `cmd`.
    void add_to(CLI::App& cmd);
    // Returns the options given on the command line; fails with invalid_input for a malformed
    // --weight (it must be MODALITY=NUMBER).
    core::Result<services::RunOptions> options() const;

private:
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
};

}  // namespace cosmos::cli
