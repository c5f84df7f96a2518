#pragma once
// The user's configuration: where data lives, run defaults, and the hosts jobs run on.
// Search order (first found wins): --config FILE, $COSMOS_CONFIG, ./cosmos.toml,
// $XDG_CONFIG_HOME/cosmos/config.toml (~/.config/cosmos/config.toml). With none found the
// embedded defaults apply: data in $XDG_DATA_HOME/cosmos and one `local` host running the
// emulator installed in <data_dir>/emulator. $COSMOS_DATA_DIR beats [paths] data_dir.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/kinds.hpp"
#include "core/result.hpp"
#include "model/family.hpp"

namespace cosmos::config {

// The negative prompt transfer.py uses by default; the Python tool made it configurable.
extern const char* const k_default_negative_prompt;

// How an ssh host, or a slurm host's login node, is reached (empty address on a slurm host:
// sbatch runs on this machine).
struct SshSettings {
    std::string address;
    int port = 22;
    std::string user;
    std::filesystem::path key;  // a local private key; empty: the agent and default keys
    bool operator==(const SshSettings&) const = default;
};

// The container runtimes' settings: docker and podman use them all, apptainer only `image`.
struct ContainerSettings {
    std::string image;
    std::string shm_size = "8g";
    std::string docker = "docker";         // the container CLI on the host (docker or podman)
    std::string docker_gpus = "all";       // value of `docker run --gpus`; "" for no flag
    std::vector<std::string> docker_args;  // extra `docker run` arguments (e.g. --network=host)
    bool operator==(const ContainerSettings&) const = default;
};

// A slurm host (docs/slurm.md): jobs go to `partition` through sbatch on the login node. The
// host's `work_dir` (alias shared_dir) must be on a file system the compute nodes share, its
// `gpus` are the GPUs per node; `max_in_flight` is how many Slurm jobs the queue keeps
// submitted at once.
struct SlurmSettings {
    std::string partition;
    std::string account;
    std::string time_limit;  // Slurm time: "30", "1:00:00", "2-00:00:00"
    int max_in_flight = 8;
    int cpus_per_task = 0;  // 0: Slurm's default
    bool operator==(const SlurmSettings&) const = default;
};

// A model server (served families: docs/models/cosmos3.md, docs/serving.md). On an http host
// (someone else runs it) `url` and `api_key_file`; on an ssh or slurm host a [hosts.NAME.serve]
// table makes cosmos run it (`enabled`; on slurm as a job): `model`, `command` (argv; {model},
// {port} and {host}, the address to listen on, are filled in),
// and when to stop it. `protocol` says which engine serves (vllm-omni or sglang), `role` which
// surface (the generator's Videos API or the Reasoner's chat API), `max_concurrent` how many
// requests cosmos keeps in flight on it at once.
struct ServerSettings {
    bool enabled = false;                // ssh hosts: cosmos runs the server
    std::string url;                     // http hosts: http(s)://HOST:PORT (no path)
    std::filesystem::path api_key_file;  // http hosts: mode 0600; its key goes as a Bearer token
    std::filesystem::path ca_file;       // https urls: CA certificates (PEM) to trust; else the
                                         // system's
    std::string protocol = "vllm-omni";  // vllm-omni | sglang
    std::string role = "generator";      // generator | reasoner
    std::string model;                   // served model; ssh default nvidia/Cosmos3-Nano
    std::vector<std::string> command;    // ssh: the server's argv; empty: the protocol's default
    int max_concurrent = 2;
    int idle_stop_s = 1800;        // ssh: stop the server after this many seconds without requests
    int startup_timeout_s = 1800;  // ssh: give up on a server not ready by then
    bool operator==(const ServerSettings&) const = default;
};

// One [hosts.NAME] table: what every host has, then the settings of its kind (ssh: ssh; slurm:
// slurm, and ssh when it reaches its login node over ssh) and of its runtime (container). The
// loader refuses settings that do not apply to the host's kind or runtime.
struct HostConfig {
    std::string name;
    core::HostKind kind = core::HostKind::local;
    core::RuntimeKind runtime = core::RuntimeKind::native;
    int gpus = 1;                      // GPUs the host offers
    std::filesystem::path cosmos_dir;  // the model's checkout (cwd and PYTHONPATH)
    // A checkout per model family where it is not cosmos_dir ([hosts.NAME.checkouts]:
    // "transfer2.5" = "/opt/cosmos-transfer2.5"); native runtime only.
    std::map<model::Family, std::filesystem::path> checkouts;
    std::filesystem::path checkpoint_dir;  // default: <cosmos_dir>/checkpoints
    std::filesystem::path work_dir;        // jobs and input cache; local default <data_dir>/work
    std::string torchrun = "torchrun";     // launcher command (the emulator installs bin/torchrun)
    std::map<std::string, std::string> env;  // extra environment for the model process
    SshSettings ssh;
    ContainerSettings container;
    SlurmSettings slurm;
    ServerSettings server;  // http hosts, and ssh hosts with a [hosts.NAME.serve] table
    bool emulated = false;  // true for the embedded default host: the emulator is auto-installed
    int line = 0;           // where the [hosts.NAME] table starts in the config file (0: default)
    bool managed = false;   // read from the hosts file that `cosmos hosts add|remove` edits
    // Runs refuse to start until `cosmos checkpoints verify` passed on this host (otherwise only
    // a failed or stale verify blocks runs; see docs/supply-chain.md).
    bool require_verified = false;
    // What one GPU of this host costs per hour (in the config's currency): runs record it with
    // their GPU-seconds, so `cosmos cost` reports money; unset: GPU-hours only.
    std::optional<double> price_per_gpu_hour;
    // Stopping an idle machine (docs/cost.md "Idle hosts"): after idle_stop_after_s seconds with
    // no work on it and nothing queued, a worker runs stop_command (argv, on this machine: the
    // cloud provider's CLI); a stopped host gets work again once start_command (if any) ran and
    // the host answers.
    int idle_stop_after_s = 0;  // 0: never
    // Seconds between GPU samples while the host has work (docs/metrics.md "GPU samples"): one
    // `nvidia-smi -l` stream per host; 0: not sampled.
    int gpu_sample_every_s = 5;
    std::vector<std::string> stop_command;
    std::vector<std::string> start_command;

