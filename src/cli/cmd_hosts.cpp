// `cosmos hosts add|list|show|remove|trust`: the GPU hosts runs go to. Hosts added here live in
// the hosts file (<config_dir>/hosts.toml); hosts of the config file are listed but never edited.

#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backends/model_server.hpp"
#include "backends/ssh_target.hpp"
#include "cli/context.hpp"
#include "cli/progress_bar.hpp"
#include "config/host_checks.hpp"
#include "core/names.hpp"
#include "core/secret_file.hpp"
#include "core/units.hpp"
#include "services/host_clean.hpp"
#include "services/hosts.hpp"
#include "transport/known_hosts.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

struct AddArgs {
    std::string name;
    std::string address;
    std::string user;
    std::string key;
    std::string kind = "ssh";  // checked by CLI11 against the kinds hosts add makes
    std::string runtime = "native";
    int gpus = 1;
    std::optional<double> price;
    std::optional<int> sample_every;
    std::string cosmos_dir;
    std::string checkpoint_dir;
    std::string work_dir;
    std::string torchrun;
    std::string image;
    std::string shm_size;
    std::vector<std::string> env;
    bool replace = false;
    // slurm
    std::string partition;
    std::string account;
    std::string time_limit;
    std::string shared_dir;
    int max_in_flight = 8;
    int cpus_per_task = 0;
    // model servers: http hosts (--url) and servers cosmos runs on ssh hosts (--serve)
    std::string url;
    std::string api_key_file;
    std::string ca_file;
    std::string protocol = "vllm-omni";
    std::string role = "generator";
    std::string model;
    bool serve = false;
    std::string serve_command;  // words separated by spaces
    int max_concurrent = 2;
    int idle_stop_s = 1800;
};

// The server settings of an http host or of a host that serves (--serve).
core::Status server_from(const AddArgs& a, config::HostConfig& h) {
    bool http = h.kind == core::HostKind::http;
    if (http && a.url.empty()) {
        return fail(ErrorCode::invalid_input,
                    "an http host needs --url",
                    "e.g. cosmos hosts add c3 --kind http --url http://10.0.0.5:8000 "
                    "--api-key-file ~/.config/cosmos/c3.key");
    }
    if (!http && (!a.url.empty() || !a.api_key_file.empty() || !a.ca_file.empty())) {
        return fail(ErrorCode::invalid_input,
                    "--url and --api-key-file are for http hosts",
                    "add --kind http, or use --serve to let cosmos run the server on an ssh host");
    }
    if (a.serve && h.kind != core::HostKind::ssh && h.kind != core::HostKind::slurm) {
        return fail(ErrorCode::invalid_input,
                    "--serve applies to ssh and slurm hosts (cosmos runs the server there; on "
                    "slurm as a job holding the host's GPUs)");
    }
    if (!a.serve && !http && (!a.serve_command.empty() || !a.model.empty())) {
        return fail(ErrorCode::invalid_input,
                    "--server-command and --model need --serve or --kind http");
    }
    h.server.enabled = a.serve;
    h.server.url = a.url;
    h.server.protocol = a.protocol;
    h.server.role = a.role;
    h.server.model = a.model;
    std::istringstream words(a.serve_command);
    for (std::string w; words >> w;) {
        h.server.command.push_back(w);
    }
    h.server.max_concurrent = a.max_concurrent;
    h.server.idle_stop_s = a.idle_stop_s;
    if (a.serve && h.server.model.empty()) {
        h.server.model = "nvidia/Cosmos3-Nano";
    }
    if (!a.ca_file.empty()) {
        if (a.url.rfind("https://", 0) != 0) {
            return fail(ErrorCode::invalid_input, "--ca-file applies to https:// urls only");
        }
        std::error_code ec;
        h.server.ca_file = std::filesystem::absolute(a.ca_file, ec);
        if (!std::filesystem::is_regular_file(h.server.ca_file, ec)) {
            return fail(ErrorCode::not_found,
                        fmt::format("--ca-file {}: no such file", h.server.ca_file.string()));
        }
    }
    if (!a.api_key_file.empty()) {
        std::error_code ec;
        h.server.api_key_file = std::filesystem::absolute(a.api_key_file, ec);
        // The key file's rules (0600, one line) are checked now, not at the first run.
        COSMOS_TRY(auto key, core::read_secret_file(h.server.api_key_file, "API key file"));
        (void)key;
    }
    if (http) {
        h.cosmos_dir.clear();
        h.work_dir.clear();
    }
    return {};
}

