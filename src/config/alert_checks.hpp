#pragma once
// Checks of [[alerts]] and [alert_sinks.NAME] (docs/alerts.md), private to src/config: the
// value checks config_parse.cpp runs per key, and finish_alerts, which runs once the whole file
// (and so every host and sink) is known.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::config {

core::Status check_alert_name(std::string_view key, std::string_view v);  // a name: [a-z0-9._-]
core::Status check_alert_condition(std::string_view key, std::string_view v);
core::Status check_alert_sink_kind(std::string_view key, std::string_view v);
core::Status check_alert_url(std::string_view key,
                             std::string_view v);  // http(s)://HOST[:PORT]/...
core::Status check_for_minutes(double v);          // > 0, at most a week
core::Status check_min_free_gb(double v);          // > 0, at most 1e6
core::Status check_below_percent(double v);        // > 0, at most 100
core::Status check_probe_every(std::int64_t v);    // 1 s .. 1 day
core::Status check_sink_timeout(std::int64_t v);   // 1 .. 600 s
core::Status check_max_attempts(std::int64_t v);   // 1 .. 100
core::Status check_retry_after(std::int64_t v);    // 1 s .. 1 h

// The keys a rule of condition `c` may set beyond name, when and sinks (for_minutes on
// run_stuck, min_free_gb on disk_low, ...).
std::vector<std::string_view> alert_rule_keys(AlertCondition c);

// Whether `url` is on this machine (127.0.0.0/8, ::1, localhost): not a credential.
bool is_loopback_url(std::string_view url);

// Completes the rules and sinks read from `file`: refuses a rule without `when` or `sinks`, a
// key that does not apply to its condition (min_free_gb on run_failed), a sink or host name
// that is not configured, two rules of one name; a sink without its kind's keys (url or
// url_file; argv), with both url and url_file, or keys of another kind; a slack url that is not
// on this machine (Slack's URL is a credential: url_file). Resolves url_file and ca_file
// against `base_dir`. Fails with config naming FILE:LINE and the key.
core::Status finish_alerts(Config& config,
                           const std::filesystem::path& file,
                           const std::filesystem::path& base_dir);

}  // namespace cosmos::config
