// Checks of [[alerts]] and [alert_sinks.NAME] (alert_checks.hpp; docs/alerts.md).

#include "config/alert_checks.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "config/config_detail.hpp"

namespace cosmos::config {

using core::ErrorCode;
using core::fail;
using core::Status;
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::pair<AlertCondition, std::string_view>, 6> k_conditions = {{
    {AlertCondition::run_failed, "run_failed"},
    {AlertCondition::run_stuck, "run_stuck"},
    {AlertCondition::host_unreachable, "host_unreachable"},
    {AlertCondition::queue_stalled, "queue_stalled"},
    {AlertCondition::gpu_idle, "gpu_idle"},
    {AlertCondition::disk_low, "disk_low"},
}};

constexpr std::array<std::pair<AlertSinkKind, std::string_view>, 3> k_sink_kinds = {{
    {AlertSinkKind::webhook, "webhook"},
    {AlertSinkKind::slack, "slack"},
    {AlertSinkKind::command, "command"},
}};

Status range(bool ok, double v, std::string_view allowed) {
    if (ok) {
        return {};
    }
    return fail(ErrorCode::invalid_input, fmt::format("{} is out of range ({})", v, allowed));
}

bool has(const std::vector<std::string>& keys, std::string_view key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

std::vector<std::string_view> alert_rule_keys(AlertCondition c) {
    switch (c) {
        case AlertCondition::run_failed:
            return {"hosts"};
        case AlertCondition::run_stuck:
            return {"hosts", "for_minutes"};
        case AlertCondition::host_unreachable:
            return {"hosts", "for_minutes", "probe_every"};
        case AlertCondition::queue_stalled:
            return {"for_minutes"};
        case AlertCondition::gpu_idle:
            return {"hosts", "for_minutes", "below_percent"};
        case AlertCondition::disk_low:
            return {"hosts", "min_free_gb", "probe_every"};
    }
    return {};
}

namespace {

double default_for_minutes(AlertCondition c) {
    switch (c) {
        case AlertCondition::run_stuck:
        case AlertCondition::queue_stalled:
            return 30;
        case AlertCondition::gpu_idle:
            return 15;
        default:
            return 0;
    }
}

bool loopback_url(std::string_view url) {
    auto start = url.find("://");
    if (start == std::string_view::npos) {
        return false;
    }
    std::string_view rest = url.substr(start + 3);
    for (std::string_view host : {std::string_view("127."),
                                  std::string_view("localhost:"),
                                  std::string_view("localhost/"),
                                  std::string_view("[::1]")}) {
        if (rest.substr(0, host.size()) == host) {
            return true;
        }
    }
    return rest == "localhost";
}

Status finish_rule(AlertRule& rule, const Config& config, const fs::path& file) {
    const std::string section = fmt::format("[[alerts]] '{}'", rule.name);
    if (rule.name.empty()) {
        return detail::config_error(file, rule.line, "[[alerts]] needs a name", "name = \"...\"");
    }
    if (!has(rule.keys, "when")) {
        return detail::config_error(
            file,
            rule.line,
            fmt::format("{} needs `when`", section),
            "when = one of run_failed, run_stuck, host_unreachable, queue_stalled, gpu_idle, "
            "disk_low");
    }
    if (rule.sinks.empty()) {
        return detail::config_error(file,
                                    rule.line,
                                    fmt::format("{} needs sinks", section),
                                    "sinks = [\"NAME\"], naming [alert_sinks.NAME] tables");
    }
    auto allowed = alert_rule_keys(rule.when);
    for (const auto& key : rule.keys) {
        if (key == "name" || key == "when" || key == "sinks") {
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::vector<std::string> valid;
            for (auto k : allowed) {
                valid.emplace_back(k);
            }
            return detail::config_error(file,
                                        rule.line,
                                        fmt::format("{} sets {}, which does not apply to {}",
                                                    section,
                                                    key,
                                                    alert_condition_name(rule.when)),
                                        valid.empty() ? std::string("remove it")
                                                      : fmt::format("{} takes: {}",
                                                                    alert_condition_name(rule.when),
                                                                    detail::join(valid)));
        }
    }
    if (!has(rule.keys, "for_minutes")) {
        rule.for_minutes = default_for_minutes(rule.when);
    }
    for (const auto& sink : rule.sinks) {
        if (config.alert_sinks.count(sink) == 0) {
            std::vector<std::string> names;
            for (const auto& [n, s] : config.alert_sinks) {
                names.push_back(n);
            }
            return detail::config_error(file,
                                        rule.line,
                                        fmt::format("{} sinks: unknown sink '{}'", section, sink),
                                        names.empty() ? "add an [alert_sinks." + sink + "] table"
                                                      : "sinks: " + detail::join(names) +
                                                            " (or add [alert_sinks." + sink + "])");
        }
    }
    for (const auto& host : rule.hosts) {
        if (config.hosts.count(host) == 0) {
            std::vector<std::string> names;
            for (const auto& [n, h] : config.hosts) {
                names.push_back(n);
            }
            return detail::config_error(file,
                                        rule.line,
                                        fmt::format("{} hosts: unknown host '{}'", section, host),
                                        "hosts: " + detail::join(names));
        }
    }
    return {};
}

Status finish_sink(AlertSink& sink, const fs::path& file, const fs::path& base_dir) {
    const std::string section = fmt::format("[alert_sinks.{}]", sink.name);
    if (!has(sink.keys, "kind")) {
        return detail::config_error(file,
                                    sink.line,
                                    fmt::format("{} needs a kind", section),
                                    "kind = \"webhook\", \"slack\" or \"command\"");
    }
    bool http = sink.kind != AlertSinkKind::command;
    std::vector<std::string_view> allowed = {"kind", "timeout", "max_attempts", "retry_after"};
    if (http) {
        allowed.insert(allowed.end(), {"url", "url_file", "ca_file"});
    } else {
        allowed.emplace_back("argv");
    }
    for (const auto& key : sink.keys) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            return detail::config_error(
                file,
                sink.line,
                fmt::format("{} sets {}, which does not apply to a {} sink",
                            section,
                            key,
                            alert_sink_kind_name(sink.kind)),
                http ? "webhook and slack sinks take url or url_file (and ca_file)"
                     : "command sinks take argv = [\"program\", \"arg\", ...]");
        }
    }
    if (!http) {
        if (sink.argv.empty()) {
            return detail::config_error(file,
                                        sink.line,
                                        fmt::format("{} needs argv", section),
                                        "argv = [\"/path/to/program\", \"arg\"] (run without a "
                                        "shell; the alert comes as JSON on stdin)");
        }
        return {};
    }
    bool url = has(sink.keys, "url");
    bool url_file = has(sink.keys, "url_file");
    if (url == url_file) {
        return detail::config_error(
            file,
            sink.line,
            fmt::format("{} needs {} url or url_file", section, url ? "either" : "one of"),
            "url_file = \"/path/to/file\" holding the URL (mode 0600), or url = \"...\" for a "
            "URL that is no secret");
    }
    if (url && sink.kind == AlertSinkKind::slack && !loopback_url(sink.url)) {
        return detail::config_error(
            file,
            sink.line,
            fmt::format("{} url: a Slack incoming-webhook URL is a credential", section),
            "put the URL in a file of mode 0600 and name it with url_file = \"...\"");
    }
    if (url_file) {
        sink.url_file = detail::resolve_path(sink.url_file.string(), base_dir);
    }
    if (!sink.ca_file.empty()) {
        if (url && sink.url.rfind("https://", 0) != 0) {
            return detail::config_error(
                file,
                sink.line,
                fmt::format("{} ca_file applies to https urls only", section),
                "remove ca_file, or use an https:// url");
        }
        sink.ca_file = detail::resolve_path(sink.ca_file.string(), base_dir);
    }
    return {};
}

}  // namespace

