#pragma once
// The `enhance` run kind: Cosmos-Transfer1's Pixtral-12B prompt upsampler run on its own, the way
// the checkout's README for cosmos_transfer1/auxiliary/upsampler documents it:
//   upsampler_pipeline.py --prompt P --input_video V [--checkpoint_dir C]
//                         [--offload_prompt_upsampler]
// The script reads RANK and deletes the torchrun variables from its environment before main()
// (`del os.environ[k]`), so it must run under torchrun (one process on one GPU), and
// OMP_NUM_THREADS must be set: torchrun sets it only for more than one process, and a missing
// one is a KeyError. It prints the result on stdout as `Upsampled prompt: <text>` (print, not the
// log format) and writes no file. It sends the first two frames of V at full size to Pixtral
// (vLLM, max_model_len 4096): frames above about 497k pixels (940x529 works, 1280x720 fails)
// overflow the context, so V must be a downscaled copy (upsampler_frame_size).
// docs/runtimes.md lists the sources read.

#include <optional>
#include <string>
#include <string_view>

#include "model/transfer_command.hpp"

namespace cosmos::model {

// Path of the upsampler script relative to the checkout root.
inline constexpr const char* k_upsampler_script =
    "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py";
// The largest frame (in pixels) the upsampler accepts: 940x529.
inline constexpr long k_upsampler_max_pixels = 940L * 529L;

struct EnhanceCommandInput {
    std::string torchrun = "torchrun";
    std::string cosmos_dir;      // checkout root: cwd and PYTHONPATH
    std::string checkpoint_dir;  // holds nvidia/Cosmos-UpsamplePrompt1-12B-Transfer
    std::string prompt;          // the prompt to upsample (an argv element, never a shell word)
    std::string input_video;     // a video downscaled to upsampler_frame_size
    int gpu_id = 0;              // the upsampler runs on one GPU
    bool offload = false;        // --offload_prompt_upsampler (load, run, unload)
};

// Returns the argv, environment (CUDA_VISIBLE_DEVICES, PYTHONPATH, OMP_NUM_THREADS=1) and cwd.
LaunchCommand enhance_command(const EnhanceCommandInput& in);

struct FrameSize {
    int width = 0;
    int height = 0;
};

// Returns the size to downscale a width x height video to before the upsampler: unchanged when
// it already fits k_upsampler_max_pixels, else the largest even size of the same aspect ratio
// (within rounding) that fits: 1920x1080 and 1280x720 become 940x528.
FrameSize upsampler_frame_size(int width, int height);

// Returns the upsampled prompt from the upsampler's output (its stdout, or the run.log holding
// it): the text after the last `Upsampled prompt: ` up to the end of the output or the first
// following line that looks like a log line (`[`, `INFO `, `WARNING `, `ERROR `, torchrun's
// `W1130 `...), trimmed; nullopt when there is none or it is empty.
std::optional<std::string> parse_upsampled_prompt(std::string_view output);

}  // namespace cosmos::model