core::Result<config::HostConfig> host_from(const AddArgs& a) {
    if (auto s = core::validate_name(a.name); !s) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("host name '{}': {}", a.name, s.error().message),
                    "use letters, digits, '-' and '_'");
    }
    config::HostConfig h;
    h.name = a.name;
    // CLI11 checked both against their kinds (IsMember) before this runs.
    h.kind = core::parse_host_kind(a.kind).value_or(core::HostKind::ssh);
    h.runtime = core::parse_runtime_kind(a.runtime).value_or(core::RuntimeKind::native);
    h.gpus = a.gpus;
    if (a.price) {
        COSMOS_CHECK(config::check_price(*a.price));
        h.price_per_gpu_hour = a.price;
    }
    if (a.sample_every) {
        COSMOS_CHECK(config::check_gpu_sample_every(*a.sample_every));
        h.gpu_sample_every_s = *a.sample_every;
    }
    if (h.kind == core::HostKind::ssh && (a.address.empty() || a.user.empty())) {
        return fail(ErrorCode::invalid_input,
                    "an ssh host needs --address and --user",
                    "e.g. cosmos hosts add gpu1 --address gpu1.example.com --user me");
    }
    if (h.kind == core::HostKind::slurm && a.partition.empty()) {
        return fail(ErrorCode::invalid_input,
                    "a slurm host needs --partition",
                    "e.g. cosmos hosts add cluster --kind slurm --partition gpu --shared-dir "
                    "/shared/cosmos");
    }
    if (!a.address.empty()) {
        COSMOS_TRY(auto addr, services::parse_address(a.address));
        h.ssh.address = addr.first;
        h.ssh.port = addr.second.value_or(22);
    }
    h.ssh.user = a.user;
    h.slurm.partition = a.partition;
    h.slurm.account = a.account;
    h.slurm.time_limit = a.time_limit;
    h.slurm.max_in_flight = a.max_in_flight;
    h.slurm.cpus_per_task = a.cpus_per_task;
    if (!a.key.empty()) {
        std::error_code ec;
        h.ssh.key = std::filesystem::absolute(a.key, ec);
        if (!std::filesystem::is_regular_file(h.ssh.key, ec)) {
            return fail(
                ErrorCode::not_found,
                fmt::format("key file {} does not exist", h.ssh.key.string()),
                "pass the private key that this user logs in with (--key ~/.ssh/id_ed25519)");
        }
    }
    h.cosmos_dir = a.cosmos_dir.empty() ? "~/cosmos-transfer1" : a.cosmos_dir;
    h.checkpoint_dir = a.checkpoint_dir;
    h.work_dir = !a.shared_dir.empty() ? a.shared_dir
                 : !a.work_dir.empty() ? a.work_dir
                                       : "~/cosmos-work";
    if (h.kind == core::HostKind::slurm && a.address.empty()) {
        // sbatch runs on this machine: the paths are local ones (the shared dir must be absolute
        // for the compute nodes anyway).
        if (a.shared_dir.empty() && a.work_dir.empty()) {
            return fail(ErrorCode::invalid_input,
                        "a slurm host needs --shared-dir",
                        "a directory this machine and every compute node mount, e.g. --shared-dir "
                        "/shared/cosmos");
        }
        if (a.cosmos_dir.empty() && !a.serve) {  // a server needs no checkout
            return fail(ErrorCode::invalid_input,
                        "a slurm host needs --cosmos-dir",
                        "the Cosmos-Transfer1 checkout on the shared file system");
        }
    }
    if (!a.torchrun.empty()) {
        h.torchrun = a.torchrun;
    }
    h.container.image = a.image;
    // The same rule `config check` applies: refused here rather than after it was saved.
    if (h.runtime == core::RuntimeKind::docker && !a.image.empty()) {
        if (auto e = config::image_pin_problem(a.image, "--image")) {
            return fail(ErrorCode::invalid_input, e->message, e->hint);
        }
    }
    if (!a.shm_size.empty()) {
        h.container.shm_size = a.shm_size;
    }
    COSMOS_CHECK(server_from(a, h));
    for (const auto& kv : a.env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--env '{}' is not KEY=VALUE", kv.substr(0, kv.find('='))),
                        "e.g. --env COSMOS_EMULATOR_TIME_SCALE=0.01");
        }
        h.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return h;
}

