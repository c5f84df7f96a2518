#pragma once
// The hosts jobs run on: those of the config file plus those `cosmos hosts add` keeps in the
// hosts file (<config_dir>/hosts.toml). Adding and removing touch only the hosts file; a new
// host goes through the same parser and checks as a hand-written [hosts.NAME] table.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::services {

// Splits "HOST[:PORT]" ("[::1]:2222" for IPv6) into address and port; fails with invalid_input.
core::Result<std::pair<std::string, std::optional<int>>> parse_address(const std::string& text);

// Adds `host` to the hosts file of `config` (replacing a managed host of that name when
// `replace`). Fails with conflict when the name is taken (by the config file, or the hosts file
// without `replace`) and with config/invalid_input when the host would not parse back.
// Returns the host as it will be read from now on.
core::Result<config::HostConfig> add_host(const config::Config& config,
                                          const config::HostConfig& host,
                                          bool replace);

// Removes host `name` from the hosts file. Fails with not_found for an unknown host and with
// conflict for a host defined in the config file (which cosmos never edits).
core::Status remove_host(const config::Config& config, const std::string& name);

// Where the host's definition comes from: "hosts file", "config file" or "default".
std::string host_origin(const config::HostConfig& host);

// The JSON shape of a host for `--json` output and the HTTP API (secret env values "***").
nlohmann::ordered_json host_json(const config::HostConfig& host);

}  // namespace cosmos::services
