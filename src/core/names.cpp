#include "core/names.hpp"

#include <array>
#include <cctype>

#include <fmt/format.h>

namespace cosmos::core {

namespace {

constexpr std::array<std::string_view, 64> k_stop_words = {
    "the",    "and",    "with",   "for",     "from",    "into",    "onto",    "that",
    "this",   "these",  "those",  "are",     "was",     "were",    "been",    "being",
    "has",    "have",   "had",    "its",     "their",   "there",   "then",    "than",
    "over",   "under",  "very",   "some",    "each",    "which",   "while",   "where",
    "when",   "what",   "who",    "whom",    "will",    "would",   "can",     "could",
    "should", "shall",  "may",    "might",   "must",    "about",   "above",   "below",
    "after",  "before", "during", "through", "between", "against", "without", "within",
    "along",  "across", "behind", "beyond",  "not",     "but",     "all",     "video"};

bool is_stop_word(std::string_view w) {
    for (auto s : k_stop_words) {
        if (s == w) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string derive_name(std::string_view text) {
    std::string name;
    int words = 0;
    std::string word;
    auto flush = [&] {
        if (word.size() > 2 && !is_stop_word(word) && words < 3) {
            std::string candidate = name.empty() ? word : name + "_" + word;
            if (candidate.size() <= 20) {
                name = candidate;
                ++words;
            } else {
                words = 3;  // whole words only: stop at the first word that does not fit
            }
        }
        word.clear();
    };
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0) {
            word += static_cast<char>(std::tolower(u));
        } else {
            flush();
        }
    }
    flush();
    return name.empty() ? std::string("prompt") : name;
}

std::string sanitize_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        char l = static_cast<char>(std::tolower(u));
        bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
        if (ok) {
            out += l;
        } else if (!out.empty() && out.back() != '_') {
            out += '_';
        }
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    if (out.size() > 50) {
        out.resize(50);
        while (!out.empty() && out.back() == '_') {
            out.pop_back();
        }
    }
    return out;
}

Status validate_name(std::string_view name) {
    if (name.empty() || name.size() > 50) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("name must be 1-50 characters, got {}", name.size()),
                    "use letters, digits, '_', '-' and '.'");
    }
    if (name.front() == '.' || name.front() == '-') {
        return fail(ErrorCode::invalid_input,
                    fmt::format("name '{}' must not start with '{}'", name, name.front()),
                    "use letters, digits, '_', '-' and '.'");
    }
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        bool ok = std::isalnum(u) != 0 || c == '_' || c == '-' || c == '.';
        if (!ok) {
            std::string shown =
                std::isprint(u) != 0 ? std::string(1, c) : fmt::format("\\x{:02x}", u);
            return fail(
                ErrorCode::invalid_input,
                fmt::format("name contains the character '{}', which is not allowed", shown),
                "use letters, digits, '_', '-' and '.'");
        }
    }
    return {};
}

}  // namespace cosmos::core