void print_host(const Context& ctx, const config::HostConfig& h) {
    if (ctx.out.json) {
        ctx.out.print_json(services::host_json(h));
        return;
    }
    auto j = services::host_json(h);
    for (const auto& [k, v] : j.items()) {
        if (k == "env") {
            for (const auto& [ek, ev] : v.items()) {
                ctx.out.print_line(fmt::format("env.{:<10} {}", ek, ev.get<std::string>()));
            }
        } else if (!(v.is_string() && v.get<std::string>().empty())) {
            ctx.out.print_line(
                fmt::format("{:<14} {}", k, v.is_string() ? v.get<std::string>() : v.dump()));
        }
    }
}

void add_add(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<AddArgs>();
    auto* cmd = parent.add_subcommand(
        "add",
        "Add a GPU host to the hosts file (~/.config/cosmos/hosts.toml): an SSH machine "
        "(--kind ssh, the default) or a Slurm cluster (--kind slurm, docs/slurm.md). An SSH "
        "host's key must be trusted before the first run: `cosmos hosts trust NAME`.");
    cmd->add_option("NAME", a->name, "Host name used in --host NAME")->required();
    cmd->add_option("--kind",
                    a->kind,
                    "ssh (a GPU machine), slurm (a cluster's GPU partition) or http (a model "
                    "server someone else runs)")
        ->check(CLI::IsMember({"ssh", "slurm", "http"}))
        ->capture_default_str();
    cmd->add_option("--address",
                    a->address,
                    "HOST[:PORT] of the SSH server ([v6]:PORT for IPv6); slurm: the login node "
                    "(omit it when cosmos runs on the login node)");
    cmd->add_option("--user", a->user, "SSH user");
    cmd->add_option("--key", a->key, "Private key file (default: ssh-agent)");
    cmd->add_option("--runtime",
                    a->runtime,
                    "How the model runs there: native (the host's Python environment), docker or "
                    "apptainer (in --image; slurm hosts too)")
        ->check(CLI::IsMember({"native", "docker", "apptainer"}))
        ->capture_default_str();
    cmd->add_option("--gpus", a->gpus, "GPUs the host offers")->capture_default_str();
    cmd->add_option("--price-per-gpu-hour",
                    a->price,
                    "What one GPU of the host costs per hour: runs record it with their "
                    "GPU-seconds and `cosmos cost` reports money (docs/cost.md)")
        ->type_name("PRICE");
    cmd->add_option("--gpu-sample-every",
                    a->sample_every,
                    "Seconds between GPU samples (one nvidia-smi stream) while the host has work; "
                    "0: none (default 5; docs/metrics.md)")
        ->type_name("SECONDS");
    cmd->add_option("--cosmos-dir",
                    a->cosmos_dir,
                    "Cosmos-Transfer1 checkout on the host (default ~/cosmos-transfer1)");
    cmd->add_option("--checkpoint-dir",
                    a->checkpoint_dir,
                    "Checkpoints on the host (default <cosmos-dir>/checkpoints)");
    cmd->add_option(
        "--work-dir", a->work_dir, "Jobs and the input cache on the host (default ~/cosmos-work)");
    cmd->add_option("--torchrun", a->torchrun, "torchrun command on the host (default torchrun)");
    cmd->add_option("--image",
                    a->image,
                    "Container image: a pinned docker reference, or an apptainer .sif file");
    cmd->add_option("--shm-size", a->shm_size, "Container shared memory (docker; default 8g)");
    cmd->add_option("--env", a->env, "KEY=VALUE for the model process (repeatable)")
        ->take_all()
        ->allow_extra_args(false);
    cmd->add_option("--partition", a->partition, "slurm: the GPU partition jobs go to");
    cmd->add_option("--account", a->account, "slurm: the account jobs are charged to");
    cmd->add_option("--time", a->time_limit, "slurm: time limit per job (30, 4:00:00, 1-00:00:00)");
    cmd->add_option("--shared-dir",
                    a->shared_dir,
                    "slurm: jobs and the input cache, on a file system every compute node mounts");
    cmd->add_option("--max-in-flight", a->max_in_flight, "slurm: Slurm jobs kept submitted at once")
        ->capture_default_str();
    cmd->add_option(
        "--gpus-per-node", a->gpus, "slurm: GPUs of one node (the most one run may use)");
    cmd->add_option("--cpus-per-task", a->cpus_per_task, "slurm: --cpus-per-task of each job");
    cmd->add_option("--url",
                    a->url,
                    "http: the model server's address, http://HOST:PORT or https://HOST:PORT "
                    "(its certificate is verified)");
    cmd->add_option("--ca-file",
                    a->ca_file,
                    "http: CA certificates (PEM) to verify an https server with, e.g. a private "
                    "CA's; default: the system's");
    cmd->add_option("--api-key-file",
                    a->api_key_file,
                    "http: a file (mode 0600) holding the server's API key (sent as a Bearer "
                    "token; never logged or stored)");
    cmd->add_option("--protocol", a->protocol, "http/--serve: vllm-omni (default) or sglang")
        ->check(CLI::IsMember({"vllm-omni", "sglang"}));
    cmd->add_option("--role",
                    a->role,
                    "http/--serve: generator (the Videos API, default) or reasoner (chat API)")
        ->check(CLI::IsMember({"generator", "reasoner"}));
    cmd->add_option("--model", a->model, "http/--serve: the served model (nvidia/Cosmos3-Nano)");
    cmd->add_flag("--serve",
                  a->serve,
                  "ssh/slurm: cosmos runs a model server on the host (on slurm a job holding "
                  "the host's GPUs; started on need, kept warm, stopped when idle; "
                  "docs/serving.md)");
    cmd->add_option("--server-command",
                    a->serve_command,
                    "--serve: the server's command line, words separated by spaces ({model}, "
                    "{port} and {host}, the address to listen on, are filled in; default: the "
                    "protocol's; a word with spaces needs the config's `command` array)");
    cmd->add_option("--max-concurrent",
                    a->max_concurrent,
                    "http/--serve: requests cosmos keeps in flight on the server at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    cmd->add_option("--idle-stop",
                    a->idle_stop_s,
                    "--serve: seconds without requests before the server is stopped")
        ->capture_default_str()
        ->check(CLI::Range(10, 604800));
    cmd->add_flag("--replace", a->replace, "Overwrite a host of that name in the hosts file");
    cmd->footer(
        "Examples:\n"
        "  cosmos hosts add gpu1 --address gpu1.example.com --user me --key ~/.ssh/id_ed25519\n"
        "  cosmos hosts add h100 --address 10.0.0.5:2222 --user ubuntu --runtime docker \\\n"
        "      --image nvcr.io/me/cosmos-transfer1:1.0 --gpus 8 --env HF_HOME=/data/hf\n"
        "  cosmos hosts trust gpu1\n"
        "  cosmos hosts add cluster --kind slurm --partition gpu --shared-dir /shared/cosmos \\\n"
        "      --cosmos-dir /shared/cosmos-transfer1 --gpus-per-node 8 --time 2:00:00\n"
        "  cosmos hosts add cluster2 --kind slurm --partition a100 --shared-dir /shared/cosmos \\\n"
        "      --cosmos-dir /shared/cosmos-transfer1 --runtime apptainer --image "
        "/shared/cosmos-1.0.sif\n"
        "  cosmos hosts add c3 --kind http --url http://10.0.0.5:8000 --api-key-file ~/c3.key\n"
        "  cosmos hosts add c3box --address gpu2.example.com --user me --serve --idle-stop 900");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto host, host_from(*a));
                COSMOS_TRY(auto added, services::add_host(cfg, host, a->replace));
                if (ctx.out.json) {
                    ctx.out.print_json(services::host_json(added));
                } else {
                    if (added.kind == core::HostKind::http) {
                        ctx.out.print_line(fmt::format("added http host {} ({}, {}) to {}",
                                                       added.name,
                                                       added.server.url,
                                                       added.server.protocol,
                                                       cfg.hosts_file.string()));
                        ctx.out.note(fmt::format("next: cosmos status {}", added.name));
                    } else if (added.kind == core::HostKind::slurm) {
                        ctx.out.print_line(fmt::format(
                            "added slurm host {} (partition {}, {}) to {}",
                            added.name,
                            added.slurm.partition,
                            added.ssh.address.empty() ? "sbatch on this machine"
                                                      : "login node " + added.ssh.address,
                            cfg.hosts_file.string()));
                        ctx.out.note(fmt::format("next: cosmos status {}", added.name));
                    } else {
                        ctx.out.print_line(fmt::format("added host {} ({}@{}:{}) to {}",
                                                       added.name,
                                                       added.ssh.user,
                                                       added.ssh.address,
                                                       added.ssh.port,
                                                       cfg.hosts_file.string()));
                        ctx.out.note(fmt::format("next: cosmos hosts trust {}", added.name));
                    }
                }
                return {};
            });
        };
    });
}

