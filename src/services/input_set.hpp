#pragma once
// An input set: a folder with `color.mp4` (the visual input), control videos named after
// their modality (depth.mp4, segmentation.mp4 -> seg, edge.mp4, vis.mp4, keypoint.mp4,
// hdmap.mp4, lidar.mp4) and control masks named after theirs (depth_mask.mp4: a binary video,
// white where Cosmos-Transfer2.5 applies that control). Every video is probed; frame count, fps
// and resolution must agree.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct InputSet {
    std::filesystem::path dir;                              // absolute
    std::filesystem::path color;                            // absolute path of color.mp4
    std::map<std::string, std::filesystem::path> controls;  // modality -> absolute path
    std::map<std::string, std::filesystem::path> masks;     // modality -> its mask video
    store::VideoMeta video;
    std::vector<std::string> ignored;  // files in the folder that were not used
};

// Most frames the model takes in one run (docs/models/transfer1.md: capped at 5000 frames).
inline constexpr std::int64_t k_max_input_frames = 5000;

// Scans and probes `dir`. Fails with not_found when the folder or color.mp4 is missing,
// invalid_input when a file is not a readable video, two files claim one modality, or the
// videos disagree on frame count, fps or resolution (naming the files and values), or exceed
// the limits.
core::Result<InputSet> scan_input_set(const std::filesystem::path& dir);

// As scan_input_set without the 5000-frame cap (long videos about to be chunked).
core::Result<InputSet> scan_input_set_any_length(const std::filesystem::path& dir);

}  // namespace cosmos::services
