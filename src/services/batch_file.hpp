#pragma once
// `cosmos batch FILE`: a list of runs to queue, as JSON (an array of entries, or {"runs": [...]})
// or TOML ([[runs]] tables), chosen by the file's extension. Each entry uses the field names of
// a run's JSON (model::to_json(RunParams)) plus what queueing needs:
//   prompt_id | prompt (a name), weights {modality: w}, num_steps, guidance, sigma_max, seed,
//   fps, blur_strength, canny_threshold, num_gpus, offload [..], host, priority,
//   upscale (a weight, or true for the default 0.5)
// Unknown keys and wrong types are errors naming FILE, the entry (1-based) and, for TOML, the
// line. The values themselves are checked by services::plan_runs (each entry's origin says
// where it came from).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "services/submit.hpp"

namespace cosmos::services {

// Reads `file` (.json or .toml). Fails with not_found for a missing file and invalid_input for
// another extension, malformed JSON/TOML, an unknown key or a value of the wrong type.
core::Result<std::vector<SubmitEntry>> read_batch_file(const std::filesystem::path& file);

// Parse `text` as if read from the file `name` (used by read_batch_file and tests).
core::Result<std::vector<SubmitEntry>> parse_batch_json(std::string_view text,
                                                        const std::string& name);
core::Result<std::vector<SubmitEntry>> parse_batch_toml(std::string_view text,
                                                        const std::string& name);

}  // namespace cosmos::services
