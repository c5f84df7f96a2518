#include "core/shell_quote.hpp"

namespace cosmos::core {

namespace {
bool is_plain(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' || c == '.' ||
           c == '/' || c == '-';
}
}  // namespace

std::string shell_quote(std::string_view arg) {
    if (arg.empty()) {
        return "''";
    }
    bool plain = true;
    for (char c : arg) {
        plain = plain && is_plain(c);
    }
    if (plain) {
        return std::string(arg);
    }
    std::string out = "'";
    for (char c : arg) {
        if (c == '\0') {
            continue;
        }
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string shell_join(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        out += shell_quote(a);
    }
    return out;
}

}  // namespace cosmos::core
