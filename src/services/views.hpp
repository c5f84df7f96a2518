#pragma once
// The JSON shapes of prompts and runs, shared by `--json` output and (later) the HTTP API so the
// CLI and the API agree on field names.

#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.hpp"

namespace cosmos::services {

nlohmann::ordered_json prompt_json(const store::PromptRecord& p);
nlohmann::ordered_json run_json(const store::RunRecord& r);
nlohmann::ordered_json run_events_json(const std::vector<store::RunEvent>& events);

}  // namespace cosmos::services