std::string_view alert_condition_name(AlertCondition c) {
    for (const auto& [v, name] : k_conditions) {
        if (v == c) {
            return name;
        }
    }
    return "?";
}

std::optional<AlertCondition> parse_alert_condition(std::string_view name) {
    for (const auto& [v, n] : k_conditions) {
        if (n == name) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view alert_sink_kind_name(AlertSinkKind k) {
    for (const auto& [v, name] : k_sink_kinds) {
        if (v == k) {
            return name;
        }
    }
    return "?";
}

std::optional<AlertSinkKind> parse_alert_sink_kind(std::string_view name) {
    for (const auto& [v, n] : k_sink_kinds) {
        if (n == name) {
            return v;
        }
    }
    return std::nullopt;
}

Status check_alert_name(std::string_view key, std::string_view v) {
    bool ok = !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
    if (!ok) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not a name", key, v),
                    "use 1-64 letters, digits, '-', '_' or '.'");
    }
    return {};
}

Status check_alert_condition(std::string_view key, std::string_view v) {
    if (!parse_alert_condition(v)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not a condition", key, v),
                    "conditions: run_failed, run_stuck, host_unreachable, queue_stalled, "
                    "gpu_idle, disk_low");
    }
    return {};
}

Status check_alert_sink_kind(std::string_view key, std::string_view v) {
    if (!parse_alert_sink_kind(v)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} '{}' is not one of webhook, slack, command", key, v));
    }
    return {};
}

