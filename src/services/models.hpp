#pragma once
// `cosmos models list|show` and the web UI's model choice: the model families this build drives
// and the user model files of <config_dir>/models (config/model_files.hpp), as JSON.

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::services {

// Every family, then every user model: [{"name", "family", "display_name", "description",
// "kind": "family"|"file", ...}]. Fails with the model file's FILE:LINE error when one is broken.
core::Result<nlohmann::ordered_json> list_models(const config::Config& config);

// One model in full: a family's entry point, controls, defaults and batching rule, or a user
// model's file, SHA-256, checkpoint, experiment, flags and defaults. Fails with not_found
// (listing the names) for an unknown one.
core::Result<nlohmann::ordered_json> show_model(const config::Config& config,
                                                const std::string& name);

}  // namespace cosmos::services
