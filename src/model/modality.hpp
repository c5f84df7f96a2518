#pragma once
// Control modalities of Cosmos-Transfer1 (the spec's valid hint keys) and how input files map
// onto them (docs/models/transfer1.md and docs/media.md).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cosmos::model {

// The spec's valid modality keys, in the order they are written to the spec.
const std::vector<std::string>& modality_keys();

// Returns true when `key` is a valid modality key (vis, edge, depth, seg, keypoint, upscale,
// hdmap, lidar).
bool is_modality(std::string_view key);

// Modalities a transfer run may weight (all but `upscale`, which belongs to upscale runs).
bool is_transfer_modality(std::string_view key);

// Maps a file stem in an input folder to its modality: "depth"->depth, "segmentation" and
// "seg"->seg, "edge", "vis", "keypoint", "hdmap", "lidar"; "color" is the input video and
// returns std::nullopt like any unknown stem.
std::optional<std::string> modality_for_stem(std::string_view stem);

// Returns true for modalities the model can compute from the RGB input itself cheaply
// (vis: blur, edge: Canny); depth/seg/keypoint are computed by extra models on every GPU.
bool is_computed_from_input(std::string_view key);

}  // namespace cosmos::model
