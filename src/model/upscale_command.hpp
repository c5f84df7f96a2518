#pragma once
// The `upscale` run kind: Cosmos-Transfer1's 4K upscaler applied to a finished run's output
// video. Reference ("Upscaler spec"): the spec is
//   {"input_video_path": <finished output>, "upscale": {"control_weight": W}}
// launched through the same transfer.py (so through torchrun) with `--num_steps 10` and
// text-encoder offload; transfer.py forces --batch_size 1 when the spec has `upscale`. The output
// is 3840x2112, written like any single run as VIDEO_SAVE_FOLDER/<save name>.mp4.

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::model {

inline constexpr double k_default_upscale_weight = 0.5;
inline constexpr int k_upscale_num_steps = 10;
// The upscale run has its own job dir, so its output keeps the usual name: outputs/output.mp4.
inline constexpr const char* k_upscale_save_name = "output";

struct UpscaleInput {
    std::string input_video;  // the finished run's output.mp4, as the model process sees it
    double weight = k_default_upscale_weight;
    std::string prompt;  // the upscaler's guiding prompt; empty: the model's default text
};

// Fails with invalid_input unless `weight` is a finite number >= 0 (the model contract's rule for
// every control_weight; transfer.py sets no upper bound).
core::Status check_upscale_weight(double weight);

// Returns the upscaler spec; fails as check_upscale_weight, or with invalid_input when
// input_video is empty.
core::Result<nlohmann::ordered_json> build_upscale_run_spec(const UpscaleInput& in);

// Returns the launch of an upscale run: `in` with num_steps = 10, text_encoder_model added to
// the offload list when missing, no batch file and the save name above; then transfer_command.
LaunchCommand upscale_command(TransferCommandInput in);

}  // namespace cosmos::model
