#pragma once
// The Python tool's prompt-spec and run-spec JSON files (inputs/prompts/<YYYY-MM-DD>/...json),
// read into import candidates (docs/import.md).

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "services/import_legacy.hpp"
#include "services/legacy_mapping.hpp"

namespace cosmos::services::legacy {

enum class SpecKind { prompt, run, other };

// Returns what `j` is: a prompt spec (id "ps_..." or a prompt with control_inputs), a run spec
// (id "rs_..." or a prompt_id with weights, parameters or a status), or other.
SpecKind classify_spec(const nlohmann::json& j);

// Reads the JSON file `file` into `batch`: its prompt or run as a candidate, or a skipped item
// saying why not (unreadable, malformed JSON with its position, not a spec, a missing or bad
// field). Records get the source "import:<file>".
void read_spec_file(const std::filesystem::path& file,
                    const ImportDefaults& defaults,
                    Batch& batch);

// What read_spec_file does once the file is read: `text` parsed as the spec `source` says.
void read_spec_text(std::string_view text,
                    const std::string& source,
                    const ImportDefaults& defaults,
                    Batch& batch);

}  // namespace cosmos::services::legacy
