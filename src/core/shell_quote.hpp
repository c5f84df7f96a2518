#pragma once
// The one place where argv becomes a shell string. Every remote command is built as an argv
// vector and passes through here; nothing user-supplied is ever pasted into a shell string raw.

#include <string>
#include <string_view>
#include <vector>

namespace cosmos::core {

// Returns `arg` quoted for a POSIX shell: unchanged when it only has characters that are never
// special ([A-Za-z0-9_@%+=:,./-]), otherwise in single quotes with each ' written as '\''.
// The empty string becomes ''. Fails never; NUL bytes cannot reach a shell and are dropped.
std::string shell_quote(std::string_view arg);

// Returns the argv joined with spaces, each element quoted by shell_quote.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace cosmos::core
