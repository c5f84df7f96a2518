#pragma once
// Private to src/config: the toml++ helpers shared by the files that parse TOML
// (config_parse.cpp, templates.cpp, model_files.cpp). The only header that includes toml++.

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config/config_detail.hpp"
#include "core/result.hpp"

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

// Parses `text` as TOML read from `path`; a syntax error names FILE:LINE:COL.
inline core::Result<toml::table> parse_toml(const std::string& text,
                                            const std::filesystem::path& path) {
    try {
        return toml::parse(text, path.string());
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        return core::fail(
            core::ErrorCode::config,
            fmt::format("{}: {}",
                        location(path, static_cast<int>(at.line), static_cast<int>(at.column)),
                        e.description()),
            "the file is not valid TOML (https://toml.io)");
    }
}

}  // namespace cosmos::config::detail
