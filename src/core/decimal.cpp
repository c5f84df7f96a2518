#include "core/decimal.hpp"

#include <cctype>
#include <cfloat>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace cosmos::core {
namespace {

bool digits(std::string_view text, std::size_t& i) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
        ++i;
    }
    return i > start;
}

// [+-] digits [. digits] [e [+-] digits], or [+-] . digits [...]
bool is_plain_decimal(std::string_view text) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        ++i;
    }
    bool whole = digits(text, i);
    bool fraction = false;
    if (i < text.size() && text[i] == '.') {
        ++i;
        fraction = digits(text, i);
    }
    if (!whole && !fraction) {
        return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            ++i;
        }
        if (!digits(text, i)) {
            return false;
        }
    }
    return i == text.size();
}

bool all_zero_digits(std::string_view text) {
    for (char c : text) {
        if (c == 'e' || c == 'E') {
            return true;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) != 0 && c != '0') {
            return false;
        }
    }
    return true;
}

}  // namespace

Result<double> parse_decimal(std::string_view text, std::string_view what) {
    if (!is_plain_decimal(text)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: '{}' is not a plain decimal number", what, text),
                    "write numbers in decimal, e.g. 0.5 or 2.5e-3");
    }
    std::string copy(text);
    char* end = nullptr;
    double d = std::strtod(copy.c_str(), &end);
    if (std::isinf(d)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: '{}' is too large for a number", what, text));
    }
    if (!all_zero_digits(text) && std::fabs(d) < DBL_MIN) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: '{}' is too small (nearer 0 than {:g}); write 0 for zero",
                                what,
                                text,
                                DBL_MIN));
    }
    return d + 0.0;  // -0 becomes 0
}

}  // namespace cosmos::core
