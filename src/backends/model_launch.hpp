#pragma once
// The redacted record of a model launch that the store keeps and the web preview shows (the
// command itself comes from the model family: model/family.hpp).

#include <nlohmann/json.hpp>

#include "model/transfer_command.hpp"

namespace cosmos::backends {

// Returns a JSON record of a launch with secret-looking environment values replaced by "***".
nlohmann::ordered_json describe_launch(const model::LaunchCommand& command);

}  // namespace cosmos::backends
