#pragma once
// Internal to the emulator: the state of one transfer.py run, from argument parsing to saved
// videos (transfer.cpp prepares and loads, generation.cpp runs the samples).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "batch.hpp"
#include "generate.hpp"
#include "spec.hpp"
#include "transfer.hpp"

namespace cosmos::emulator {

// A sample ready to generate: its source video, frame count and output size.
struct PlannedSample {
    Sample sample;
    std::string prompt;       // final prompt (upsampled with --upsample_prompt)
    std::string source;       // input video, or the first control video
    std::int64_t frames = 0;  // after cutting to the shortest video and the 5000 cap
    OutputSize size;
};

class TransferRun {
public:
    explicit TransferRun(TransferContext& ctx) : m_ctx(ctx) {}

    // Import check, argparse, spec loading and merge, distributed checks. Returns false when
    // -h printed the help (nothing more to do).
    core::Result<bool> prepare(const std::vector<std::string>& argv);

    // Reads the runs (the single run or the batch file) and validates each one's controls.
    core::Status collect_samples();

    // Checks the checkpoints and spends the model load time.
    core::Status load_models();

    // Generates every sample (single run or batch file).
    core::Status generate();

private:
    core::Status log_arguments();
    core::Result<std::optional<PlannedSample>> plan(Sample sample);
    core::Result<std::int64_t> count_frames(const Sample& sample, std::string& source);
    core::Status compute_missing_controls(const Sample& sample);
    core::Status run_group(const std::vector<Sample>& group, int& next_output);
    core::Status denoise(std::int64_t chunks, std::size_t batch);
    core::Status inject_failure(std::int64_t chunk, double chunk_seconds);
    core::Status save(const PlannedSample& planned, int output_index);
    std::string upsample(const std::string& prompt);
    bool blocked(const std::string& prompt) const;

    TransferContext& m_ctx;
    ParsedArgs m_parsed;
    ControlSpecs m_specs;
    TransferArgs m_args;
    std::vector<Sample> m_samples;
};

// Lines of transfer.py the log lines name (stable, so log parsers can rely on them).
namespace log_lines {
inline constexpr int k_specs = 118, k_final_args = 127, k_loading = 248, k_prompt = 311;
inline constexpr int k_controls = 320, k_sampling = 352, k_guardrail = 360, k_saved = 371;
inline constexpr int k_frames = 305, k_upsample = 300;
}  // namespace log_lines

}  // namespace cosmos::emulator