void add_list(CLI::App& parent, Context& ctx) {
    auto* cmd = parent.add_subcommand("list", "List configured hosts and where each is defined");
    cmd->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                if (ctx.out.json) {
                    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
                    for (const auto& [name, h] : cfg.hosts) {
                        arr.push_back(services::host_json(h));
                    }
                    ctx.out.print_json(arr);
                    return {};
                }
                std::vector<std::vector<std::string>> rows = {
                    {"NAME", "KIND", "RUNTIME", "GPUS", "ADDRESS", "ORIGIN"}};
                for (const auto& [name, h] : cfg.hosts) {
                    std::string where =
                        !h.ssh.address.empty()
                            ? fmt::format("{}@{}:{}", h.ssh.user, h.ssh.address, h.ssh.port)
                            : std::string("-");
                    if (h.kind == core::HostKind::slurm) {
                        where = fmt::format(
                            "{} partition {}", where == "-" ? "local" : where, h.slurm.partition);
                    } else if (h.kind == core::HostKind::http) {
                        where = fmt::format("{} ({})", h.server.url, h.server.role);
                    } else if (h.server.enabled) {
                        where += fmt::format(" serves {}", h.server.model);
                    }
                    rows.push_back({name,
                                    std::string(core::to_string(h.kind)),
                                    std::string(core::to_string(h.runtime)),
                                    std::to_string(h.gpus),
                                    where,
                                    services::host_origin(h)});
                }
                print_table(rows);
                return {};
            });
        };
    });
}

