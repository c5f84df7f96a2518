#include "config/host_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/config_detail.hpp"

namespace cosmos::config {

using core::ErrorCode;
using core::fail;
using core::Status;
namespace fs = std::filesystem;

namespace {

bool is_one_of(std::string_view v, std::initializer_list<std::string_view> choices) {
    for (auto c : choices) {
        if (c == v) {
            return true;
        }
    }
    return false;
}

// Fails unless every character of `v` is alphanumeric or in `extra`, and `v` does not start
// with '-' (it would read as an option of ssh or docker).
Status check_chars(std::string_view key, std::string_view v, std::string_view extra) {
    if (v.empty()) {
        return fail(ErrorCode::invalid_input, fmt::format("{} must not be empty", key));
    }
    if (v.front() == '-') {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' must not start with '-'", key, v));
    }
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        if (u > 127 || (std::isalnum(u) == 0 && extra.find(c) == std::string_view::npos)) {
            std::string shown =
                std::isprint(u) != 0 ? std::string(1, c) : fmt::format("\\x{:02x}", u);
            return fail(
                ErrorCode::invalid_input,
                fmt::format("{} contains the character '{}', which is not allowed", key, shown));
        }
    }
    return {};
}

}  // namespace

Status check_kind(std::string_view key, std::string_view v) {
    if (!is_one_of(v, {"local", "ssh", "slurm", "http"})) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not one of local, ssh, slurm, http", key, v));
    }
    return {};
}

Status check_runtime(std::string_view key, std::string_view v) {
    if (!is_one_of(v, {"native", "docker", "apptainer"})) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not one of native, docker, apptainer", key, v));
    }
    return {};
}

Status check_gpus(std::int64_t v) {
    if (v < 1 || v > 1024) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("gpus {} is out of range 1-1024 (GPUs the host offers)", v));
    }
    return {};
}

Status check_price(double v) {
    if (!std::isfinite(v) || v < 0 || v > 100000) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("price_per_gpu_hour {} is out of range 0-100000 (what one GPU "
                                "costs per hour)",
                                v));
    }
    return {};
}

Status check_gpu_sample_every(std::int64_t v) {
    if (v < 0 || v > 3600) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("gpu_sample_every {} is out of range 0-3600 (seconds between GPU "
                                "samples while the host has work; 0: none)",
                                v));
    }
    return {};
}

Status check_idle_stop(std::int64_t v) {
    if (v < 1 || v > 30 * 24 * 3600) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("idle_stop_after {} is out of range 1-2592000 (seconds without "
                                "work before stop_command runs)",
                                v));
    }
    return {};
}

Status check_port(std::int64_t v) {
    if (v < 1 || v > 65535) {
        return fail(ErrorCode::invalid_input, fmt::format("port {} is out of range 1-65535", v));
    }
    return {};
}

Status check_not_empty(std::string_view key, std::string_view v) {
    if (v.empty()) {
        return fail(ErrorCode::invalid_input, fmt::format("{} must not be empty", key));
    }
    return {};
}

Status check_address(std::string_view key, std::string_view v) {
    return check_chars(key, v, ".-_:[]%");
}

Status check_user(std::string_view key, std::string_view v) {
    return check_chars(key, v, "._-");
}

Status check_image(std::string_view key, std::string_view v) {
    return check_chars(key, v, "._-/:@+~");
}

Status check_shm_size(std::string_view key, std::string_view v) {
    std::size_t digits = 0;
    while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits])) != 0) {
        ++digits;
    }
    std::string_view unit = v.substr(digits);
    if (digits == 0 ||
        (!unit.empty() && (unit.size() != 1 ||
                           std::string_view("bkmgBKMG").find(unit[0]) == std::string_view::npos))) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not a size like 8g, 512m or 1073741824", key, v));
    }
    return {};
}

Status check_slurm_name(std::string_view key, std::string_view v) {
    if (v.empty()) {
        return fail(ErrorCode::invalid_input, fmt::format("{} must not be empty", key));
    }
    if (v.front() == '-') {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' must not start with '-'", key, v));
    }
    return check_chars(key, v, "._-");
}

