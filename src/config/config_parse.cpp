// parse_config: walks the TOML document with toml++ (one of the two files that include it; the
// other is templates.cpp) and fills a Config, naming FILE:LINE in every error.

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>

#include "config/alert_checks.hpp"
#include "config/config.hpp"
#include "config/config_detail.hpp"
#include "config/host_checks.hpp"
#include "config/toml_detail.hpp"
#include "core/names.hpp"
#include "core/redact.hpp"
#include "model/run_params.hpp"

namespace cosmos::config {

namespace fs = std::filesystem;
using core::Status;

namespace {

using detail::line_of;
using detail::parse_toml;
using detail::type_name;

// One key a table may hold and how to read its value.
struct Field {
    std::string_view key;
    std::function<Status(const toml::node&)> read;
};

// Reads typed values out of nodes of one file; every error names the file and the line.
class Reader {
public:
    Reader(fs::path file, fs::path base_dir)
        : m_file(std::move(file)), m_base_dir(std::move(base_dir)) {}

    // Reads the keys of `table` in file order with the matching field; fails on unknown keys.
    Status read_fields(const toml::table& table,
                       std::string_view section,
                       const std::vector<Field>& fields) const {
        std::vector<std::pair<const toml::key*, const toml::node*>> entries;
        for (auto&& [key, node] : table) {
            entries.emplace_back(&key, &node);
        }
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return line_of(*a.first, *a.second) < line_of(*b.first, *b.second);
        });
        for (const auto& entry : entries) {
            const toml::key* key = entry.first;  // not a structured binding: lambdas capture it
            const toml::node* node = entry.second;
            auto field = std::find_if(
                fields.begin(), fields.end(), [&](const Field& f) { return f.key == key->str(); });
            if (field == fields.end()) {
                std::vector<std::string> valid;
                for (const auto& f : fields) {
                    valid.emplace_back(f.key);
                }
                return detail::unknown_key_error(
                    m_file, line_of(*key, *node), key->str(), section, valid);
            }
            if (auto s = field->read(*node); !s) {
                return s;
            }
        }
        return {};
    }

    // A string, an integer (std::int64_t) or a boolean, without conversions.
    template <class T>
    core::Result<T> exact(const toml::node& n,
                          std::string_view section,
                          std::string_view key) const {
        if (auto v = n.value_exact<T>()) {
            return *v;
        }
        constexpr std::string_view expected = std::is_same_v<T, std::string> ? "a string"
                                              : std::is_same_v<T, bool>      ? "a boolean"
                                                                             : "an integer";
        return wrong_type(n, section, key, expected);
    }

    // A float or an integer.
    core::Result<double> number_of(const toml::node& n,
                                   std::string_view section,
                                   std::string_view key) const {
        if (const auto* v = n.as_floating_point()) {
            return v->get();
        }
        if (const auto* v = n.as_integer()) {
            return static_cast<double>(v->get());
        }
        return wrong_type(n, section, key, "a number");
    }

    core::Result<const toml::table*> table_of(const toml::node& n,
                                              std::string_view section,
                                              std::string_view key) const {
        if (const auto* t = n.as_table()) {
            return t;
        }
        return wrong_type(n, section, key, "a table");
    }

    core::Result<std::vector<std::string>> strings_of(const toml::node& n,
                                                      std::string_view section,
                                                      std::string_view key) const {
        const auto* array = n.as_array();
        if (array == nullptr) {
            return wrong_type(n, section, key, "an array of strings");
        }
        std::vector<std::string> out;
        for (const auto& item : *array) {
            const auto* s = item.as_string();
            if (s == nullptr) {
                return detail::wrong_type_error(
                    m_file,
                    line_of(item),
                    section,
                    key,
                    "an array of strings",
                    fmt::format("an array holding a {}", type_name(item)));
            }
            out.push_back(s->get());
        }
        return out;
    }

