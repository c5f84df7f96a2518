#include "config/config.hpp"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "config/config_detail.hpp"
#include "config/toml_detail.hpp"
#include "core/read_file.hpp"

namespace cosmos::config {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

const char* const k_default_negative_prompt =
    "The video captures a game playing, with bad crappy graphics and cartoonish frames. It "
    "represents a recording of old outdated games. The lighting looks very fake. The textures "
    "are very raw and basic. The geometries are very primitive. The images are very pixelated "
    "and of poor CG quality. There are many subtitles in the footage. Overall, the video is "
    "unrealistic at all.";

namespace detail {

namespace {

std::vector<std::string> host_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& [name, host] : config.hosts) {
        names.push_back(name);
    }
    return names;
}

HostConfig default_local_host(const fs::path& data_dir) {
    HostConfig host;
    host.name = "local";
    host.kind = core::HostKind::local;
    host.runtime = core::RuntimeKind::native;
    host.gpus = 1;
    host.emulated = true;
    host.cosmos_dir = data_dir / "emulator";
    host.torchrun = (host.cosmos_dir / "bin" / "torchrun").string();
    host.env = {{"COSMOS_EMULATOR_TIME_SCALE", "0.02"}};
    return host;
}

// Picks run.host when neither the file nor $COSMOS_HOST set it and no host is named `local`.
core::Status default_run_host(Config& config) {
    if (config.hosts.count(config.run.host) != 0) {
        return {};
    }
    if (config.hosts.size() == 1) {
        config.run.host = config.hosts.begin()->first;
        return {};
    }
    return config_error(
        config.source,
        0,
        fmt::format("[run] host is not set and no host is named '{}'", config.run.host),
        fmt::format("set [run] host to one of: {}", join(host_names(config))));
}

core::Status check_run_host(Config& config, const FileFacts& facts, bool from_env) {
    if (!from_env && facts.run_host_line == 0) {
        return default_run_host(config);
    }
    if (config.hosts.count(config.run.host) != 0) {
        return {};
    }
    std::string hint = fmt::format("configured hosts: {}", join(host_names(config)));
    if (from_env) {
        return fail(ErrorCode::config,
                    fmt::format("$COSMOS_HOST names host '{}', which is not configured in {}",
                                config.run.host,
                                location(config.source, 0)),
                    std::move(hint));
    }
    return config_error(
        config.source,
        facts.run_host_line,
        fmt::format("[run] host '{}' is not a configured host (configured: {})",
                    config.run.host,
                    join(host_names(config))),
        fmt::format("add a [hosts.{}] table or pick a configured host", config.run.host));
}

}  // namespace

core::Status finish_config(Config& config,
                           const FileFacts& facts,
                           const std::map<std::string, HostConfig>& managed) {
    std::error_code ec;
    fs::path cwd = fs::current_path(ec);
    if (ec) {
        cwd = "/";
    }
    if (auto v = env_value("COSMOS_DATA_DIR")) {
        config.paths.data_dir = resolve_path(*v, cwd);
    } else if (!facts.data_dir_set) {
        config.paths.data_dir = default_data_dir();
    }
    config.paths.data_dir = resolve_path(config.paths.data_dir.string(), cwd);
    config.paths.config_dir = user_config_dir();
    config.hosts_file = config.paths.config_dir / "hosts.toml";

    if (!facts.hosts_given) {
        config.hosts.clear();
        config.hosts.emplace("local", default_local_host(config.paths.data_dir));
    }
    for (const auto& [name, host] : managed) {
        auto it = config.hosts.find(name);
        if (it != config.hosts.end() && facts.hosts_given) {
            return config_error(config.hosts_file,
                                host.line,
                                fmt::format("host '{}' is also defined in {}",
                                            name,
                                            location(config.source, it->second.line)),
                                "remove one of the two definitions (cosmos hosts remove edits only "
                                "the hosts file)");
        }
        config.hosts[name] = host;
    }
    for (auto& [name, host] : config.hosts) {
        if (host.checkpoint_dir.empty() && !host.cosmos_dir.empty()) {
            host.checkpoint_dir = host.cosmos_dir / "checkpoints";
        }
        if (host.kind == core::HostKind::local && host.work_dir.empty()) {
            host.work_dir = config.paths.data_dir / "work";
        }
    }

    auto env_host = env_value("COSMOS_HOST");
    if (env_host) {
        config.run.host = *env_host;
    }
    return check_run_host(config, facts, env_host.has_value());
}

}  // namespace detail

namespace {

// Returns the configuration file to load, or std::nullopt to run on embedded defaults.
core::Result<std::optional<fs::path>> find_config_file(const LoadOptions& options) {
    std::error_code ec;
    if (options.explicit_path) {
        if (!fs::exists(*options.explicit_path, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("config file {} does not exist (--config)",
                                    options.explicit_path->string()));
        }
        return std::optional<fs::path>(*options.explicit_path);
    }
    if (auto env = detail::env_value("COSMOS_CONFIG")) {
        if (!fs::exists(*env, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("config file {} does not exist ($COSMOS_CONFIG)", *env),
                        "unset COSMOS_CONFIG or point it at an existing file");
        }
        return std::optional<fs::path>(*env);
    }
    for (const fs::path& candidate :
         {fs::path("cosmos.toml"), detail::user_config_dir() / "config.toml"}) {
        if (fs::is_regular_file(candidate, ec)) {
            return std::optional<fs::path>(candidate);
        }
    }
    return std::optional<fs::path>();
}

}  // namespace