    // True when runs here are requests to a model server (an http host, or a host whose
    // server cosmos runs) rather than model processes.
    bool serves() const { return kind == core::HostKind::http || server.enabled; }
};

// [docker]: defaults for hosts of the docker runtime.
struct DockerDefaults {
    std::string image;  // used by docker hosts that name no image; must be pinned
};

// [huggingface]: where the Hugging Face token comes from when $HF_TOKEN is not set.
struct HuggingFace {
    std::filesystem::path token_file;  // must be mode 0600 (or stricter)
};

struct RunDefaults {
    int num_steps = 35;
    double guidance = 7.0;
    double sigma_max = 70.0;
    int fps = 24;
    std::uint64_t seed = 1;
    std::string blur_strength = "medium";
    std::string canny_threshold = "medium";
    // Weights applied when a run names none. vis and edge are always applied (computed from the
    // input video); depth/seg/keypoint only when the input set has that control video.
    std::map<std::string, double> weights = {
        {"vis", 0.25}, {"edge", 0.25}, {"depth", 0.25}, {"seg", 0.25}};
    std::string negative_prompt = k_default_negative_prompt;
    int num_gpus = 1;
    // transfer.py offload flags passed on every run, without the `--offload_` prefix.
    std::vector<std::string> offload = {"text_encoder_model", "guardrail_models"};
    std::string host = "local";  // host used when a command names none
    // The model family new prompts are for (a run may name another with --model). The
    // parameters above are Transfer1's defaults; Transfer2.5 has its own (docs/models).
    model::Family model = model::Family::transfer1;
};

struct Paths {
    std::filesystem::path data_dir;    // database, outputs, logs
    std::filesystem::path config_dir;  // user templates live in <config_dir>/templates
};

// [[alerts]] and [alert_sinks.NAME] (docs/alerts.md): rules that watch runs, hosts and the
// queue, and where their alerts go.
enum class AlertCondition {
    run_failed,
    run_stuck,
    host_unreachable,
    queue_stalled,
    gpu_idle,
    disk_low
};
enum class AlertSinkKind { webhook, slack, command };

std::string_view alert_condition_name(AlertCondition c);
std::optional<AlertCondition> parse_alert_condition(std::string_view name);
std::string_view alert_sink_kind_name(AlertSinkKind k);
std::optional<AlertSinkKind> parse_alert_sink_kind(std::string_view name);

// One [[alerts]] table: a condition with its parameters and the sinks its alerts go to.
struct AlertRule {
    std::string name;
    AlertCondition when = AlertCondition::run_failed;
    double for_minutes = 0;          // run_stuck, queue_stalled, gpu_idle, host_unreachable
    std::vector<std::string> hosts;  // only these hosts (empty: all); not for queue_stalled
    double min_free_gb = 50;         // disk_low: GiB free on the host's work dir
    double below_percent = 5;        // gpu_idle: utilisation under this counts as idle
    int probe_every_s = 300;         // host_unreachable, disk_low: seconds between probes
    std::vector<std::string> sinks;  // [alert_sinks.NAME] names
    std::vector<std::string> keys;   // the keys the table set (to refuse those that do not apply)
    int line = 0;
};

// One [alert_sinks.NAME] table. A webhook or slack sink posts to `url` (non-secret, e.g. a
// local receiver) or to the URL in `url_file` (mode 0600: the URL is a credential, read when
// sending and never shown); a command sink runs `argv` on this machine with the alert on stdin.
struct AlertSink {
    std::string name;
    AlertSinkKind kind = AlertSinkKind::webhook;
    std::string url;
    std::filesystem::path url_file;
    std::filesystem::path ca_file;  // https: CA certificates (PEM) to trust; else the system's
    std::vector<std::string> argv;
    int timeout_s = 10;             // one attempt
    int max_attempts = 8;           // then the delivery is given up (and logged)
    int retry_after_s = 10;         // first backoff; doubling, at most an hour
    std::vector<std::string> keys;  // the keys the table set
    int line = 0;
};

struct Config {
    std::filesystem::path source;  // the file loaded; empty when running on embedded defaults
    // The hosts file `cosmos hosts add|remove` manages: <config_dir>/hosts.toml. Its [hosts.NAME]
    // tables are merged with the config file's (a name defined in both is an error); the embedded
    // `local` host stays available when only the hosts file defines hosts.
    std::filesystem::path hosts_file;
    Paths paths;
    RunDefaults run;
    std::map<std::string, HostConfig> hosts;  // never empty: `local` is added when none is given
    DockerDefaults docker;
    HuggingFace huggingface;
    std::vector<AlertRule> alerts;                 // [[alerts]], in file order
    std::map<std::string, AlertSink> alert_sinks;  // [alert_sinks.NAME]
};

// Why `image` is not pinned (no tag, or the `latest` tag), with how to pin it; nullopt when it
// names a version tag or a digest (name@sha256:<64 hex>).
std::optional<core::Error> image_pin_problem(const std::string& image, const std::string& where);

// Every unpinned image the docker hosts of `config` use (see image_pin_problem).
std::vector<core::Error> unpinned_images(const Config& config);

struct LoadOptions {
    std::optional<std::filesystem::path> explicit_path;  // --config FILE
};

// Finds and loads the configuration following the search order above, applies environment
// overrides and validates it. Fails with config and a message "FILE:LINE: what is wrong" for
// malformed TOML, unknown keys, wrong types and out-of-range values; with not_found when
// --config or $COSMOS_CONFIG names a missing file.
core::Result<Config> load_config(const LoadOptions& options);

// Parses `text` as if read from `path` (used by load_config and tests), adding `managed` hosts
// (from the hosts file) to those of the file.
core::Result<Config> parse_config(const std::string& text,
                                  const std::filesystem::path& path,
                                  const std::map<std::string, HostConfig>& managed = {});

// Parses a hosts file: only [hosts.NAME] tables, checked like the config file's. Every host
// returned has `managed` set.
core::Result<std::map<std::string, HostConfig>> parse_hosts_file(const std::string& text,
                                                                 const std::filesystem::path& path);

// Returns the hosts file's text for `hosts` (values in clear: the file is written 0600).
std::string render_hosts_file(const std::vector<HostConfig>& hosts);

// Replaces the hosts file at `path` with `hosts` (atomically, mode 0600, parent dirs created).
core::Status save_hosts_file(const std::filesystem::path& path,
                             const std::vector<HostConfig>& hosts);

// Returns the effective configuration as TOML, secrets redacted (`cosmos config show`).
std::string render_config(const Config& config);

// Returns the host named `name`; fails with not_found listing the configured hosts.
core::Result<HostConfig> find_host(const Config& config, const std::string& name);

}  // namespace cosmos::config
