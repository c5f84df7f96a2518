#pragma once
// Private to src/config: helpers shared by config.cpp, config_parse.cpp, config_render.cpp and
// templates.cpp. Nothing outside src/config includes this header; it never includes toml++.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::config::detail {

// Returns "FILE:LINE" ("FILE:LINE:COL" with a column), or "FILE" when `line` is 0.
std::string location(const std::filesystem::path& file, int line, int column = 0);

// Returns a config error "FILE:LINE: message" (ErrorCode::config) with an optional hint.
core::Unexpected config_error(const std::filesystem::path& file,
                              int line,
                              std::string_view message,
                              std::string hint = {});

// Returns "FILE:LINE: unknown key 'KEY' in SECTION" with a hint listing `valid` keys.
core::Unexpected unknown_key_error(const std::filesystem::path& file,
                                   int line,
                                   std::string_view key,
                                   std::string_view section,
                                   const std::vector<std::string>& valid);

// Returns "FILE:LINE: SECTION KEY must be EXPECTED, got GOT" ("[run] num_steps must be an
// integer, got string").
core::Unexpected wrong_type_error(const std::filesystem::path& file,
                                  int line,
                                  std::string_view section,
                                  std::string_view key,
                                  std::string_view expected,
                                  std::string_view got);

// Returns `items` joined with ", ".
std::string join(const std::vector<std::string>& items);

// Returns the value of environment variable `name`, or std::nullopt when unset or empty.
std::optional<std::string> env_value(const char* name);

// Returns the contents of the file at `path` (core::read_file: a regular file of at most
// `max_bytes`); `what` names it in errors ("configuration file").
core::Result<std::string> read_text_file(const std::filesystem::path& path,
                                         std::string_view what,
                                         std::uint64_t max_bytes);

// Returns $HOME (or the passwd entry's home when $HOME is unset).
std::filesystem::path home_dir();

// Returns $XDG_CONFIG_HOME/cosmos, defaulting XDG_CONFIG_HOME to ~/.config.
std::filesystem::path user_config_dir();

// Returns $XDG_DATA_HOME/cosmos, defaulting XDG_DATA_HOME to ~/.local/share.
std::filesystem::path default_data_dir();

// Returns `raw` with a leading `~` or `~/` replaced by the home directory, resolved against
// `base` when still relative, lexically normalized. `base` must be absolute.
std::filesystem::path resolve_path(const std::string& raw, const std::filesystem::path& base);

// Returns true when an environment variable name looks like it holds a secret (contains
// TOKEN, SECRET, PASSWORD or KEY, case-insensitive).
bool is_secret_env_name(std::string_view name);

// Returns true for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view name);

// What parse_config read from the file beyond Config's fields: which values were set and where,
// so defaults and environment overrides can be applied afterwards and errors can name lines.
struct FileFacts {
    bool data_dir_set = false;
    bool hosts_given = false;
    int run_host_line = 0;
};

// Applies environment overrides ($COSMOS_DATA_DIR, $COSMOS_HOST) and defaults (data_dir,
// config_dir, the `local` host, checkpoint and work dirs) to `config` as parsed from
// config.source, then checks that run.host names a configured host. Fails with config.
// `managed` hosts (from the hosts file) are added next; one named like a file host is an error.
core::Status finish_config(Config& config,
                           const FileFacts& facts,
                           const std::map<std::string, HostConfig>& managed);

}  // namespace cosmos::config::detail