    // Returns `s` with its message prefixed by FILE:LINE and, when not empty, `context`.
    Status checked(int line, std::string_view context, Status s) const {
        if (s) {
            return s;
        }
        std::string message =
            context.empty() ? s.error().message : fmt::format("{}: {}", context, s.error().message);
        return detail::config_error(m_file, line, message, s.error().hint);
    }

    fs::path path_of(const std::string& raw) const { return detail::resolve_path(raw, m_base_dir); }
    const fs::path& file() const { return m_file; }
    const fs::path& base_dir() const { return m_base_dir; }

private:
    core::Unexpected wrong_type(const toml::node& n,
                                std::string_view section,
                                std::string_view key,
                                std::string_view expected) const {
        return detail::wrong_type_error(m_file, line_of(n), section, key, expected, type_name(n));
    }

    fs::path m_file;
    fs::path m_base_dir;
};

template <class T>
Field integer_field(const Reader& r,
                    std::string_view section,
                    std::string_view key,
                    Status (*check)(std::int64_t),
                    T& out) {
    return {key, [&r, section, key, check, &out](const toml::node& n) -> Status {
                COSMOS_TRY(std::int64_t v, r.exact<std::int64_t>(n, section, key));
                std::string context = fmt::format("{} {}", section, key);
                if (auto s = r.checked(line_of(n), context, check(v)); !s) {
                    return s;
                }
                out = static_cast<T>(v);
                return {};
            }};
}

Field number_field(const Reader& r,
                   std::string_view section,
                   std::string_view key,
                   Status (*check)(double),
                   double& out) {
    return {key, [&r, section, key, check, &out](const toml::node& n) -> Status {
                COSMOS_TRY(double v, r.number_of(n, section, key));
                std::string context = fmt::format("{} {}", section, key);
                if (auto s = r.checked(line_of(n), context, check(v)); !s) {
                    return s;
                }
                out = v;
                return {};
            }};
}

// A string field; `check` (may be null) receives "[section] key" and the value.
Field string_field(const Reader& r,
                   std::string_view section,
                   std::string_view key,
                   Status (*check)(std::string_view, std::string_view),
                   std::string& out) {
    return {key, [&r, section, key, check, &out](const toml::node& n) -> Status {
                COSMOS_TRY(std::string v, r.exact<std::string>(n, section, key));
                if (check != nullptr) {
                    std::string label = fmt::format("{} {}", section, key);
                    if (auto s = r.checked(line_of(n), "", check(label, v)); !s) {
                        return s;
                    }
                }
                out = std::move(v);
                return {};
            }};
}

// A field naming a kind (host kind, runtime): its string is checked by `check` (which names the
// allowed values) and stored as the enum `parse` gives.
template <class Kind>
Field kind_field(const Reader& r,
                 std::string_view section,
                 std::string_view key,
                 Status (*check)(std::string_view, std::string_view),
                 std::optional<Kind> (*parse)(std::string_view),
                 Kind& out) {
    return {key, [&r, section, key, check, parse, &out](const toml::node& n) -> Status {
                COSMOS_TRY(std::string v, r.exact<std::string>(n, section, key));
                std::string label = fmt::format("{} {}", section, key);
                if (auto s = r.checked(line_of(n), "", check(label, v)); !s) {
                    return s;
                }
                out = *parse(v);
                return {};
            }};
}

// A path field, kept as written; the caller resolves it once the host's kind is known.
Field path_field(const Reader& r, std::string_view section, std::string_view key, fs::path& out) {
    return {key, [&r, section, key, &out](const toml::node& n) -> Status {
                COSMOS_TRY(std::string v, r.exact<std::string>(n, section, key));
                out = v;
                return {};
            }};
}