core::Result<Config> load_config(const LoadOptions& options) {
    COSMOS_TRY(auto found, find_config_file(options));
    std::map<std::string, HostConfig> managed;
    std::error_code ec;
    fs::path hosts_file = detail::user_config_dir() / "hosts.toml";
    if (fs::is_regular_file(hosts_file, ec)) {
        COSMOS_TRY(std::string hosts_text,
                   detail::read_text_file(hosts_file, "hosts file", core::kConfigFileMax));
        COSMOS_TRY(managed, parse_hosts_file(hosts_text, hosts_file));
    }
    if (!found) {
        return parse_config("", fs::path(), managed);
    }
    fs::path path = fs::absolute(*found, ec).lexically_normal();
    if (ec) {
        path = *found;
    }
    COSMOS_TRY(std::string text,
               detail::read_text_file(path, "configuration file", core::kConfigFileMax));
    return parse_config(text, path, managed);
}

core::Result<HostConfig> find_host(const Config& config, const std::string& name) {
    auto it = config.hosts.find(name);
    if (it != config.hosts.end()) {
        return it->second;
    }
    std::string where =
        config.source.empty() ? std::string("the config file") : config.source.string();
    return fail(
        ErrorCode::not_found,
        fmt::format(
            "unknown host '{}' (configured: {})", name, detail::join(detail::host_names(config))),
        fmt::format("add a [hosts.{}] table to {} (see docs/configuration.md)", name, where));
}

}  // namespace cosmos::config

namespace cosmos::config {

std::optional<core::Error> image_pin_problem(const std::string& image, const std::string& where) {
    auto at = image.find("@sha256:");
    if (at != std::string::npos) {
        std::string digest = image.substr(at + 8);
        bool hex = digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
        if (hex) {
            return std::nullopt;
        }
    }
    std::string name = at == std::string::npos ? image : image.substr(0, at);
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    std::string tag = colon != std::string::npos && (slash == std::string::npos || colon > slash)
                          ? name.substr(colon + 1)
                          : std::string();
    std::string repo = tag.empty() ? name : name.substr(0, colon);
    if (!tag.empty() && tag != "latest" && at == std::string::npos) {
        return std::nullopt;
    }
    std::string why = at != std::string::npos ? "has a malformed digest"
                      : tag.empty()           ? "has no tag (which means :latest)"
                                              : "uses the moving tag :latest";
    return core::Error{
        core::ErrorCode::config,
        fmt::format("{}: image '{}' {}: runs would not be reproducible", where, image, why),
        fmt::format("pin it to a version tag or a digest, e.g. image = \"{}:v1.2.3\" or "
                    "\"{}@sha256:<digest>\" (cosmos setup image builds a versioned tag); "
                    "--allow-unpinned runs it anyway and records that on the run",
                    repo,
                    repo)};
}

namespace {

// "FILE:LINE: [SECTION]" for the `image` key of `section` ("docker", or "hosts" + `host`) in
// `file`, as every config error names its place; "FILE: [SECTION]" when the line can't be found.
std::string image_location(const fs::path& file,
                           const std::string& section,
                           const std::string& host) {
    std::string label =
        host.empty() ? fmt::format("[{}]", section) : fmt::format("[{}.{}]", section, host);
    int line = 0;
    auto text = detail::read_text_file(file, "configuration file", core::kConfigFileMax);
    auto root = text ? detail::parse_toml(*text, file) : core::Result<toml::table>(toml::table());
    if (root) {
        const toml::node* node = host.empty() ? (*root)[section]["image"].node()
                                              : (*root)[section][host]["image"].node();
        line = node != nullptr ? detail::line_of(*node) : 0;
    }
    return fmt::format("{}: {}", detail::location(file, line), label);
}

}  // namespace

std::vector<core::Error> unpinned_images(const Config& config) {
    std::vector<core::Error> out;
    if (!config.docker.image.empty()) {
        if (auto e = image_pin_problem(config.docker.image,
                                       image_location(config.source, "docker", ""))) {
            out.push_back(std::move(*e));
        }
    }
    for (const auto& [name, host] : config.hosts) {
        if (host.runtime == core::RuntimeKind::docker && !host.container.image.empty() &&
            host.container.image != config.docker.image) {
            const fs::path& file = host.managed ? config.hosts_file : config.source;
            if (auto e =
                    image_pin_problem(host.container.image, image_location(file, "hosts", name))) {
                out.push_back(std::move(*e));
            }
        }
    }
    return out;
}

}  // namespace cosmos::config
