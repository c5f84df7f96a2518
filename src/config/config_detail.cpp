#include "config/config_detail.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "core/redact.hpp"

namespace cosmos::config::detail {

namespace fs = std::filesystem;

std::string location(const fs::path& file, int line, int column) {
    std::string where = file.empty() ? std::string("<config>") : file.string();
    if (line > 0) {
        where += fmt::format(":{}", line);
        if (column > 0) {
            where += fmt::format(":{}", column);
        }
    }
    return where;
}

core::Unexpected config_error(const fs::path& file,
                              int line,
                              std::string_view message,
                              std::string hint) {
    return core::fail(core::ErrorCode::config,
                      fmt::format("{}: {}", location(file, line), message),
                      std::move(hint));
}

core::Unexpected unknown_key_error(const fs::path& file,
                                   int line,
                                   std::string_view key,
                                   std::string_view section,
                                   const std::vector<std::string>& valid) {
    return config_error(file,
                        line,
                        fmt::format("unknown key '{}' in {}", key, section),
                        fmt::format("valid keys in {}: {}", section, join(valid)));
}

core::Unexpected wrong_type_error(const fs::path& file,
                                  int line,
                                  std::string_view section,
                                  std::string_view key,
                                  std::string_view expected,
                                  std::string_view got) {
    return config_error(
        file, line, fmt::format("{} {} must be {}, got {}", section, key, expected, got));
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

std::optional<std::string> env_value(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        return std::nullopt;
    }
    return std::string(v);
}

core::Result<std::string> read_text_file(const fs::path& path,
                                         std::string_view what,
                                         std::uint64_t max_bytes) {
    return core::read_file(path, max_bytes, what);
}

fs::path home_dir() {
    if (auto home = env_value("HOME")) {
        return *home;
    }
    if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
        return pw->pw_dir;
    }
    return "/";
}

namespace {
// XDG base directories must be absolute; a relative value is ignored (XDG Base Directory spec).
fs::path xdg_dir(const char* variable, const fs::path& fallback) {
    if (auto v = env_value(variable); v && fs::path(*v).is_absolute()) {
        return fs::path(*v).lexically_normal();
    }
    return home_dir() / fallback;
}

fs::path strip_trailing_separator(fs::path p) {
    if (!p.has_filename() && p.has_relative_path()) {
        p = p.parent_path();
    }
    return p;
}
}  // namespace

fs::path user_config_dir() {
    return xdg_dir("XDG_CONFIG_HOME", ".config") / "cosmos";
}

fs::path default_data_dir() {
    return xdg_dir("XDG_DATA_HOME", ".local/share") / "cosmos";
}

fs::path resolve_path(const std::string& raw, const fs::path& base) {
    fs::path p;
    if (raw == "~") {
        p = home_dir();
    } else if (raw.rfind("~/", 0) == 0) {
        p = home_dir() / raw.substr(2);
    } else {
        p = raw;
    }
    if (p.is_relative()) {
        p = base / p;
    }
    return strip_trailing_separator(p.lexically_normal());
}

bool is_secret_env_name(std::string_view name) {
    return core::is_secret_name(name);
}

bool is_env_name(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    auto first = static_cast<unsigned char>(name.front());
    if (std::isalpha(first) == 0 && name.front() != '_') {
        return false;
    }
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u > 127 || (std::isalnum(u) == 0 && c != '_')) {
            return false;
        }
    }
    return true;
}

}  // namespace cosmos::config::detail