Status check_alert_url(std::string_view key, std::string_view v) {
    std::string_view rest;
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (v.substr(0, scheme.size()) == scheme) {
            rest = v.substr(scheme.size());
        }
    }
    std::string_view host = rest.substr(0, rest.find('/'));
    bool ok = !host.empty() && host.find_first_of("@ \t?#") == std::string_view::npos &&
              rest.find_first_of(" \t\r\n") == std::string_view::npos;
    if (!ok) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} is not an http(s)://HOST[:PORT]/PATH address", key),
                    "e.g. url = \"http://127.0.0.1:9000/alerts\"");
    }
    return {};
}

Status check_for_minutes(double v) {
    return range(std::isfinite(v) && v > 0 && v <= 7 * 24 * 60, v, "0 < minutes <= 10080");
}

Status check_min_free_gb(double v) {
    return range(std::isfinite(v) && v > 0 && v <= 1e6, v, "0 < GiB <= 1000000");
}

Status check_below_percent(double v) {
    return range(std::isfinite(v) && v > 0 && v <= 100, v, "0 < percent <= 100");
}

Status check_probe_every(std::int64_t v) {
    return range(v >= 1 && v <= 86400, static_cast<double>(v), "1..86400 seconds");
}

Status check_sink_timeout(std::int64_t v) {
    return range(v >= 1 && v <= 600, static_cast<double>(v), "1..600 seconds");
}

Status check_max_attempts(std::int64_t v) {
    return range(v >= 1 && v <= 100, static_cast<double>(v), "1..100");
}

Status check_retry_after(std::int64_t v) {
    return range(v >= 1 && v <= 3600, static_cast<double>(v), "1..3600 seconds");
}

Status finish_alerts(Config& config, const fs::path& file, const fs::path& base_dir) {
    for (auto& [name, sink] : config.alert_sinks) {
        COSMOS_CHECK(finish_sink(sink, file, base_dir));
    }
    std::set<std::string> names;
    for (auto& rule : config.alerts) {
        COSMOS_CHECK(finish_rule(rule, config, file));
        if (!names.insert(rule.name).second) {
            return detail::config_error(
                file,
                rule.line,
                fmt::format("[[alerts]] name '{}' is used twice", rule.name),
                "each rule needs its own name (alerts are kept per rule)");
        }
    }
    return {};
}

bool is_loopback_url(std::string_view url) {
    return loopback_url(url);
}

}  // namespace cosmos::config
