#pragma once
// Readable names for prompts and runs, as the Python tool made them, and the rules that keep a
// name safe to use in file names, container names and remote paths.

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

// Returns a readable name derived from prompt text: lower-case words, stop words and words of
// two letters or fewer dropped, up to 3 meaningful words joined by '_', at most 20 characters
// (whole words only). Falls back to "prompt" when no word qualifies.
std::string derive_name(std::string_view text);

// Returns `name` lower-cased with every character outside [a-z0-9_] replaced by '_', runs of
// '_' collapsed, trimmed of '_' at both ends, cut to 50 characters.
std::string sanitize_name(std::string_view name);

// Checks a user-given name: 1-50 characters of [A-Za-z0-9_.-], not starting with '.' or '-'.
// Fails with invalid_input naming the first offending character otherwise (so `../x`,
// `a;rm -rf ~` and `$(id)` are refused, not silently rewritten).
Status validate_name(std::string_view name);

}  // namespace cosmos::core