void add_show(CLI::App& parent, Context& ctx) {
    auto name = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand("show", "Show one host's settings (secrets as ***)");
    cmd->add_option("NAME", *name, "Host name")->required();
    cmd->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto h, config::find_host(cfg, *name));
                print_host(ctx, h);
                return {};
            });
        };
    });
}

void add_remove(CLI::App& parent, Context& ctx) {
    auto name = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand(
        "remove", "Remove a host from the hosts file (runs that used it keep their records)");
    cmd->add_option("NAME", *name, "Host name")->required();
    cmd->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                if (auto s = services::remove_host(cfg, *name); !s) {
                    return s;
                }
                if (ctx.out.json) {
                    ctx.out.print_json({{"removed", *name}});
                } else {
                    ctx.out.print_line(fmt::format("removed host {}", *name));
                }
                return {};
            });
        };
    });
}

struct TrustArgs {
    std::string name;
    bool yes = false;
    bool replace = false;
};

// Says what trusting `key` changes and refuses what needs a flag; `changed` says the host's
// recorded keys will be replaced.
core::Status check_trust_plan(const config::HostConfig& h,
                              const transport::HostKey& key,
                              const transport::TrustPlan& plan,
                              const std::filesystem::path& file,
                              const TrustArgs& a) {
    using State = transport::TrustPlan::State;
    if (plan.state == State::revoked) {
        return fail(ErrorCode::auth_failed,
                    fmt::format("host {} offers the {} key {}, which line {} of {} marks "
                                "@revoked: it is never trusted",
                                h.name,
                                key.type,
                                key.fingerprint,
                                plan.revoked_line,
                                file.string()),
                    "ask the host's administrator for its new key");
    }
    if (plan.state != State::changed) {
        return {};
    }
    std::string old;
    for (const auto& k : plan.old_keys) {
        old += fmt::format(
            "{}{} {} (line {})", old.empty() ? "" : ", ", k.type, k.fingerprint, k.line);
    }
    std::cerr << fmt::format(
        "WARNING: the key of {} changed.\n  recorded in {}: {}\n  offered now: {} {}\n",
        h.name,
        file.string(),
        old,
        key.type,
        key.fingerprint);
    if (!a.replace) {
        return fail(ErrorCode::auth_failed,
                    fmt::format("host {} offers the {} key {}, but {} records {} for it: the "
                                "host key changed (reinstalled host, or someone intercepting)",
                                h.name,
                                key.type,
                                key.fingerprint,
                                file.string(),
                                old),
                    fmt::format("confirm the new fingerprint with the host's administrator, then "
                                "run: cosmos hosts trust {} --replace",
                                h.name));
    }
    return {};
}