Status read_weights(const Reader& r, const toml::node& n, RunDefaults& run) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, "[run]", "weights"));
    std::map<std::string, double> weights;
    for (auto&& [key, value] : *table) {
        COSMOS_TRY(double w, r.number_of(value, "[run.weights]", key.str()));
        std::string context = fmt::format("[run.weights] {}", key.str());
        if (auto s = r.checked(line_of(key, value), context, model::check_weight(key.str(), w));
            !s) {
            return s;
        }
        weights[std::string(key.str())] = w;
    }
    run.weights = std::move(weights);  // the table replaces the default weights as a whole
    return {};
}

Status read_offload(const Reader& r, const toml::node& n, RunDefaults& run) {
    COSMOS_TRY(std::vector<std::string> names, r.strings_of(n, "[run]", "offload"));
    const auto* array = n.as_array();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (auto s =
                r.checked(line_of(*array->get(i)), "[run] offload", model::check_offload(names[i]));
            !s) {
            return s;
        }
    }
    run.offload = std::move(names);
    return {};
}

Status read_run(const Reader& r,
                const toml::table& table,
                RunDefaults& run,
                detail::FileFacts& facts) {
    constexpr std::string_view s = "[run]";
    std::vector<Field> fields = {
        integer_field(r, s, "num_steps", model::check_num_steps, run.num_steps),
        number_field(r, s, "guidance", model::check_guidance, run.guidance),
        number_field(r, s, "sigma_max", model::check_sigma_max, run.sigma_max),
        integer_field(r, s, "fps", model::check_fps, run.fps),
        integer_field(r, s, "seed", model::check_seed, run.seed),
        string_field(r, s, "blur_strength", model::check_strength, run.blur_strength),
        string_field(r, s, "canny_threshold", model::check_strength, run.canny_threshold),
        string_field(r, s, "negative_prompt", nullptr, run.negative_prompt),
        integer_field(r, s, "num_gpus", model::check_num_gpus, run.num_gpus),
        {"offload", [&](const toml::node& n) { return read_offload(r, n, run); }},
        {"host",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(run.host, r.exact<std::string>(n, s, "host"));
             facts.run_host_line = std::max(line_of(n), 1);
             return {};
         }},
        {"weights", [&](const toml::node& n) { return read_weights(r, n, run); }},
        {"model",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(auto name, r.exact<std::string>(n, s, "model"));
             auto family = model::parse_family(name);
             if (!family) {
                 return r.checked(line_of(n),
                                  "[run] model",
                                  core::fail(core::ErrorCode::invalid_input,
                                             fmt::format("unknown model '{}': transfer1 or "
                                                         "transfer2.5",
                                                         name)));
             }
             run.model = *family;
             return {};
         }},
    };
    return r.read_fields(table, s, fields);
}

Status read_checkouts(const Reader& r,
                      const toml::node& n,
                      const std::string& section,
                      HostConfig& host) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, section, "checkouts"));
    std::string sub = fmt::format("[hosts.{}.checkouts]", host.name);
    for (auto&& [key, value] : *table) {
        auto family = model::parse_family(key.str());
        if (!family) {
            return detail::config_error(r.file(),
                                        line_of(key, value),
                                        fmt::format("{} '{}' is not a model", sub, key.str()),
                                        "models: transfer1, transfer2.5");
        }
        COSMOS_TRY(std::string v, r.exact<std::string>(value, sub, key.str()));
        if (v.empty()) {
            return detail::config_error(
                r.file(), line_of(key, value), fmt::format("{} '{}' is empty", sub, key.str()));
        }
        host.checkouts[*family] = v;
    }
    return {};
}

Status read_env(const Reader& r,
                const toml::node& n,
                const std::string& section,
                HostConfig& host) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, section, "env"));
    std::string env_section = fmt::format("[hosts.{}.env]", host.name);
    for (auto&& [key, value] : *table) {
        if (!detail::is_env_name(key.str())) {
            return detail::config_error(
                r.file(),
                line_of(key, value),
                fmt::format(
                    "{} '{}' is not a valid environment variable name", env_section, key.str()),
                "use letters, digits and '_', not starting with a digit");
        }
        COSMOS_TRY(std::string v, r.exact<std::string>(value, env_section, key.str()));
        if (detail::is_secret_env_name(key.str())) {
            core::register_secret(v);
        }
        host.env[std::string(key.str())] = std::move(v);
    }
    return {};
}

