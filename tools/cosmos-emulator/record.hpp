#pragma once
// COSMOS_EMULATOR_RECORD=FILE: one JSON line per invocation (argv, cwd, selected environment,
// the effective arguments after the spec merge, outputs, exit code) so tests can assert the
// exact command the orchestrator sent, and which GPUs it held for how long (model loads, busy
// time). Never records HF_TOKEN's value, only whether it is set.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cosmos::emulator {

class Recorder {
public:
    // `path` empty: records nothing. `mode` is "torchrun", "transfer" or "nvidia-smi".
    Recorder(std::string path, std::string mode, const std::vector<std::string>& argv);

    // The arguments transfer.py saw (sys.argv[1:]); under torchrun, after the script path.
    void set_script_argv(const std::vector<std::string>& argv);
    // The final argparse namespace after the spec merge.
    void set_args(const nlohmann::ordered_json& args);
    // The spec's controls as loaded.
    void set_controls(const nlohmann::ordered_json& controls);
    // One run of the invocation: {"index", "prompt", "input_video_path", "controls"} with the
    // controls validated (defaults filled in, batch overrides applied).
    void add_sample(const nlohmann::ordered_json& sample);
    // The control weights read from .pt files, one summary each (weight_tensor_summary), as
    // "weight_tensors".
    void set_weight_tensors(const nlohmann::ordered_json& tensors);
    // A video written by the run.
    void add_output(const std::string& path);

    // The model load began holding these GPUs (physical indices): sets "gpus", "model_load":
    // true and "hold_start_ms" (now, ms since the epoch; call it after the locks are taken).
    void begin_hold(const std::vector<int>& gpus);
    // Sets "hold_end_ms" (now) once, if a hold began; call it before the locks are released.
    void end_hold();
    // One more sample generated (a video saved, or the upsampler's prompt printed).
    void count_sample();

    // The failure that ends the invocation (the exception line or usage error).
    void set_error(std::string_view error);

    // Ends the hold (end_hold) and appends the line (once; later calls do nothing).
    void finish(int exit_code);

private:
    std::string m_path;
    nlohmann::ordered_json m_line;
    bool m_done = false;
};

}  // namespace cosmos::emulator
