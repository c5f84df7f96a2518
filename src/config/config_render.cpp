// render_config: the effective configuration as TOML that parse_config reads back.

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string_view>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "config/alert_checks.hpp"
#include "config/config.hpp"
#include "config/config_detail.hpp"
#include "core/redact.hpp"
#include "core/temp_name.hpp"

namespace cosmos::config {

namespace {

// A TOML basic string: "..." with quotes, backslashes and control characters escaped.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    out += fmt::format("\\u{:04x}", u);
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

// A key: bare when it only holds [A-Za-z0-9_-], quoted otherwise (host names may hold '.').
std::string key(std::string_view k) {
    bool bare = !k.empty();
    for (char c : k) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (u < 128 && std::isalnum(u) != 0) || c == '_' || c == '-';
        bare = bare && ok;
    }
    return bare ? std::string(k) : quote(k);
}

// A float that reads back as a float: "7.0", not "7".
std::string number(double v) {
    std::string s = fmt::format("{}", v);
    if (std::isfinite(v) && s.find_first_of(".eE") == std::string::npos) {
        s += ".0";
    }
    return s;
}

// A comment line's text: one line, whatever the path holds.
std::string comment(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c == '\n' || c == '\r') {
            c = '?';
        }
    }
    return out;
}

void line(std::string& out, std::string_view k, std::string_view value) {
    out += fmt::format("{} = {}\n", key(k), value);
}

void render_run(std::string& out, const RunDefaults& run) {
    out += "\n[run]\n";
    line(out, "num_steps", fmt::format("{}", run.num_steps));
    line(out, "guidance", number(run.guidance));
    line(out, "sigma_max", number(run.sigma_max));
    line(out, "fps", fmt::format("{}", run.fps));
    line(out, "seed", fmt::format("{}", run.seed));
    line(out, "blur_strength", quote(run.blur_strength));
    line(out, "canny_threshold", quote(run.canny_threshold));
    line(out, "negative_prompt", quote(run.negative_prompt));
    line(out, "num_gpus", fmt::format("{}", run.num_gpus));
    std::vector<std::string> offload;
    for (const auto& o : run.offload) {
        offload.push_back(quote(o));
    }
    line(out, "offload", fmt::format("[{}]", detail::join(offload)));
    line(out, "host", quote(run.host));
    if (run.model != model::Family::transfer1) {
        line(out, "model", quote(std::string(model::to_string(run.model))));
    }
    out += "\n[run.weights]\n";
    for (const auto& [modality, weight] : run.weights) {
        line(out, modality, number(weight));
    }
}

// An http host's server settings (the key file's path, never the key).
void render_http(std::string& out, const HostConfig& h) {
    if (h.kind != core::HostKind::http) {
        return;
    }
    const ServerSettings d;
    line(out, "url", quote(h.server.url));
    if (!h.server.api_key_file.empty()) {
        line(out, "api_key_file", quote(h.server.api_key_file.string()));
    }
    if (!h.server.ca_file.empty()) {
        line(out, "ca_file", quote(h.server.ca_file.string()));
    }
    line(out, "protocol", quote(h.server.protocol));
    if (h.server.role != d.role) {
        line(out, "role", quote(h.server.role));
    }
    if (!h.server.model.empty()) {
        line(out, "model", quote(h.server.model));
    }
    line(out, "max_concurrent", fmt::format("{}", h.server.max_concurrent));
}

// [hosts.NAME.serve]: the server cosmos runs on an ssh host.
void render_serve(std::string& out, const HostConfig& h) {
    if (!h.server.enabled) {
        return;
    }
    const ServerSettings& s = h.server;
    out += fmt::format("\n[hosts.{}.serve]\n", key(h.name));
    line(out, "model", quote(s.model));
    line(out, "protocol", quote(s.protocol));
    line(out, "role", quote(s.role));
    if (!s.command.empty()) {
        std::vector<std::string> argv;
        for (const auto& a : s.command) {
            argv.push_back(quote(a));
        }
        line(out, "command", fmt::format("[{}]", detail::join(argv)));
    }
    line(out, "max_concurrent", fmt::format("{}", s.max_concurrent));
    line(out, "idle_stop_s", fmt::format("{}", s.idle_stop_s));
    line(out, "startup_timeout_s", fmt::format("{}", s.startup_timeout_s));
}