// [hosts.NAME.serve]: cosmos runs a model server on this (ssh) host.
Status read_serve(const Reader& r, const toml::node& n, const std::string& section, HostConfig& h) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, section, "serve"));
    const std::string sub = fmt::format("[hosts.{}.serve]", h.name);
    ServerSettings& s = h.server;
    s.enabled = true;
    std::vector<Field> fields = {
        string_field(r, sub, "model", check_not_empty, s.model),
        string_field(r, sub, "protocol", check_protocol, s.protocol),
        string_field(r, sub, "role", check_role, s.role),
        {"command",
         [&](const toml::node& v) -> Status {
             COSMOS_TRY(s.command, r.strings_of(v, sub, "command"));
             if (s.command.empty()) {
                 return detail::config_error(r.file(),
                                             line_of(v),
                                             fmt::format("{} command is empty", sub),
                                             "remove it to use the protocol's default command");
             }
             return {};
         }},
        integer_field(r, sub, "max_concurrent", check_max_concurrent, s.max_concurrent),
        integer_field(r, sub, "idle_stop_s", check_idle_seconds, s.idle_stop_s),
        integer_field(r, sub, "startup_timeout_s", check_startup_timeout, s.startup_timeout_s),
    };
    return r.read_fields(*table, sub, fields);
}

