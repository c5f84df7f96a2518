#pragma once
// Long videos in `parallel` mode: `cosmos chunk` splits a video or a whole input set into
// overlapping windows (every modality cut at the same frames) with a chunks.json manifest;
// `cosmos stitch` joins the windows' outputs back with a cross-fade over each overlap.
// (`native` mode needs nothing here: the whole video goes to one run.)

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "media/chunking.hpp"

namespace cosmos::services {

// Default frames shared by neighbouring windows.
inline constexpr std::int64_t k_default_overlap = 16;

struct ChunkRequest {
    std::filesystem::path input;       // a video file, or an input-set folder (color.mp4, ...)
    std::filesystem::path output_dir;  // created; chunk_000.mp4 ... or chunk_000/ ... inside
    std::int64_t window = media::k_model_window;
    std::int64_t overlap = k_default_overlap;
    int crf = 18;
    std::string preset = "veryfast";
    bool force = false;  // replace an existing chunks.json
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

struct ChunkEntry {
    int index = 0;
    media::Window window;
    std::filesystem::path path;  // the chunk's video (file input) or input-set folder
};

struct ChunkResult {
    std::filesystem::path manifest;  // <output_dir>/chunks.json
    bool input_set = false;
    std::int64_t frames = 0;
    double fps = 0;
    std::int64_t window = 0;
    std::int64_t overlap = 0;
    std::vector<ChunkEntry> chunks;
};

// Splits `req.input`. Fails with invalid_input for bad window/overlap, unreadable or
// disagreeing videos, conflict when output_dir already has a chunks.json and force is off.
core::Result<ChunkResult> chunk_input(const ChunkRequest& req);

// The JSON shape of a chunk plan (frames, fps, window, overlap, chunks with index/start/frames/
// path), shared by chunks.json (paths relative to the manifest) and `cosmos chunk --json`
// (absolute paths).
nlohmann::ordered_json chunk_plan_json(const ChunkResult& r, bool absolute_paths);

// Reads a chunks.json written by chunk_input.
core::Result<ChunkResult> read_chunk_manifest(const std::filesystem::path& manifest);

struct StitchRequest {
    std::vector<std::filesystem::path> parts;  // in order; empty: the manifest's own chunks
    std::optional<std::filesystem::path> manifest;
    std::int64_t overlap = k_default_overlap;  // used without a manifest
    std::filesystem::path output;
    int fps = 0;  // 0: the manifest's, else the first part's
    int crf = 18;
    std::string preset = "veryfast";
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

struct StitchResult {
    std::filesystem::path output;
    std::int64_t frames = 0;
    std::vector<media::Window> windows;
};

// Stitches the parts (see media::stitch_videos). Fails with invalid_input when the parts and
// the manifest disagree in number, or a part is too short or of another size.
core::Result<StitchResult> stitch_parts(const StitchRequest& req);

}  // namespace cosmos::services
