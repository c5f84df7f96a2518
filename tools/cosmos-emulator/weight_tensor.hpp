#pragma once
// A control_weight given as a path to a .pt tensor, read the way torch.load would see it and
// checked as the real model needs it (docs/emulator.md, "Weight tensors"): a torch zip archive
// whose data.pkl is a pickle this reader understands (the opcodes torch.save writes), holding
// one contiguous float32 CPU tensor of shape [H,W] or [T,H,W], every value finite and >= 0.
// Written independently of the orchestrator's writer (src/model/pt_tensor), so a mistake there
// fails here instead of being repeated.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

struct WeightTensor {
    std::string dtype;                // "float32"
    std::vector<std::int64_t> shape;  // [H,W] or [T,H,W]
    std::vector<float> values;        // row-major
};

// The largest file read: 2 GiB (the orchestrator writes at most 1 GiB of values).
inline constexpr std::int64_t k_max_weight_file = std::int64_t{2} << 30;

// Reads and checks `path` for modality `key`. Fails as the real script would: an
// _pickle.UnpicklingError or EOFError for a file that is no torch archive, RuntimeError for
// an archive torch refuses or a tensor of another dtype, ValueError for a shape other than
// [H,W] / [T,H,W] or a value that is negative or not finite; raised in `where`.
core::Result<WeightTensor> read_weight_tensor(const std::string& key,
                                              const std::string& path,
                                              std::string_view where);

// What the invocation record keeps of it: {"modality", "path", "dtype", "shape", "numel",
// "min", "max", "first" (up to 8 values), "last"}.
nlohmann::ordered_json weight_tensor_summary(const std::string& key,
                                             const std::string& path,
                                             const WeightTensor& tensor);

}  // namespace cosmos::emulator