core::Result<HostConfig> read_host(const Reader& r,
                                   const toml::key& name,
                                   const toml::node& node,
                                   const std::string& default_image) {
    const std::string section = fmt::format("[hosts.{}]", name.str());
    std::string context = fmt::format("host name '{}'", name.str());
    if (auto s = r.checked(line_of(name, node), context, core::validate_name(name.str())); !s) {
        return core::fail(std::move(s).error());
    }
    COSMOS_TRY(const toml::table* table, r.table_of(node, "[hosts]", name.str()));
    HostConfig h;
    h.name = std::string(name.str());
    h.line = line_of(node) > 0 ? line_of(node) : std::max(line_of(name, node), 1);
    std::vector<Field> fields = {
        kind_field(r, section, "kind", check_kind, core::parse_host_kind, h.kind),
        kind_field(r, section, "runtime", check_runtime, core::parse_runtime_kind, h.runtime),
        integer_field(r, section, "gpus", check_gpus, h.gpus),
        path_field(r, section, "cosmos_dir", h.cosmos_dir),
        path_field(r, section, "checkpoint_dir", h.checkpoint_dir),
        path_field(r, section, "work_dir", h.work_dir),
        string_field(r, section, "torchrun", check_not_empty, h.torchrun),
        {"env", [&](const toml::node& n) { return read_env(r, n, section, h); }},
        {"checkouts", [&](const toml::node& n) { return read_checkouts(r, n, section, h); }},
        {"serve", [&](const toml::node& n) { return read_serve(r, n, section, h); }},
        string_field(r, section, "url", check_server_url, h.server.url),
        path_field(r, section, "api_key_file", h.server.api_key_file),
        path_field(r, section, "ca_file", h.server.ca_file),
        string_field(r, section, "protocol", check_protocol, h.server.protocol),
        string_field(r, section, "role", check_role, h.server.role),
        string_field(r, section, "model", check_not_empty, h.server.model),
        integer_field(r, section, "max_concurrent", check_max_concurrent, h.server.max_concurrent),
        string_field(r, section, "address", check_address, h.ssh.address),
        integer_field(r, section, "port", check_port, h.ssh.port),
        string_field(r, section, "user", check_user, h.ssh.user),
        path_field(r, section, "key", h.ssh.key),
        string_field(r, section, "image", check_image, h.container.image),
        string_field(r, section, "shm_size", check_shm_size, h.container.shm_size),
        string_field(r, section, "docker", check_not_empty, h.container.docker),
        string_field(r, section, "docker_gpus", nullptr, h.container.docker_gpus),
        {"docker_args",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(h.container.docker_args, r.strings_of(n, section, "docker_args"));
             return {};
         }},
        path_field(r, section, "shared_dir", h.work_dir),
        string_field(r, section, "partition", check_slurm_name, h.slurm.partition),
        string_field(r, section, "account", check_slurm_name, h.slurm.account),
        string_field(r, section, "time_limit", check_slurm_time, h.slurm.time_limit),
        integer_field(r, section, "max_in_flight", check_max_in_flight, h.slurm.max_in_flight),
        integer_field(r, section, "cpus_per_task", check_cpus_per_task, h.slurm.cpus_per_task),
        {"emulated",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(h.emulated, r.exact<bool>(n, section, "emulated"));
             return {};
         }},
        {"require_verified",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(h.require_verified, r.exact<bool>(n, section, "require_verified"));
             return {};
         }},
        integer_field(r, section, "idle_stop_after", check_idle_stop, h.idle_stop_after_s),
        integer_field(r, section, "gpu_sample_every", check_gpu_sample_every, h.gpu_sample_every_s),
        {"stop_command",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(h.stop_command, r.strings_of(n, section, "stop_command"));
             return {};
         }},
        {"start_command",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(h.start_command, r.strings_of(n, section, "start_command"));
             return {};
         }},
        {"price_per_gpu_hour",
         [&](const toml::node& n) -> Status {
             double price = 0;
             COSMOS_CHECK(
                 number_field(r, section, "price_per_gpu_hour", check_price, price).read(n));
             h.price_per_gpu_hour = price;
             return {};
         }},
    };
    if (auto s = r.read_fields(*table, section, fields); !s) {
        return core::fail(std::move(s).error());
    }
    if (h.container.image.empty() && h.runtime == core::RuntimeKind::docker) {
        h.container.image = default_image;
    }
    if (h.idle_stop_after_s > 0 && h.stop_command.empty()) {
        return core::fail(core::ErrorCode::config,
                          fmt::format("{}:{}: {} sets idle_stop_after but no stop_command",
                                      r.file().string(),
                                      h.line,
                                      section),
                          "add stop_command = [\"your-cloud-cli\", \"stop\", \"...\"], or remove "
                          "idle_stop_after");
    }
    if (auto s = finish_host(h, r.file(), r.base_dir()); !s) {
        return core::fail(std::move(s).error());
    }
    return h;
}

Status read_hosts(const Reader& r, const toml::node& n, Config& config, detail::FileFacts& facts) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, "the top level", "hosts"));
    for (auto&& [name, node] : *table) {
        COSMOS_TRY(HostConfig host, read_host(r, name, node, config.docker.image));
        config.hosts[host.name] = std::move(host);
    }
    facts.hosts_given = !config.hosts.empty();
    return {};
}

// Wraps each field so that the keys the table set are recorded in `keys` (alert rules and sinks
// refuse keys that do not apply to their condition or kind once it is known).
std::vector<Field> recording(std::vector<Field> fields, std::vector<std::string>& keys) {
    for (auto& f : fields) {
        f.read = [read = std::move(f.read), key = f.key, &keys](const toml::node& n) -> Status {
            keys.emplace_back(key);
            return read(n);
        };
    }
    return fields;
}

