#pragma once
// The text of a prompt template split into literal pieces and {placeholders}. `{{` and `}}`
// stand for literal braces; a placeholder name is one or more of [A-Za-z0-9_].

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::config {

struct TemplatePiece {
    std::string text;  // literal text, or the placeholder's name
    bool is_placeholder = false;
};

// Splits `text` into pieces; fails with invalid_input naming the column (1-based) of an
// unmatched '{' or '}' or an empty or malformed placeholder.
core::Result<std::vector<TemplatePiece>> split_template_text(std::string_view text);

// Returns the placeholder names of `pieces` in order of first appearance, without repeats.
std::vector<std::string> placeholder_names(const std::vector<TemplatePiece>& pieces);

}  // namespace cosmos::config
