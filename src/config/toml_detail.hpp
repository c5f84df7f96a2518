#pragma once
// Private to src/config: the toml++ helpers shared by the files that parse TOML
// (config_parse.cpp, templates.cpp, model_files.cpp). The only header that includes toml++.

#include <array>
#include <string_view>

#include <toml++/toml.h>

namespace cosmos::config::detail {

// The TOML type of `n` as a user reads it ("string", "integer", "table"...).
inline std::string_view type_name(const toml::node& n) {
    static_assert(static_cast<int>(toml::node_type::none) == 0 &&
                  static_cast<int>(toml::node_type::date_time) == 9);
    constexpr std::array<std::string_view, 10> k_names = {"nothing",
                                                          "table",
                                                          "array",
                                                          "string",
                                                          "integer",
                                                          "float",
                                                          "boolean",
                                                          "date",
                                                          "time",
                                                          "date-time"};
    return k_names[static_cast<std::size_t>(n.type())];
}

inline int line_of(const toml::node& n) {
    return static_cast<int>(n.source().begin.line);
}

// The line of `k` (of its value `n` when the key has none).
inline int line_of(const toml::key& k, const toml::node& n) {
    int line = static_cast<int>(k.source().begin.line);
    return line > 0 ? line : line_of(n);
}

}  // namespace cosmos::config::detail
