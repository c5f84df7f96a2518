#pragma once
// A float32 tensor of shape [H,W] or [T,H,W] written in PyTorch's own `.pt` format, without
// Python, so a control weight that varies over time and space (a schedule expanded per frame, a
// mask) can be handed to Cosmos-Transfer1 as `control_weight: "path.pt"` (docs/models/transfer1.md,
// "Weight tensors"). The file is what torch.save writes for a contiguous CPU tensor: a zip
// archive, entries stored uncompressed under one folder named like the file (weights.pt ->
// weights/):
//   data.pkl   a protocol-2 pickle: torch._utils._rebuild_tensor_v2(storage, 0, shape, strides,
//              False, collections.OrderedDict()) with the storage a persistent id
//              ('storage', torch.FloatStorage, '0', 'cpu', numel)
//   byteorder  "little"
//   data/0     the values, little-endian float32, row-major; its bytes start on a 64-byte
//              boundary of the file, as torch aligns them
//   version    "3\n"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cosmos::model {

// The largest tensor written: 2^28 values (1 GiB of float32), room for 121 frames of
// 1920x1080 weights; a bigger one is refused rather than staged to hosts by mistake.
inline constexpr std::int64_t k_max_pt_elements = std::int64_t{1} << 28;

// The pickle stored as data.pkl for a float32 tensor of `shape` (byte for byte what torch.save
// writes for it). Shape is not checked here.
std::string pt_tensor_pickle(std::span<const std::int64_t> shape);

// The folder the archive's entries live in: the file name without directory and extension
// ("/x/weights.pt" -> "weights"), as torch.save names it; empty when there is none.
std::string pt_archive_folder(const std::string& path);

// Writes `values` (row-major, values.size() == product of shape) as a float32 tensor of `shape`
// to `path`, atomically (a temporary sibling renamed over it). Fails with invalid_input for a
// shape that is not [H,W] or [T,H,W], a zero or negative dimension, more than
// k_max_pt_elements values, a value count that does not match, or a path without a file name;
// io when the file cannot be written. Values are written as given (NaN and negatives too: the
// caller validates weights).
core::Status write_pt_tensor(const std::string& path,
                             std::span<const std::int64_t> shape,
                             std::span<const float> values);

}  // namespace cosmos::model
