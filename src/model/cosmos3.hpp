#pragma once
// Cosmos 3 as docs/models/cosmos3.md describes it: a served model, so a run is one request to
// the server's Videos API rather than a process. Pure: values in, JSON out.
//
// A run's spec is the request as cosmos sends it, as a JSON object (it is also what `cosmos spec`
// shows and what the run records): prompt, negative_prompt, size ("WxH"), num_frames, fps,
// num_inference_steps, guidance_scale, seed, input_reference (the local path of the video that
// is uploaded as that form field: the prompt's color video; video-to-video) and extra_params (a
// JSON object, sent as a string). The ranges the servers enforce (frames 5-300; fps 10, 16, 24,
// 30; the 256p/480p/720p resolution tiers) are checked before a request is sent.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "model/run_params.hpp"
#include "model/spec.hpp"

namespace cosmos::model {

struct Cosmos3Tier {
    std::string_view name;  // "256", "480", "720" (what --resolution takes)
    int width;
    int height;
};

// The resolutions Cosmos 3 generates, landscape (portrait swaps width and height).
inline constexpr std::array<Cosmos3Tier, 3> k_cosmos3_tiers = {
    Cosmos3Tier{"256", 320, 192}, Cosmos3Tier{"480", 832, 480}, Cosmos3Tier{"720", 1280, 720}};
inline constexpr std::array<int, 4> k_cosmos3_fps = {10, 16, 24, 30};
inline constexpr std::int64_t k_cosmos3_min_frames = 5, k_cosmos3_max_frames = 300;

// The defaults cosmos sends (the servers have their own, but a run records exactly what it
// asked for): 35 steps, guidance 7, seed 1, 24 fps, no control weights.
RunParams cosmos3_defaults();

// Checks `params` against Cosmos 3's rules (fps, resolution tier, frames, steps, guidance, the
// options it has no use for: control weights, variants, chunking, mask prompts).
core::Status check_cosmos3_params(const RunParams& params);

// The size a run generates: --resolution's tier in the input's orientation; without one, the
// input's own size when it is a tier, else the tier nearest to it in pixels.
std::pair<int, int> cosmos3_size(const RunParams& params, int input_width, int input_height);

// The frames a run asks for: the input's (capped by --max-frames); fails when that is outside
// 5-300, saying how to fix it.
core::Result<std::int64_t> cosmos3_frames(const RunParams& params, std::int64_t input_frames);

// The request of one run (see above); `in.input_video` is a local path (uploaded as
// input_reference), `in.video` the input's size and frames.
core::Result<nlohmann::ordered_json> build_cosmos3_spec(const SpecInput& in);

// The request's form fields, in order, as the strings sent (extra_params as JSON text); the
// input_reference file is not among them.
std::vector<std::pair<std::string, std::string>> cosmos3_form_fields(
    const nlohmann::ordered_json& spec);

}  // namespace cosmos::model
