#pragma once
// Render sequences: finds the numbered image files of each modality in a render folder and
// reports gaps, duplicates and frames present in one modality but not another, naming files.
//
// Naming rules (docs/media.md): a frame file is `<prefix><digits>.<ext>` with any zero padding
// and ext png/jpg/jpeg/exr/tif/tiff/bmp. The modality is the last word of the prefix that names
// one (words split on . _ - and space; e.g. `color.0001.png`, `shot3_depth_12.exr`), else the
// name of the folder holding the file (`depth/frame_0001.png`). The render folder and its
// immediate subfolders are scanned. Modality words: color|rgb|beauty -> color, depth,
// segmentation|seg -> seg, edge|edges|canny -> edge, vis, keypoint, hdmap, lidar.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::media {

struct SequenceFrame {
    std::int64_t number = 0;
    std::filesystem::path path;  // absolute
    std::string prefix;          // relative to the render folder, e.g. "depth/depth."
    int digits = 0;              // width of the number as written (padding)
    std::string ext;             // ".png"
};

struct ImageSequence {
    std::string modality;               // "color" or a model modality key (depth, seg, ...)
    std::vector<SequenceFrame> frames;  // sorted by number, no duplicates
    // e.g. "depth/depth.####.png" (the first frame's prefix, padding and extension)
    std::string pattern() const;
    // The file name (relative to the render folder) frame `number` would have, following the
    // nearest existing frame's prefix, padding and extension.
    std::string name_for(std::int64_t number) const;
};

struct RenderScan {
    std::filesystem::path dir;                       // absolute
    std::map<std::string, ImageSequence> sequences;  // by modality
    std::vector<std::string> problems;  // one line each, naming files; empty when usable
    std::vector<std::string> ignored;   // image files with a number but no modality
};

// Returns the modality a word names ("rgb" -> "color", "segmentation" -> "seg"), or "" when
// it names none.
std::string modality_for_word(std::string_view word);

// Scans `dir`. Fails with not_found when it is not a folder; otherwise lists the sequences and
// every problem (no color sequence, gaps, duplicate numbers, frames missing from or extra in a
// control compared with color).
core::Result<RenderScan> scan_render_dir(const std::filesystem::path& dir);

}  // namespace cosmos::media