Status check_slurm_time(std::string_view key, std::string_view v) {
    bool ok = !v.empty() && std::isdigit(static_cast<unsigned char>(v.front())) != 0;
    for (char c : v) {
        ok = ok && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '-');
    }
    if (!ok) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("{} '{}' is not a Slurm time like 30, 4:00:00 or 1-00:00:00", key, v));
    }
    return {};
}

Status check_max_in_flight(std::int64_t v) {
    if (v < 1 || v > 10000) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("max_in_flight {} is out of range 1-10000 (Slurm jobs submitted at once)",
                        v));
    }
    return {};
}

Status check_cpus_per_task(std::int64_t v) {
    if (v < 1 || v > 4096) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("cpus_per_task {} is out of range 1-4096", v));
    }
    return {};
}

Status check_server_url(std::string_view key, std::string_view v) {
    // http:// (a trusted network, loopback, a tunnel) or https:// (the server's certificate is
    // verified; docs/serving.md).
    std::string_view rest;
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (v.substr(0, scheme.size()) == scheme) {
            rest = v.substr(scheme.size());
        }
    }
    while (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    bool ok = !rest.empty() && rest.find_first_of("/?#@ \t") == std::string_view::npos;
    if (!ok) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not an http(s)://HOST[:PORT] address", key, v),
                    "e.g. url = \"http://10.0.0.5:8000\" (no path: cosmos adds /v1/...)");
    }
    return check_chars(key, rest, ".-:[]");
}

Status check_protocol(std::string_view key, std::string_view v) {
    if (!is_one_of(v, {"vllm-omni", "sglang"})) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not one of vllm-omni, sglang", key, v));
    }
    return {};
}

Status check_role(std::string_view key, std::string_view v) {
    if (!is_one_of(v, {"generator", "reasoner"})) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not one of generator, reasoner", key, v));
    }
    return {};
}

Status check_max_concurrent(std::int64_t v) {
    if (v < 1 || v > 256) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("max_concurrent {} is out of range (1-256)", v));
    }
    return {};
}

Status check_idle_seconds(std::int64_t v) {
    if (v < 10 || v > 604800) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("idle_stop_s {} is out of range (10-604800, a week)", v));
    }
    return {};
}

Status check_startup_timeout(std::int64_t v) {
    if (v < 10 || v > 86400) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("startup_timeout_s {} is out of range (10-86400)", v));
    }
    return {};
}