void render_host(std::string& out, const HostConfig& h, bool redact_secrets) {
    const HostConfig defaults;
    out += fmt::format("\n[hosts.{}]\n", key(h.name));
    line(out, "kind", quote(core::to_string(h.kind)));
    line(out, "runtime", quote(core::to_string(h.runtime)));
    line(out, "gpus", fmt::format("{}", h.gpus));
    for (const auto& [k, p] : {std::pair{"cosmos_dir", &h.cosmos_dir},
                               std::pair{"checkpoint_dir", &h.checkpoint_dir},
                               std::pair{"work_dir", &h.work_dir}}) {
        if (!p->empty()) {
            line(out, k, quote(p->string()));
        }
    }
    line(out, "torchrun", quote(h.torchrun));
    // ssh and docker settings only where they differ from the defaults.
    for (const auto& [k, v, d] :
         {std::tuple{"address", &h.ssh.address, &defaults.ssh.address},
          std::tuple{"user", &h.ssh.user, &defaults.ssh.user},
          std::tuple{"image", &h.container.image, &defaults.container.image},
          std::tuple{"shm_size", &h.container.shm_size, &defaults.container.shm_size},
          std::tuple{"docker", &h.container.docker, &defaults.container.docker},
          std::tuple{"docker_gpus", &h.container.docker_gpus, &defaults.container.docker_gpus},
          std::tuple{"partition", &h.slurm.partition, &defaults.slurm.partition},
          std::tuple{"account", &h.slurm.account, &defaults.slurm.account},
          std::tuple{"time_limit", &h.slurm.time_limit, &defaults.slurm.time_limit}}) {
        if (*v != *d) {
            line(out, k, quote(*v));
        }
    }
    if (h.ssh.port != defaults.ssh.port || h.kind == core::HostKind::ssh) {
        line(out, "port", fmt::format("{}", h.ssh.port));
    }
    if (!h.ssh.key.empty()) {
        line(out, "key", quote(h.ssh.key.string()));
    }
    if (h.kind == core::HostKind::slurm) {
        line(out, "max_in_flight", fmt::format("{}", h.slurm.max_in_flight));
        if (h.slurm.cpus_per_task > 0) {
            line(out, "cpus_per_task", fmt::format("{}", h.slurm.cpus_per_task));
        }
    }
    if (!h.container.docker_args.empty()) {
        std::vector<std::string> args;
        for (const auto& a : h.container.docker_args) {
            args.push_back(quote(a));
        }
        line(out, "docker_args", fmt::format("[{}]", detail::join(args)));
    }
    render_http(out, h);
    if (h.emulated) {
        out += "emulated = true  # the emulator is installed into cosmos_dir automatically\n";
    }
    if (h.require_verified) {
        out += "require_verified = true\n";
    }
    if (h.gpu_sample_every_s != 5) {
        line(out, "gpu_sample_every", fmt::format("{}", h.gpu_sample_every_s));
    }
    if (h.idle_stop_after_s > 0) {
        line(out, "idle_stop_after", fmt::format("{}", h.idle_stop_after_s));
    }
    for (const auto& [key, argv] : {std::pair{"stop_command", &h.stop_command},
                                    std::pair{"start_command", &h.start_command}}) {
        if (!argv->empty()) {
            std::vector<std::string> args;
            for (const auto& a : *argv) {
                args.push_back(quote(a));
            }
            line(out, key, fmt::format("[{}]", detail::join(args)));
        }
    }
    if (h.price_per_gpu_hour) {
        line(out, "price_per_gpu_hour", fmt::format("{}", *h.price_per_gpu_hour));
    }
    if (!h.checkouts.empty()) {
        out += fmt::format("\n[hosts.{}.checkouts]\n", key(h.name));
        for (const auto& [family, path] : h.checkouts) {
            line(out, quote(std::string(model::to_string(family))), quote(path.string()));
        }
    }
    render_serve(out, h);
    if (!h.env.empty()) {
        out += fmt::format("\n[hosts.{}.env]\n", key(h.name));
        for (const auto& [name, value] : h.env) {
            bool hide = redact_secrets && detail::is_secret_env_name(name);
            line(out, name, hide ? quote("***") : quote(value));
        }
    }
}

