#pragma once
// Cosmos-Transfer2.5 as docs/models/transfer2.5.md describes it: what its spec holds, the
// parameters it accepts, its command line and which runs may share one model load. Pure: values
// in, JSON and argv out.
//
// A run's spec is one JSON object with exactly the fields 2.5 accepts (it refuses unknown keys):
// name, prompt, negative_prompt, seed, guidance (an integer), video_path, num_steps, resolution,
// and, when set, max_frames, num_video_frames_per_chunk and num_conditional_frames; then one
// object per control with weight > 0 (edge, depth, seg, vis) holding control_weight, the
// control video when the prompt has one (otherwise 2.5 computes it from the input), the mask
// (mask_path or mask_prompt) and the preset of edge and vis. A single run is named "output" (so
// it writes output.mp4); batch line i is named "line<i>" (line<i>.mp4).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/batch_file.hpp"
#include "model/run_params.hpp"
#include "model/spec.hpp"
#include "model/transfer_command.hpp"

namespace cosmos::model {

// The entry point, relative to the checkout root.
inline constexpr const char* k_transfer25_script = "examples/inference.py";

// The controls 2.5 has, in the order its specs list them.
inline constexpr std::array<std::string_view, 4> k_transfer25_controls = {
    "edge", "depth", "seg", "vis"};

// 2.5's own defaults (its pydantic defaults): guidance 3, seed 2025, 35 steps (4 for the
// distilled edge model), no weights (the caller picks the controls).
RunParams transfer25_defaults(std::string_view variant = "");

// Checks `params` against 2.5's rules; fails with invalid_input naming the rule (guidance is an
// integer 0-7, control weights are 0-1, the controls are edge/depth/seg/vis and at least one is
// on, the distilled model is edge-only with 4 steps, ...).
core::Status check_transfer25_params(const RunParams& params);

// The chunks 2.5 generates for `frames` input frames (after max_frames): 1 up to a chunk's
// frames, then one more per (chunk - conditional) new frames.
int transfer25_chunks(std::int64_t frames, const RunParams& params);

// The spec of one sample named `name`; fails with invalid_input when the parameters break a
// rule or the prompt has no input video (2.5 needs one).
core::Result<nlohmann::ordered_json> build_transfer25_spec(const SpecInput& in,
                                                           std::string_view name = "output");

// The batch line name of line `index` and the video it writes.
std::string transfer25_sample_name(std::optional<int> line);

struct Transfer25CommandInput {
    std::string torchrun = "torchrun";
    std::string checkout;    // cwd
    std::string input_file;  // spec.json, or batch.jsonl for a batch
    std::string output_dir;
    std::vector<int> gpu_ids = {0};
    RunParams params;  // variant, offload
};

// torchrun --nproc_per_node=N --nnodes=1 --node_rank=0 examples/inference.py -i FILE -o DIR
// [--model VARIANT] [--offload-guardrail-models]; CUDA_VISIBLE_DEVICES lists the GPUs (2.5 splits
// one sample across them: context parallelism). Never a shell string.
LaunchCommand transfer25_command(const Transfer25CommandInput& in);

// Which runs may share one model load: the same model variant and set of controls (a batch
// whose samples differ in controls would switch 2.5 to its multicontrol model for all of them),
// the same GPUs and setup flags. Per-sample fields (prompt, video, weights, steps, seed,
// resolution, masks) may differ. "t25:" + 20 hex digits; nothing for a run that is no transfer.
std::optional<std::string> transfer25_batch_key(const BatchFacts& facts);

}  // namespace cosmos::model