// One [[alerts]] table.
Status read_alert_rule(const Reader& r, const toml::node& n, Config& config) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, "the top level", "alerts"));
    constexpr std::string_view s = "[[alerts]]";
    AlertRule rule;
    rule.line = std::max(line_of(n), 1);
    std::int64_t probe_every = rule.probe_every_s;
    std::vector<Field> fields = {
        string_field(r, s, "name", check_alert_name, rule.name),
        {"when",
         [&](const toml::node& v) -> Status {
             std::string name;
             COSMOS_CHECK(string_field(r, s, "when", check_alert_condition, name).read(v));
             rule.when = *parse_alert_condition(name);
             return {};
         }},
        number_field(r, s, "for_minutes", check_for_minutes, rule.for_minutes),
        {"hosts",
         [&](const toml::node& v) -> Status {
             COSMOS_TRY(rule.hosts, r.strings_of(v, s, "hosts"));
             return {};
         }},
        number_field(r, s, "min_free_gb", check_min_free_gb, rule.min_free_gb),
        number_field(r, s, "below_percent", check_below_percent, rule.below_percent),
        integer_field(r, s, "probe_every", check_probe_every, probe_every),
        {"sinks",
         [&](const toml::node& v) -> Status {
             COSMOS_TRY(rule.sinks, r.strings_of(v, s, "sinks"));
             return {};
         }},
    };
    COSMOS_CHECK(r.read_fields(*table, s, recording(std::move(fields), rule.keys)));
    rule.probe_every_s = static_cast<int>(probe_every);
    config.alerts.push_back(std::move(rule));
    return {};
}

Status read_alerts(const Reader& r, const toml::node& n, Config& config) {
    const auto* array = n.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
        return detail::wrong_type_error(r.file(),
                                        line_of(n),
                                        "the top level",
                                        "alerts",
                                        "an array of tables ([[alerts]])",
                                        type_name(n));
    }
    for (const auto& item : *array) {
        COSMOS_CHECK(read_alert_rule(r, item, config));
    }
    return {};
}

// [alert_sinks.NAME] tables.
Status read_alert_sinks(const Reader& r, const toml::node& n, Config& config) {
    COSMOS_TRY(const toml::table* table, r.table_of(n, "the top level", "alert_sinks"));
    for (auto&& [name, node] : *table) {
        std::string context = fmt::format("alert sink name '{}'", name.str());
        COSMOS_CHECK(r.checked(line_of(name, node), "", check_alert_name(context, name.str())));
        COSMOS_TRY(const toml::table* t, r.table_of(node, "[alert_sinks]", name.str()));
        const std::string s = fmt::format("[alert_sinks.{}]", name.str());
        AlertSink sink;
        sink.name = std::string(name.str());
        sink.line = line_of(node) > 0 ? line_of(node) : std::max(line_of(name, node), 1);
        std::int64_t timeout = sink.timeout_s, attempts = sink.max_attempts,
                     retry = sink.retry_after_s;
        std::vector<Field> fields = {
            {"kind",
             [&](const toml::node& v) -> Status {
                 std::string kind;
                 COSMOS_CHECK(string_field(r, s, "kind", check_alert_sink_kind, kind).read(v));
                 sink.kind = *parse_alert_sink_kind(kind);
                 return {};
             }},
            string_field(r, s, "url", check_alert_url, sink.url),
            path_field(r, s, "url_file", sink.url_file),
            path_field(r, s, "ca_file", sink.ca_file),
            {"argv",
             [&](const toml::node& v) -> Status {
                 COSMOS_TRY(sink.argv, r.strings_of(v, s, "argv"));
                 return {};
             }},
            integer_field(r, s, "timeout", check_sink_timeout, timeout),
            integer_field(r, s, "max_attempts", check_max_attempts, attempts),
            integer_field(r, s, "retry_after", check_retry_after, retry),
        };
        COSMOS_CHECK(r.read_fields(*t, s, recording(std::move(fields), sink.keys)));
        sink.timeout_s = static_cast<int>(timeout);
        sink.max_attempts = static_cast<int>(attempts);
        sink.retry_after_s = static_cast<int>(retry);
        config.alert_sinks[sink.name] = std::move(sink);
    }
    return {};
}