// [alert_sinks.NAME] and [[alerts]] (docs/alerts.md); an inline url is shown only when it is on
// this machine (anything else may carry a token: url_file is the way to keep one).
void render_alerts(std::string& out, const Config& config) {
    for (const auto& [name, sink] : config.alert_sinks) {
        out += fmt::format("\n[alert_sinks.{}]\n", key(name));
        line(out, "kind", quote(alert_sink_kind_name(sink.kind)));
        if (!sink.url.empty()) {
            line(out, "url", quote(is_loopback_url(sink.url) ? sink.url : "***"));
        }
        if (!sink.url_file.empty()) {
            line(out, "url_file", quote(sink.url_file.string()));
        }
        if (!sink.ca_file.empty()) {
            line(out, "ca_file", quote(sink.ca_file.string()));
        }
        if (!sink.argv.empty()) {
            std::vector<std::string> argv;
            for (const auto& a : sink.argv) {
                argv.push_back(quote(a));
            }
            line(out, "argv", fmt::format("[{}]", detail::join(argv)));
        }
        line(out, "timeout", fmt::format("{}", sink.timeout_s));
        line(out, "max_attempts", fmt::format("{}", sink.max_attempts));
        line(out, "retry_after", fmt::format("{}", sink.retry_after_s));
    }
    for (const auto& rule : config.alerts) {
        out += "\n[[alerts]]\n";
        line(out, "name", quote(rule.name));
        line(out, "when", quote(alert_condition_name(rule.when)));
        for (auto k : alert_rule_keys(rule.when)) {
            if (k == "hosts" && !rule.hosts.empty()) {
                std::vector<std::string> hosts;
                for (const auto& h : rule.hosts) {
                    hosts.push_back(quote(h));
                }
                line(out, k, fmt::format("[{}]", detail::join(hosts)));
            } else if (k == "for_minutes") {
                line(out, k, number(rule.for_minutes));
            } else if (k == "min_free_gb") {
                line(out, k, number(rule.min_free_gb));
            } else if (k == "below_percent") {
                line(out, k, number(rule.below_percent));
            } else if (k == "probe_every") {
                line(out, k, fmt::format("{}", rule.probe_every_s));
            }
        }
        std::vector<std::string> sinks;
        for (const auto& s : rule.sinks) {
            sinks.push_back(quote(s));
        }
        line(out, "sinks", fmt::format("[{}]", detail::join(sinks)));
    }
}

}  // namespace

std::string render_config(const Config& config) {
    std::string out = "# Effective cosmos configuration (see docs/configuration.md).\n";
    if (config.source.empty()) {
        out += "# Source: embedded defaults (no config file found)\n";
    } else {
        out += fmt::format("# Source: {}\n", comment(config.source.string()));
    }
    out += fmt::format("# User templates: {}\n",
                       comment((config.paths.config_dir / "templates").string()));
    out += "# Secret values are shown as \"***\".\n";
    out += "\n[paths]\n";
    line(out, "data_dir", quote(config.paths.data_dir.string()));
    render_run(out, config.run);
    if (!config.docker.image.empty()) {
        out += "\n[docker]\n";
        line(out, "image", quote(config.docker.image));
    }
    if (!config.huggingface.token_file.empty()) {
        out += "\n[huggingface]\n";
        line(out, "token_file", quote(config.huggingface.token_file.string()));
    }
    for (const auto& [name, host] : config.hosts) {
        render_host(out, host, true);
    }
    render_alerts(out, config);
    return core::redact(out);
}

std::string render_hosts_file(const std::vector<HostConfig>& hosts) {
    std::string out =
        "# Hosts added with `cosmos hosts add` (docs/remote.md). cosmos rewrites this file on\n"
        "# `hosts add` and `hosts remove`; comments added by hand are not kept.\n";
    for (const auto& host : hosts) {
        render_host(out, host, false);
    }
    return out;
}

core::Status save_hosts_file(const std::filesystem::path& path,
                             const std::vector<HostConfig>& hosts) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
        return core::fail(
            core::ErrorCode::io,
            fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
    }
    std::filesystem::path tmp = core::temp_sibling(path.string());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    }
    std::string text = render_hosts_file(hosts);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return core::fail(core::ErrorCode::io,
                              fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)),
                              "check free disk space");
        }
        done += static_cast<std::size_t>(n);
    }
    bool ok = ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return core::fail(core::ErrorCode::io,
                          fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
    }
    return {};
}

}  // namespace cosmos::config
