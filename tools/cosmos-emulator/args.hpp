#pragma once
// argparse emulation for transfer.py: the same accepted spellings (--flag value, --flag=value,
// unique prefixes), the same conversions, choices and error texts.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::emulator {

struct ParsedArgs {
    nlohmann::ordered_json values;  // dest -> value for every option (argparse's Namespace)
    std::vector<std::string> argv;  // the script's arguments as given (sys.argv[1:])
    bool help = false;              // -h / --help was given
};

// Parses the script's arguments like argparse. Fails with usage_error (exit 2) on an unknown
// or ambiguous option, a missing or ill-typed value, a bad choice or a missing required option.
core::Result<ParsedArgs> parse_transfer_args(const std::vector<std::string>& argv);

// Returns true when `token` appears as a whole argument ("--sigma_max"), the test transfer.py
// makes before letting a spec value override an argument.
bool appears_as_token(const std::vector<std::string>& argv, const std::string& token);

}  // namespace cosmos::emulator
