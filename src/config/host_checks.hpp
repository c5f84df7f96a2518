#pragma once
// Value checks for [hosts.NAME] keys. Values of hosts end up in ssh, docker and apptainer
// argument vectors, so anything that could be read as an option (a leading '-') or that holds
// whitespace is refused here, at the edge. Each check fails with invalid_input naming the value.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::config {

core::Status check_kind(std::string_view key, std::string_view v);     // local | ssh | slurm
core::Status check_runtime(std::string_view key, std::string_view v);  // native|docker|apptainer
core::Status check_gpus(std::int64_t v);                               // 1..1024
core::Status check_price(double v);                   // a price per GPU-hour: finite, 0..100000
core::Status check_idle_stop(std::int64_t v);         // seconds: 1..30 days
core::Status check_gpu_sample_every(std::int64_t v);  // seconds: 0..3600 (0: off)
core::Status check_port(std::int64_t v);              // 1..65535
core::Status check_not_empty(std::string_view key, std::string_view v);
core::Status check_address(std::string_view key, std::string_view v);  // host name or IP
core::Status check_user(std::string_view key, std::string_view v);     // [A-Za-z0-9._-]
core::Status check_image(std::string_view key, std::string_view v);    // no spaces, no '-' first
core::Status check_shm_size(std::string_view key,
                            std::string_view v);  // "8g", "512m", "1073741824"
core::Status check_slurm_name(std::string_view key, std::string_view v);  // [A-Za-z0-9_.-]+
core::Status check_slurm_time(std::string_view key, std::string_view v);  // "30", "1:00:00", "2-00"
core::Status check_max_in_flight(std::int64_t v);                         // 1..10000
core::Status check_cpus_per_task(std::int64_t v);                         // 1..4096
// Model servers (ServerSettings).
core::Status check_server_url(std::string_view key, std::string_view v);  // http://host[:port]
core::Status check_protocol(std::string_view key, std::string_view v);    // vllm-omni | sglang
core::Status check_role(std::string_view key, std::string_view v);        // generator | reasoner
core::Status check_max_concurrent(std::int64_t v);                        // 1..256
core::Status check_idle_seconds(std::int64_t v);                          // 10..604800
core::Status check_startup_timeout(std::int64_t v);                       // 10..86400

// Completes a host read from `file`: fails with config (naming host.line) when an ssh host lacks
// address or user, a slurm host lacks partition or work_dir (or has an address without a user),
// or a docker/apptainer host lacks image; resolves the paths of a local host
// and the ssh key (always a local file) against `base_dir`. A remote host's paths are remote
// paths and are kept as written.
core::Status finish_host(HostConfig& host,
                         const std::filesystem::path& file,
                         const std::filesystem::path& base_dir);

}  // namespace cosmos::config
