#include "config/template_text.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cosmos::config {

namespace {

bool is_name_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 128 && (std::isalnum(u) != 0 || c == '_');
}

core::Unexpected text_error(std::size_t column, std::string_view what) {
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("template text: {} at column {}", what, column + 1),
                      "placeholders look like {name}; write {{ and }} for literal braces");
}

}  // namespace

core::Result<std::vector<TemplatePiece>> split_template_text(std::string_view text) {
    std::vector<TemplatePiece> pieces;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) {
            pieces.push_back({std::move(literal), false});
            literal.clear();
        }
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '}') {
            if (i + 1 < text.size() && text[i + 1] == '}') {
                literal += '}';
                ++i;
                continue;
            }
            return text_error(i, "unmatched '}'");
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{') {
            literal += '{';
            ++i;
            continue;
        }
        std::size_t end = i + 1;
        while (end < text.size() && is_name_char(text[end])) {
            ++end;
        }
        if (end >= text.size() || text[end] != '}') {
            return text_error(i,
                              "unmatched '{' (or a placeholder name with characters other "
                              "than letters, digits and '_')");
        }
        if (end == i + 1) {
            return text_error(i, "empty placeholder {}");
        }
        flush();
        pieces.push_back({std::string(text.substr(i + 1, end - i - 1)), true});
        i = end;
    }
    flush();
    return pieces;
}

std::vector<std::string> placeholder_names(const std::vector<TemplatePiece>& pieces) {
    std::vector<std::string> names;
    for (const auto& p : pieces) {
        if (p.is_placeholder && std::find(names.begin(), names.end(), p.text) == names.end()) {
            names.push_back(p.text);
        }
    }
    return names;
}

}  // namespace cosmos::config
