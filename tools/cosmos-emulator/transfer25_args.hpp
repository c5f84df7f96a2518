#pragma once
// tyro's command line of Cosmos-Transfer2.5's examples/inference.py (argument prefixes omitted):
// -i/--input-files, the setup options (CLI only) and an override flag for every scalar spec field,
// all as --kebab-case flags taking "--flag value" or "--flag=value".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

struct Setup25 {
    std::vector<std::string> input_files;
    std::string output_dir;
    std::string model = "edge";  // edge, depth, seg, vis or edge/distilled
    std::optional<std::string> checkpoint_path, experiment;
    std::string config_file;
    std::optional<std::int64_t> context_parallel_size;
    bool disable_guardrails = false, offload_guardrail_models = false, keep_going = true;
    bool profile = false, benchmark = false, enable_parallel_tokenizer = false;
    std::string compile_tokenizer = "none";
    std::vector<std::int64_t> parallel_tokenizer_grid = {-1, -1};
    nlohmann::ordered_json overrides = nlohmann::ordered_json::object();  // field -> CLI value
    bool help = false;

    bool distilled() const { return model == "edge/distilled"; }
    // The setup as the record shows it ({"output_dir": ..., "model": ..., ...}).
    nlohmann::ordered_json to_json() const;
};

// Parses the script's arguments like tyro. Fails with a usage error (exit 2) on an unknown flag,
// a missing or ill-typed value, a bad choice or missing -i / -o.
core::Result<Setup25> parse_transfer25_args(const std::vector<std::string>& argv);

// tyro's usage error box (title "Parsing error") around `message`, ending with a newline.
std::string transfer25_usage_error(const std::string& message);

// The --help text.
std::string transfer25_help();

}  // namespace cosmos::emulator
