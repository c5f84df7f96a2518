#pragma once
// Batches: several transfer runs served by one model load through transfer.py's
// --batch_input_path (docs/models/transfer1.md: "Batch input"). The spec file fixes the set of
// modalities and every scalar argument; each JSONL line may change only the prompt, the input video
// (`visual_input`) and, per modality already in the spec, `control_weight` and `input_control`
// (`control_overrides`). So runs are compatible — may share a batch — exactly when their specs
// agree on everything else:
//   - kind `transfer` (the upscaler forces batch size 1 and enhance runs another script);
//   - the same modality keys, each with the same keys apart from control_weight, the same
//     presence of input_control (a rendered control vs one computed on the fly), and equal values
//     of every other key (ckpt_path, control_weight_prompt, ...);
//   - equal scalars: negative_prompt, num_steps, guidance, sigma_max, seed, fps, blur_strength,
//     canny_threshold, and the presence of an input video;
//   - the same launch: GPU count and offload flags;
//   - the same input size and frame count, so every line costs the same and the output size
//     is the same (the model snaps each input to one of its resolutions).
// The batch key is a digest of exactly these facts; equal keys mean compatible runs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/kinds.hpp"
#include "core/result.hpp"
#include "model/run_params.hpp"

namespace cosmos::model {

struct BatchFacts {
    core::RunKind kind = core::RunKind::transfer;
    nlohmann::ordered_json spec;  // the run's own spec (build_transfer_spec)
    RunParams params;
    int width = 0;
    int height = 0;
    std::int64_t frames = 0;
};

// The compatibility key ("tb1:" + 20 hex digits), or nothing when the run can never be
// batched (not a transfer run).
std::optional<std::string> batch_key(const BatchFacts& facts);

// The JSONL line of a run whose spec is `spec`: {"prompt", "visual_input", "control_overrides":
// {modality: {"control_weight", "input_control"?}}}.
nlohmann::ordered_json batch_line(const nlohmann::ordered_json& spec);

// The spec file of a batch: the first run's spec (its prompt and input video are those of line
// 0; every line overrides them). Fails with invalid_input when the runs are not compatible
// (their keys differ) — a batch must never mix them.
core::Result<nlohmann::ordered_json> batch_spec(const std::vector<BatchFacts>& runs);

// The output of line `index` in the batch's video_save_folder (batch size 1 keeps line numbers):
// "video_<index>/output.mp4" and its prompt file "video_<index>/prompt.txt".
std::string batch_output_video(int index);
std::string batch_output_prompt(int index);

}  // namespace cosmos::model
