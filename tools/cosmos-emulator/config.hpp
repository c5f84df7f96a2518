#pragma once
// The emulator's own knobs, read from COSMOS_EMULATOR_* environment variables (docs/emulator.md).

#include <optional>
#include <string>

#include "core/result.hpp"

namespace cosmos::emulator {

enum class FailMode { none, crash, oom, guardrail, kill };
enum class GuardrailMode { exit0, typeerror };

struct EmulatorConfig {
    double load_seconds = 90;        // COSMOS_EMULATOR_LOAD_SECONDS: model load time
    double step_seconds = 2.0;       // COSMOS_EMULATOR_STEP_SECONDS: one step of one chunk on 1 GPU
    double time_scale = 1.0;         // COSMOS_EMULATOR_TIME_SCALE: multiplies every sleep
    FailMode fail = FailMode::none;  // COSMOS_EMULATOR_FAIL
    int fail_at_chunk = 1;           // COSMOS_EMULATOR_FAIL_AT_CHUNK (1-based)
    GuardrailMode guardrail = GuardrailMode::exit0;   // COSMOS_EMULATOR_GUARDRAIL_MODE
    std::string block_prompt;                         // COSMOS_EMULATOR_BLOCK_PROMPT
    double gpu_memory_gb = 80;                        // COSMOS_EMULATOR_GPU_MEMORY_GB
    int gpus = 8;                                     // COSMOS_EMULATOR_GPUS
    bool strict = false;                              // COSMOS_EMULATOR_STRICT=1
    std::optional<std::pair<int, int>> upscale_size;  // COSMOS_EMULATOR_UPSCALE_SIZE=WxH
    std::string record_path;                          // COSMOS_EMULATOR_RECORD
    double server_load_seconds = 4;  // COSMOS_EMULATOR_SERVER_LOAD_SECONDS (vllm / sglang)
    int server_concurrency = 1;      // COSMOS_EMULATOR_SERVER_CONCURRENCY: jobs run at once
    std::string server_dir;          // COSMOS_EMULATOR_SERVER_DIR: jobs and outputs
    std::string gpu_lock_dir;  // COSMOS_EMULATOR_GPU_DIR, else from where it runs (gpu_locks.hpp)
};

// Below this much GPU memory (GB) a run fails with CUDA out of memory, as users report.
inline constexpr double k_min_gpu_memory_gb = 28;

// Reads the configuration from the environment; fails with invalid_input naming the variable
// when a value does not parse.
core::Result<EmulatorConfig> load_config();

}  // namespace cosmos::emulator
