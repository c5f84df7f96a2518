#pragma once
// Secrets (tokens, keys) never reach logs, the database, process lists or error messages.
// Known secret values are registered once (when config or environment is read) and every
// log line and error message passes through redact().

#include <string>
#include <string_view>

namespace cosmos::core {

// Registers `secret` so that redact() replaces it; values shorter than 4 characters are ignored.
void register_secret(std::string_view secret);

// Returns `text` with every registered secret and every token-like pattern (hf_..., an
// `Authorization: Bearer ...` value, `*_TOKEN=...`) replaced by "***".
std::string redact(std::string_view text);

// Returns true when an environment variable name looks like it holds a secret: it contains
// TOKEN, SECRET, PASSWORD or KEY (case-insensitive). Such values travel in 0600 files, never on
// a command line, and are shown as "***".
bool is_secret_name(std::string_view name);

}  // namespace cosmos::core
