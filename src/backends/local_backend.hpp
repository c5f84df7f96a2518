#pragma once
// The `local` backend: runs Cosmos-Transfer1 (or the emulator) as a child process of this
// machine. The job directory is the run's directory in the data dir, so outputs and the log
// land in place; nothing needs staging or collecting.

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/job_event.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "model/run_params.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::backends {

struct LocalJob {
    std::string run_id;
    std::filesystem::path run_dir;  // spec.json, command.json, run.log, outputs/
    nlohmann::ordered_json spec;
    model::RunParams params;
    std::int64_t frames = 121;      // input frames, for the expected chunk count
    std::optional<int> num_steps;   // a --num_steps flag (the upscaler runs with 10)
    std::string kind = "transfer";  // transfer | upscale | enhance (the prompt upsampler)
    std::vector<int> gpu_ids;       // CUDA_VISIBLE_DEVICES; empty: 0 .. num_gpus-1
};

struct LaunchInfo {
    model::LaunchCommand command;
    std::filesystem::path spec_path;
    std::filesystem::path output_dir;
    std::filesystem::path log_path;
};

struct JobOutcome {
    bool succeeded = false;
    bool cancelled = false;
    int exit_code = -1;
    std::optional<std::string> output_video;  // absolute, when the model saved one
    std::string error;                        // one line, empty on success
};

// Writes spec.json and command.json into the run directory and returns the launch it will use.
core::Result<LaunchInfo> prepare_local_job(const config::HostConfig& host, const LocalJob& job);

// The prompt upsampler's command for an enhance job (spec: {"prompt", "input_video"}, the video
// already downscaled), with the host's torchrun, checkout and checkpoints.
model::LaunchCommand enhance_launch(const std::string& torchrun,
                                    const std::string& cosmos_dir,
                                    const std::string& checkpoint_dir,
                                    const nlohmann::ordered_json& spec);

// Runs a prepared job to its end, writing every output line to run.log and emitting LogLine and
// Progress events. A missing output video is a failure whatever the exit code (reference:
// guardrail). Fails only when the process could not be started.
core::Result<JobOutcome> run_local_job(const LocalJob& job,
                                       const LaunchInfo& launch,
                                       const EventSink& sink,
                                       const std::atomic<bool>* cancel);

// Returns a JSON record of a launch with secret-looking environment values replaced by "***".
nlohmann::ordered_json describe_launch(const model::LaunchCommand& command);

}  // namespace cosmos::backends
