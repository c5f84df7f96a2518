#pragma once
// What may reach a terminal from stored data (a prompt, a name, an error naming them).

#include <string>
#include <string_view>

namespace cosmos::cli {

// Returns `text` as it may reach a terminal: control characters (but newline and tab; C1 controls
// such as CSI included) written as \xNN / \uNNNN, so stored text can't move the cursor, retitle
// the window or hide what is shown. Colour (ESC [ ... m) passes. Every printer of Output and
// print_table writes through it.
std::string terminal_safe(std::string_view text);

}  // namespace cosmos::cli