core::Status confirm_trust(const config::HostConfig& h, const TrustArgs& a, bool replacing) {
    if (a.yes) {
        return {};
    }
    if (!::isatty(STDIN_FILENO)) {
        return fail(ErrorCode::invalid_input,
                    "not trusting the key: no terminal to confirm on",
                    fmt::format("check the fingerprint, then run: cosmos hosts trust {}{} --yes",
                                h.name,
                                replacing ? " --replace" : ""));
    }
    std::cerr << (replacing ? "Replace the recorded key with it? [y/N] " : "Trust it? [y/N] ")
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
        return fail(ErrorCode::interrupted, "not trusted");
    }
    return {};
}

core::Status run_trust(Context& ctx, const TrustArgs& a) {
    COSMOS_TRY(auto cfg, ctx.load_config());
    COSMOS_TRY(auto h, config::find_host(cfg, a.name));
    if (h.kind != core::HostKind::ssh) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("host {} is a {} host: only ssh hosts have host keys", h.name, h.kind));
    }
    auto target = backends::ssh_target_for(h);
    COSMOS_TRY(auto key, transport::fetch_host_key(target));
    auto file = transport::known_hosts_path(target);
    std::cerr << fmt::format("host {} ({}:{}) offers this {} key:\n  {}\n",
                             h.name,
                             h.ssh.address,
                             h.ssh.port,
                             key.type,
                             key.fingerprint);
    COSMOS_TRY(auto plan, transport::plan_trust(target, key));
    COSMOS_CHECK(check_trust_plan(h, key, plan, file, a));
    using State = transport::TrustPlan::State;
    bool replacing = plan.state == State::changed;
    if (plan.state != State::trusted) {
        COSMOS_CHECK(confirm_trust(h, a, replacing));
        COSMOS_CHECK(transport::trust_host_key(target, key, a.replace));
    }
    std::string action = plan.state == State::trusted ? "already trusted"
                         : replacing                  ? "replaced"
                                                      : "trusted";
    if (ctx.out.json) {
        nlohmann::ordered_json replaced = nlohmann::ordered_json::array();
        for (const auto& k : plan.old_keys) {
            replaced.push_back({{"type", k.type}, {"fingerprint", k.fingerprint}});
        }
        ctx.out.print_json({{"host", h.name},
                            {"type", key.type},
                            {"fingerprint", key.fingerprint},
                            {"known_hosts", file.string()},
                            {"action", action},
                            {"replaced", replaced}});
    } else {
        ctx.out.print_line(fmt::format(
            "{} {} key {} of {} in {}", action, key.type, key.fingerprint, h.name, file.string()));
    }
    return {};
}

void add_trust(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<TrustArgs>();
    auto* cmd = parent.add_subcommand(
        "trust",
        "Fetch a host's SSH key, show its fingerprint and, once confirmed, add it to "
        "~/.ssh/known_hosts (the file OpenSSH uses, so `ssh` trusts it too). Compare the "
        "fingerprint with the one the host's owner gives you (ssh-keygen -lf on the host). A "
        "host whose recorded key changed needs --replace; a key marked @revoked is refused.");
    cmd->add_option("NAME", a->name, "Host name")->required();
    cmd->add_flag(
        "-y,--yes", a->yes, "Trust without asking (scripts; check the fingerprint yourself)");
    cmd->add_flag("--replace",
                  a->replace,
                  "The host's key changed (reinstalled): replace the recorded key's lines with "
                  "the new key (both fingerprints are shown; other lines are kept)");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status { return run_trust(ctx, *a); });
        };
    });
}

