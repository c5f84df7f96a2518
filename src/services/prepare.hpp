#pragma once
// `cosmos prepare`: a render folder of image sequences -> an input set (color.mp4 and control
// videos the model accepts) with manifest.json and previews, optionally a prompt on it.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "media/preview.hpp"
#include "media/sequence_encode.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct PrepareRequest {
    std::filesystem::path render_dir;
    // Where the input set goes; unset: <data_dir>/inputs/<name> (needs the app).
    std::optional<std::filesystem::path> output_dir;
    std::optional<std::string> name;  // default: the render folder's name, sanitised
    int fps = 24;
    int crf = 18;
    std::string preset = "veryfast";
    bool make_edge = false;  // compute edge.mp4 from color when no edge pass was rendered
    double edge_low = 0.1;
    double edge_high = 0.4;
    media::DepthOptions depth;
    bool force = false;                      // replace an existing input set in output_dir
    std::optional<std::string> prompt_text;  // --create-prompt
    bool dry_run = false;  // scan and check only: the result says what would be written
    // Progress over all modalities: (frames encoded, frames in all), from several threads.
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

struct PreparedFile {
    std::string file;      // "depth.mp4"
    std::string modality;  // "color", "depth", "seg", "edge", ...
    std::string source;    // "depth/depth.####.png" or "computed from color (edgedetect)"
    std::int64_t frames = 0;
    std::int64_t first_frame = 0;  // source numbering
    std::int64_t last_frame = 0;
    std::string sha256;
    std::uintmax_t bytes = 0;
};

struct PrepareResult {
    std::filesystem::path output_dir;
    std::filesystem::path manifest;
    std::string name;
    store::VideoMeta video;
    std::vector<PreparedFile> files;
    media::PreviewFiles previews;
    std::vector<std::string> ignored;   // numbered images with no modality
    std::vector<std::string> warnings;  // e.g. more frames than one model run takes
    std::optional<store::PromptRecord> prompt;
    double seconds = 0;
};

// Output file name of a modality: color.mp4, depth.mp4, segmentation.mp4 (seg), edge.mp4, ...
std::string video_file_for(const std::string& modality);

// Scans, validates, encodes every modality in parallel, writes manifest.json and previews.
// `app` may be null when output_dir is given and no prompt is asked for. Fails with
// invalid_input listing the first problems (missing/duplicate/extra frames by file name,
// frames of another size, too many frames), conflict when the output holds an input set and
// force is off, and the errors of create_prompt.
core::Result<PrepareResult> prepare_render(const App* app, const PrepareRequest& req);

}  // namespace cosmos::services