namespace {

// The keys of a settings group that differ from their defaults, in config-file order.
std::vector<std::string> set_keys(const SshSettings& s) {
    const SshSettings d;
    std::vector<std::string> keys;
    for (auto [key, set] : {std::pair{"address", s.address != d.address},
                            std::pair{"port", s.port != d.port},
                            std::pair{"user", s.user != d.user},
                            std::pair{"key", s.key != d.key}}) {
        if (set) {
            keys.emplace_back(key);
        }
    }
    return keys;
}

// (`image` and the `docker` CLI belong to any host: `cosmos setup image` builds an image with
// them before the host switches runtime; apptainer uses `docker_gpus` as its --nv switch)
std::vector<std::string> set_keys(const ContainerSettings& s, bool apptainer) {
    const ContainerSettings d;
    std::vector<std::string> keys;
    for (auto [key, set] : {std::pair{"shm_size", s.shm_size != d.shm_size},
                            std::pair{"docker_gpus", !apptainer && s.docker_gpus != d.docker_gpus},
                            std::pair{"docker_args", s.docker_args != d.docker_args}}) {
        if (set) {
            keys.emplace_back(key);
        }
    }
    return keys;
}

std::vector<std::string> set_keys(const SlurmSettings& s) {
    const SlurmSettings d;
    std::vector<std::string> keys;
    for (auto [key, set] : {std::pair{"partition", s.partition != d.partition},
                            std::pair{"account", s.account != d.account},
                            std::pair{"time_limit", s.time_limit != d.time_limit},
                            std::pair{"max_in_flight", s.max_in_flight != d.max_in_flight},
                            std::pair{"cpus_per_task", s.cpus_per_task != d.cpus_per_task}}) {
        if (set) {
            keys.emplace_back(key);
        }
    }
    return keys;
}

std::vector<std::string> set_keys(const ServerSettings& s) {
    const ServerSettings d;
    std::vector<std::string> keys;
    for (auto [key, set] : {std::pair{"url", s.url != d.url},
                            std::pair{"api_key_file", s.api_key_file != d.api_key_file},
                            std::pair{"ca_file", s.ca_file != d.ca_file},
                            std::pair{"protocol", s.protocol != d.protocol},
                            std::pair{"role", s.role != d.role},
                            std::pair{"model", s.model != d.model},
                            std::pair{"max_concurrent", s.max_concurrent != d.max_concurrent}}) {
        if (set) {
            keys.emplace_back(key);
        }
    }
    return keys;
}

// Refuses settings that do not apply to the host's kind or runtime (a `partition` on an ssh
// host, an `image` on a native one): they would be ignored, and the user meant something else.
Status check_settings_apply(const HostConfig& host, const fs::path& file) {
    std::vector<std::string> stray;
    std::string owner;
    if (host.kind == core::HostKind::local) {
        stray = set_keys(host.ssh);
        owner = "ssh and slurm hosts";
    }
    if (stray.empty() && host.kind != core::HostKind::slurm) {
        stray = set_keys(host.slurm);
        owner = "slurm hosts";
    }
    if (stray.empty() && host.kind != core::HostKind::http && !host.server.enabled) {
        stray = set_keys(host.server);
        owner = "http hosts (or a [hosts.NAME.serve] table)";
    }
    if (stray.empty() && host.kind == core::HostKind::http) {
        stray = set_keys(host.ssh);
        owner = "ssh and slurm hosts";
    }
    if (stray.empty() && host.runtime != core::RuntimeKind::docker) {
        stray = set_keys(host.container, host.runtime == core::RuntimeKind::apptainer);
        bool both = std::all_of(
            stray.begin(), stray.end(), [](const std::string& k) { return k == "docker_gpus"; });
        owner = both ? "the docker and apptainer runtimes" : "the docker runtime";
    }
    if (stray.empty()) {
        return {};
    }
    return detail::config_error(
        file,
        host.line,
        fmt::format("[hosts.{}] ({} host, {} runtime) sets {}, which only {} use{}",
                    host.name,
                    host.kind,
                    host.runtime,
                    fmt::join(stray, ", "),
                    owner,
                    owner == "the docker runtime" ? "s" : ""),
        "remove it, or set the host's kind (local, ssh, slurm, http) or runtime (native, docker, "
        "apptainer) it was meant for");
}

}  // namespace

namespace {

Status finish_server(HostConfig& host, const fs::path& file, const fs::path& base_dir) {
    if (host.kind == core::HostKind::http) {
        if (host.server.url.empty()) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}] is an http host and needs url", host.name),
                "add url = \"http://HOST:PORT\" (the model server's address)");
        }
        if (host.runtime != core::RuntimeKind::native) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}] is an http host: cosmos runs nothing there, so it has no "
                            "runtime",
                            host.name),
                "remove runtime");
        }
        while (!host.server.url.empty() && host.server.url.back() == '/') {
            host.server.url.pop_back();
        }
    }
    if (host.server.enabled) {
        if (host.kind != core::HostKind::ssh && host.kind != core::HostKind::slurm) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}.serve]: cosmos runs model servers on ssh and slurm hosts "
                            "only (this is a {} host)",
                            host.name,
                            host.kind),
                "point an http host at a server you run yourself, or make the host an ssh or "
                "slurm host");
        }
        if (host.server.model.empty()) {
            host.server.model = "nvidia/Cosmos3-Nano";
        }
    }
    if (!host.server.api_key_file.empty()) {
        host.server.api_key_file =
            detail::resolve_path(host.server.api_key_file.string(), base_dir);
    }
    if (!host.server.ca_file.empty()) {
        if (host.server.url.rfind("https://", 0) != 0) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}] ca_file applies to https urls only", host.name),
                "remove ca_file, or use an https:// url");
        }
        host.server.ca_file = detail::resolve_path(host.server.ca_file.string(), base_dir);
    }
    return {};
}

}  // namespace