Status read_document(const Reader& r,
                     const toml::table& root,
                     Config& config,
                     detail::FileFacts& facts) {
    // [docker] first: its image is the default of the [hosts.*] tables, wherever it appears.
    if (const auto* docker = root.get("docker")) {
        COSMOS_TRY(const toml::table* t, r.table_of(*docker, "the top level", "docker"));
        if (auto s = r.read_fields(
                *t,
                "[docker]",
                {string_field(r, "[docker]", "image", check_image, config.docker.image)});
            !s) {
            return s;
        }
    }
    std::vector<Field> fields = {
        {"docker", [](const toml::node&) -> Status { return {}; }},
        {"huggingface",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(const toml::table* t, r.table_of(n, "the top level", "huggingface"));
             return r.read_fields(
                 *t, "[huggingface]", {{"token_file", [&](const toml::node& v) -> Status {
                                            COSMOS_TRY(std::string raw,
                                                       r.exact<std::string>(
                                                           v, "[huggingface]", "token_file"));
                                            config.huggingface.token_file = r.path_of(raw);
                                            return {};
                                        }}});
         }},
        {"paths",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(const toml::table* paths, r.table_of(n, "the top level", "paths"));
             return r.read_fields(*paths,
                                  "[paths]",
                                  {{"data_dir", [&](const toml::node& v) -> Status {
                                        COSMOS_TRY(std::string raw,
                                                   r.exact<std::string>(v, "[paths]", "data_dir"));
                                        config.paths.data_dir = r.path_of(raw);
                                        facts.data_dir_set = true;
                                        return {};
                                    }}});
         }},
        {"run",
         [&](const toml::node& n) -> Status {
             COSMOS_TRY(const toml::table* run, r.table_of(n, "the top level", "run"));
             return read_run(r, *run, config.run, facts);
         }},
        {"hosts", [&](const toml::node& n) { return read_hosts(r, n, config, facts); }},
        {"alerts", [&](const toml::node& n) { return read_alerts(r, n, config); }},
        {"alert_sinks", [&](const toml::node& n) { return read_alert_sinks(r, n, config); }},
    };
    return r.read_fields(root, "the top level", fields);
}

}  // namespace

namespace {

fs::path base_dir_of(const fs::path& path) {
    std::error_code ec;
    if (!path.empty()) {
        return fs::absolute(path, ec).parent_path();
    }
    fs::path cwd = fs::current_path(ec);
    return ec ? fs::path("/") : cwd;
}

}  // namespace

core::Result<Config> parse_config(const std::string& text,
                                  const fs::path& path,
                                  const std::map<std::string, HostConfig>& managed) {
    COSMOS_TRY(toml::table root, parse_toml(text, path));
    Config config;
    config.source = path;
    detail::FileFacts facts;
    Reader reader(path, base_dir_of(path));
    if (auto s = read_document(reader, root, config, facts); !s) {
        return core::fail(std::move(s).error());
    }
    if (auto s = detail::finish_config(config, facts, managed); !s) {
        return core::fail(std::move(s).error());
    }
    if (auto s = finish_alerts(config, path, reader.base_dir()); !s) {
        return core::fail(std::move(s).error());
    }
    return config;
}

core::Result<std::map<std::string, HostConfig>> parse_hosts_file(const std::string& text,
                                                                 const fs::path& path) {
    COSMOS_TRY(toml::table root, parse_toml(text, path));
    Config config;
    detail::FileFacts facts;
    Reader reader(path, base_dir_of(path));
    std::vector<Field> fields = {
        {"hosts", [&](const toml::node& n) { return read_hosts(reader, n, config, facts); }}};
    if (auto s = reader.read_fields(root, "the hosts file", fields); !s) {
        return core::fail(std::move(s).error());
    }
    for (auto& [name, host] : config.hosts) {
        host.managed = true;
    }
    return config.hosts;
}

}  // namespace cosmos::config
