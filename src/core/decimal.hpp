#pragma once
// Plain decimal numbers typed by users (weights, guidance, seconds): "0.6", "-1", "2.5e-3".
// Hexadecimal ("0x10"), "inf", "nan", spaces and numbers too small or too large for a double
// are refused with a message saying which; -0 is read as 0.

#include <string_view>

#include "core/result.hpp"

namespace cosmos::core {

// Parses `text` as a plain decimal number. `what` names it in errors ("--weight 'depth=0x10'").
// Fails with invalid_input: "is not a plain decimal number", "is too small" (a non-zero value
// below 2.2e-308, which a double holds only with lost precision, if at all) or "is too large".
Result<double> parse_decimal(std::string_view text, std::string_view what);

}  // namespace cosmos::core