Status finish_host(HostConfig& host, const fs::path& file, const fs::path& base_dir) {
    COSMOS_CHECK(check_settings_apply(host, file));
    COSMOS_CHECK(finish_server(host, file, base_dir));
    if (host.kind == core::HostKind::ssh && (host.ssh.address.empty() || host.ssh.user.empty())) {
        std::string missing = host.ssh.address.empty() && host.ssh.user.empty() ? "address and user"
                              : host.ssh.address.empty()                        ? "address"
                                                                                : "user";
        return detail::config_error(
            file,
            host.line,
            fmt::format("[hosts.{}] is an ssh host and needs {}", host.name, missing),
            "add address = \"gpu1.example.com\" and user = \"me\" to the table");
    }
    if (host.kind == core::HostKind::slurm) {
        if (host.slurm.partition.empty() || host.work_dir.empty()) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}] is a slurm host and needs {}",
                            host.name,
                            host.slurm.partition.empty() && host.work_dir.empty()
                                ? "partition and shared_dir"
                            : host.slurm.partition.empty() ? "partition"
                                                           : "shared_dir"),
                "add partition = \"gpu\" and shared_dir = \"/shared/cosmos\" (a directory every "
                "compute node mounts) to the table");
        }
        if (!host.ssh.address.empty() && host.ssh.user.empty()) {
            return detail::config_error(
                file,
                host.line,
                fmt::format("[hosts.{}] reaches its login node over ssh and needs user", host.name),
                "add user = \"me\", or remove address to run sbatch on this machine");
        }
    }
    if (host.runtime != core::RuntimeKind::native && !host.checkouts.empty()) {
        return detail::config_error(
            file,
            host.line,
            fmt::format("[hosts.{}]: checkouts apply to the native runtime; a {} host runs the "
                        "model of its image",
                        host.name,
                        host.runtime),
            "add a host per model image instead");
    }
    if (host.runtime != core::RuntimeKind::native) {
        // Containers mount these paths: docker's -v and apptainer's --bind split on ':' (and
        // apptainer's lists on ',').
        bool apptainer = host.runtime == core::RuntimeKind::apptainer;
        for (const fs::path* p : {&host.cosmos_dir, &host.checkpoint_dir, &host.work_dir}) {
            if (p->string().find_first_of(apptainer ? ":," : ":") != std::string::npos) {
                return detail::config_error(
                    file,
                    host.line,
                    fmt::format("[hosts.{}]: the {} runtime cannot mount '{}' ({} in the path)",
                                host.name,
                                host.runtime,
                                p->string(),
                                apptainer ? "':' or ','" : "':'"),
                    "use a directory (or a symlink to it) whose path has neither");
            }
        }
    }
    if ((host.runtime == core::RuntimeKind::docker ||
         host.runtime == core::RuntimeKind::apptainer) &&
        host.container.image.empty()) {
        return detail::config_error(
            file,
            host.line,
            fmt::format("[hosts.{}] uses the {} runtime and needs image", host.name, host.runtime),
            "add image = \"...\" (a container image reference or .sif file)");
    }
    // Paths of remote hosts are remote paths, used as written; a slurm host without an address
    // is this machine (its login node), so its paths are local ones.
    if (host.kind == core::HostKind::local ||
        (host.kind == core::HostKind::slurm && host.ssh.address.empty())) {
        for (fs::path* p : {&host.cosmos_dir, &host.checkpoint_dir, &host.work_dir}) {
            if (!p->empty()) {
                *p = detail::resolve_path(p->string(), base_dir);
            }
        }
        for (auto& [family, p] : host.checkouts) {
            p = detail::resolve_path(p.string(), base_dir);
        }
    }
    if (!host.ssh.key.empty()) {  // the ssh key is always a local file
        host.ssh.key = detail::resolve_path(host.ssh.key.string(), base_dir);
    }
    return {};
}

}  // namespace cosmos::config