void add_clean(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string name;
        std::string older_than = "7d";
        bool dry_run = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "clean",
        "Free a GPU host's disk: remove the job dirs (spec, log, outputs) of finished runs whose "
        "outputs are home, and cached inputs no job uses any more. Kept, with the reason: runs "
        "still queued or running, outputs that never came home, dirs this database does not "
        "know, anything changed recently.");
    cmd->add_option("NAME", a->name, "Host name (an ssh or slurm host)")->required();
    cmd->add_option("--older-than",
                    a->older_than,
                    "Only what has not changed for this long: 7d, 12h, 30m, 0")
        ->capture_default_str();
    cmd->add_flag("-n,--dry-run", a->dry_run, "List what would be removed; remove nothing");
    cmd->footer(
        "Examples:\n"
        "  cosmos hosts clean gpu1 --dry-run\n"
        "  cosmos hosts clean cluster --older-than 2d --json\n"
        "Cached inputs are removed only once no job dir links them and they are older than "
        "both --older-than and 10 minutes; a later run uploads them again. docs/remote.md.");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto age, services::parse_age(a->older_than));
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto h, config::find_host(app->config, a->name));
                COSMOS_TRY(auto report, services::clean_host(*app, h, {age, a->dry_run}));
                auto entry_json = [](const services::CleanEntry& e) {
                    nlohmann::ordered_json j{
                        {"path", e.path}, {"kind", e.kind}, {"bytes", e.bytes}};
                    if (!e.reason.empty()) {
                        j["reason"] = e.reason;
                    }
                    return j;
                };
                if (ctx.out.json) {
                    nlohmann::ordered_json j{{"host", report.host},
                                             {"dry_run", report.dry_run},
                                             {"bytes_removed", report.bytes_removed},
                                             {"removed", nlohmann::ordered_json::array()},
                                             {"kept", nlohmann::ordered_json::array()}};
                    for (const auto& e : report.removed) {
                        j["removed"].push_back(entry_json(e));
                    }
                    for (const auto& e : report.kept) {
                        j["kept"].push_back(entry_json(e));
                    }
                    ctx.out.print_json(j);
                    return {};
                }
                for (const auto& e : report.removed) {
                    ctx.out.print_line(fmt::format("{} {:<5} {:>10}  {}",
                                                   report.dry_run ? "would remove" : "removed",
                                                   e.kind,
                                                   core::human_bytes(static_cast<double>(e.bytes)),
                                                   e.path));
                }
                for (const auto& e : report.kept) {
                    ctx.out.print_line(fmt::format("kept    {:<5} {:>10}  {}  ({})",
                                                   e.kind,
                                                   core::human_bytes(static_cast<double>(e.bytes)),
                                                   e.path,
                                                   e.reason));
                }
                ctx.out.note(fmt::format(
                    "{} {} from host {} ({} entries; {} job dirs kept){}",
                    report.dry_run ? "would free" : "freed",
                    core::human_bytes(static_cast<double>(report.bytes_removed)),
                    report.host,
                    report.removed.size(),
                    report.kept.size(),
                    report.dry_run ? "; inputs cached for the job dirs listed are not counted"
                                   : ""));
                return {};
            });
        };
    });
}

void add_stop_server(CLI::App& parent, Context& ctx) {
    auto name = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand(
        "stop-server",
        "Stop the model server cosmos runs on a host now, instead of after its idle time (on "
        "slurm: cancel its job, freeing the GPUs). The next run for the host starts it again.");
    cmd->add_option("NAME", *name, "Host name (an ssh or slurm host with --serve)")->required();
    cmd->footer(
        "A request in flight when the server stops is sent once more to the next server "
        "(docs/serving.md, \"Restart\").");
    cmd->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto h, config::find_host(cfg, *name));
                if (!h.server.enabled) {
                    return core::fail(core::ErrorCode::invalid_input,
                                      fmt::format("host {} has no server cosmos runs", h.name),
                                      h.kind == core::HostKind::http
                                          ? "an http host's server is run by someone else"
                                          : "only hosts added with --serve (a [hosts.NAME.serve] "
                                            "table) have one");
                }
                COSMOS_CHECK(backends::stop_server(h));
                if (ctx.out.json) {
                    ctx.out.print_json({{"host", h.name}, {"stopped", true}});
                } else {
                    ctx.out.print_line(fmt::format("stopped the model server of host {}", h.name));
                }
                return {};
            });
        };
    });
}

}  // namespace

void add_hosts_commands(CLI::App& parent, Context& ctx) {
    auto* hosts =
        parent.add_subcommand("hosts", "Manage the GPU hosts runs go to (see docs/remote.md)");
    hosts->require_subcommand(1);
    add_add(*hosts, ctx);
    add_list(*hosts, ctx);
    add_show(*hosts, ctx);
    add_remove(*hosts, ctx);
    add_trust(*hosts, ctx);
    add_clean(*hosts, ctx);
    add_stop_server(*hosts, ctx);
}

}  // namespace cosmos::cli
