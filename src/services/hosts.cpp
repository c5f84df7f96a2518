#include "services/hosts.hpp"

#include <charconv>

#include <fmt/format.h>

#include "core/redact.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

core::Result<std::pair<std::string, std::optional<int>>> parse_address(const std::string& text) {
    std::string address = text;
    std::optional<std::string> port_text;
    if (!text.empty() && text.front() == '[') {  // [v6]:port
        auto close = text.find(']');
        if (close == std::string::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("address '{}' is malformed", text),
                        "write an IPv6 address with a port as [::1]:2222");
        }
        address = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            port_text = text.substr(close + 2);
        }
    } else if (auto colon = text.find(':');
               colon != std::string::npos && colon == text.rfind(':')) {
        address = text.substr(0, colon);  // host:port (a bare IPv6 address has several ':')
        port_text = text.substr(colon + 1);
    }
    if (address.empty()) {
        return fail(ErrorCode::invalid_input, fmt::format("address '{}' has no host", text));
    }
    std::optional<int> port;
    if (port_text) {
        int value = 0;
        const char* end = port_text->data() + port_text->size();
        auto [ptr, ec] = std::from_chars(port_text->data(), end, value);
        if (port_text->empty() || ec != std::errc() || ptr != end || value < 1 || value > 65535) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("address '{}': port '{}' is not 1-65535", text, *port_text));
        }
        port = value;
    }
    return std::pair{address, port};
}

namespace {

std::vector<config::HostConfig> managed_hosts(const config::Config& config) {
    std::vector<config::HostConfig> out;
    for (const auto& [name, host] : config.hosts) {
        if (host.managed) {
            out.push_back(host);
        }
    }
    return out;
}

}  // namespace

core::Result<config::HostConfig> add_host(const config::Config& config,
                                          const config::HostConfig& host,
                                          bool replace) {
    if (auto it = config.hosts.find(host.name); it != config.hosts.end()) {
        if (!it->second.managed && !it->second.emulated) {
            return fail(
                ErrorCode::conflict,
                fmt::format("host '{}' is defined in {}", host.name, config.source.string()),
                "pick another name, or edit that file");
        }
        if (it->second.managed && !replace) {
            return fail(
                ErrorCode::conflict,
                fmt::format("host '{}' exists in {}", host.name, config.hosts_file.string()),
                "pass --replace to overwrite it, or `cosmos hosts remove` it first");
        }
    }
    std::vector<config::HostConfig> hosts;
    for (auto& h : managed_hosts(config)) {
        if (h.name != host.name) {
            hosts.push_back(std::move(h));
        }
    }
    hosts.push_back(host);
    // Parse the new file before writing it: a host that would not load is refused here, with
    // the same checks and messages as a hand-written table.
    std::string text = config::render_hosts_file(hosts);
    COSMOS_TRY(auto parsed, config::parse_hosts_file(text, config.hosts_file));
    auto it = parsed.find(host.name);
    if (it == parsed.end()) {
        return fail(ErrorCode::internal, fmt::format("host '{}' did not parse back", host.name));
    }
    if (auto s = config::save_hosts_file(config.hosts_file, hosts); !s) {
        return fail(s.error());
    }
    return it->second;
}

core::Status remove_host(const config::Config& config, const std::string& name) {
    auto it = config.hosts.find(name);
    if (it == config.hosts.end()) {
        return fail(ErrorCode::not_found, fmt::format("no host '{}'", name));
    }
    if (!it->second.managed) {
        return fail(ErrorCode::conflict,
                    fmt::format("host '{}' comes from {}, which cosmos does not edit",
                                name,
                                it->second.emulated ? std::string("the embedded defaults")
                                                    : config.source.string()),
                    "remove its [hosts.NAME] table from that file by hand");
    }
    std::vector<config::HostConfig> hosts;
    for (auto& h : managed_hosts(config)) {
        if (h.name != name) {
            hosts.push_back(std::move(h));
        }
    }
    return config::save_hosts_file(config.hosts_file, hosts);
}

std::string host_origin(const config::HostConfig& host) {
    if (host.managed) {
        return "hosts file";
    }
    return host.line > 0 ? "config file" : "default";
}

nlohmann::ordered_json host_json(const config::HostConfig& host) {
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [k, v] : host.env) {
        env[k] = core::redact(v);
    }
    nlohmann::ordered_json j;
    j["name"] = host.name;
    j["kind"] = host.kind;
    j["runtime"] = host.runtime;
    j["gpus"] = host.gpus;
    j["address"] = host.ssh.address;
    j["port"] = host.ssh.port;
    j["user"] = host.ssh.user;
    j["key"] = host.ssh.key.string();
    j["cosmos_dir"] = host.cosmos_dir.string();
    j["checkpoint_dir"] = host.checkpoint_dir.string();
    j["work_dir"] = host.work_dir.string();
    j["torchrun"] = host.torchrun;
    j["image"] = host.container.image;
    j["shm_size"] = host.container.shm_size;
    if (host.kind == core::HostKind::slurm) {
        j["partition"] = host.slurm.partition;
        j["account"] = host.slurm.account;
        j["time_limit"] = host.slurm.time_limit;
        j["max_in_flight"] = host.slurm.max_in_flight;
        j["cpus_per_task"] = host.slurm.cpus_per_task;
    }
    if (host.serves()) {
        const auto& sv = host.server;
        nlohmann::ordered_json server = {{"protocol", sv.protocol},
                                         {"role", sv.role},
                                         {"model", sv.model},
                                         {"max_concurrent", sv.max_concurrent}};
        if (host.kind == core::HostKind::http) {
            server["url"] = sv.url;
            server["api_key_file"] = sv.api_key_file.string();  // the path, never the key
            if (!sv.ca_file.empty()) {
                server["ca_file"] = sv.ca_file.string();
            }
        } else {
            server["managed"] = true;
            server["idle_stop_s"] = sv.idle_stop_s;
            server["command"] = sv.command;
        }
        j["server"] = server;
    }
    j["env"] = env;
    j["origin"] = host_origin(host);
    return j;
}

}  // namespace cosmos::services
