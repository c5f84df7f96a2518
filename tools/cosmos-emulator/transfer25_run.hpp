#pragma once
// Internal to the emulator: the state of one Cosmos-Transfer2.5 run, from the command line to
// the saved videos (transfer25.cpp parses, validates and loads; transfer25_generate.cpp runs
// the samples).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "generate.hpp"
#include "media/probe.hpp"
#include "transfer25.hpp"
#include "transfer25_args.hpp"
#include "transfer25_log.hpp"
#include "transfer25_spec.hpp"

namespace cosmos::emulator {

// What the emulator learned about a sample's videos before the model loads.
struct Plan25 {
    media::VideoInfo input;
    std::int64_t frames = 0;  // generated: the input's, or max_frames when fewer
    OutputSize model_size;    // the model's resolution for the input's aspect ratio
};

class Transfer25Run {
public:
    explicit Transfer25Run(TransferContext& ctx) : m_ctx(ctx) {}

    // Parses and validates the command line and the specs. Returns false when --help printed
    // the help (nothing more to do).
    core::Result<bool> prepare(const std::vector<std::string>& argv);

    // Sets up the output folder, checks every sample's videos, the distributed setup and the
    // checkpoints, takes the GPUs and spends the model load time.
    core::Status load_model();

    // Generates every sample in turn.
    core::Status generate();

private:
    core::Status check_setup();
    core::Status check_distributed();
    core::Result<Plan25> plan(const Sample25& sample);
    core::Status write_config();
    core::Result<bool> guard(const std::string& what, const std::string& text);
    core::Result<bool> guard_prompts(const Sample25& sample);
    core::Status generate_sample(std::size_t index);
    core::Status sample_videos(const Sample25& sample, const Plan25& plan);
    core::Status denoise(const Sample25& sample, std::int64_t frames);
    core::Status save_outputs(const Sample25& sample, const Plan25& plan);
    std::filesystem::path output_path(const Sample25& sample, const std::string& suffix) const;

    TransferContext& m_ctx;
    Log25 m_log;
    Setup25 m_setup;
    Batch25 m_batch;
    std::vector<Plan25> m_plans;
    int m_world = 1;
};

}  // namespace cosmos::emulator
