#include "backends/model_server.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "backends/remote_job.hpp"
#include "backends/slurm_job.hpp"
#include "backends/ssh_target.hpp"
#include "core/embedded_scripts.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "core/redact.hpp"
#include "core/secret_file.hpp"
#include "core/sha256.hpp"
#include "core/shell_quote.hpp"
#include "runtime/runtime.hpp"
#include "transport/ssh_forward.hpp"

namespace cosmos::backends {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

std::string random_hex(std::size_t bytes) {
    std::random_device rd;
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        out += fmt::format("{:02x}", rd() & 0xffU);
    }
    return out;
}

// The server's state directory on the host: one per role and model.
std::string state_dir(const RemoteHost& host) {
    const auto& s = host.config.server;
    std::string digest = core::sha256_hex(s.model + "\n" + s.protocol).substr(0, 12);
    return fmt::format("{}/servers/{}-{}", host.work_dir, s.role, digest);
}

bool on_slurm(const RemoteHost& host) {
    return host.config.kind == core::HostKind::slurm;
}

core::Result<RemoteHost> open_ssh_host(const config::HostConfig& host) {
    COSMOS_TRY(auto shell, shell_for(host));
    return open_remote_host(host, std::move(shell));
}

std::string script_path(const std::string& dir) {
    return dir + "/model-server.sh";
}

core::Result<std::string> run_script(const RemoteHost& host,
                                     const std::string& dir,
                                     std::vector<std::string> args) {
    std::vector<std::string> argv = {"sh", script_path(dir)};
    argv.insert(argv.end(), args.begin(), args.end());
    COSMOS_TRY(auto r, host.shell->run(argv));
    if (r.exit_code != 0) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("host {}: model-server.sh {} failed (exit {}): {}",
                                host.config.name,
                                args.empty() ? "" : args.front(),
                                r.exit_code,
                                core::redact(r.err.substr(0, 300))));
    }
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) {
        r.out.pop_back();
    }
    return r.out;
}

// The end of the server's log (on Slurm, the job's output when the server never started).
core::Result<std::string> log_tail(const RemoteHost& host, const std::string& dir) {
    auto server_log = host.shell->read_file(dir + "/server.log", 8u << 20);
    if (!server_log && on_slurm(host)) {
        server_log = host.shell->read_file(dir + "/slurm.out", 8u << 20);
    }
    COSMOS_TRY(auto text, std::move(server_log));
    std::size_t keep = 1500;
    return core::redact(text.size() > keep ? text.substr(text.size() - keep) : text);
}

// Forwards shared by the leases of one process: one per host, address and port.
std::shared_ptr<transport::SshForward> shared_forward(const config::HostConfig& host,
                                                      const std::string& address,
                                                      int port,
                                                      core::Status& error) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<transport::SshForward>> forwards;
    std::lock_guard<std::mutex> lock(mutex);
    std::string key = fmt::format("{}\n{}:{}", host.name, address, port);
    if (auto f = forwards[key].lock()) {
        return f;
    }
    auto opened = transport::SshForward::open(ssh_target_for(host), address, port);
    if (!opened) {
        error = fail(opened.error());
        return nullptr;
    }
    std::shared_ptr<transport::SshForward> f = std::move(*opened);
    forwards[key] = f;
    return f;
}

// The Slurm job that runs the supervisor on a compute node: the host's partition, account, time
// limit and GPUs; its output next to the server's log.
core::Result<std::string> server_job_script(const RemoteHost& host,
                                            const std::string& dir,
                                            const std::vector<std::string>& command) {
    const auto& cfg = host.config;
    SlurmJobSpec job;
    job.job_name = "cosmos-server-" + fs::path(dir).filename().string();
    job.partition = cfg.slurm.partition;
    if (!cfg.slurm.account.empty()) {
        job.account = cfg.slurm.account;
    }
    if (!cfg.slurm.time_limit.empty()) {
        job.time_limit = cfg.slurm.time_limit;
    }
    if (cfg.slurm.cpus_per_task > 0) {
        job.cpus_per_task = cfg.slurm.cpus_per_task;
    }
    job.gpus = cfg.gpus;
    job.output_path = dir + "/slurm.out";
    job.work_dir = dir;
    job.exit_code_path = dir + "/exit_code";
    job.command = {
        "sh", script_path(dir), "supervise", dir, fmt::format("{}", cfg.server.idle_stop_s), "--"};
    job.command.insert(job.command.end(), command.begin(), command.end());
    return slurm_batch_script(job);
}

// The server command as the host's runtime runs it: natively, or (docker) in `docker run` of the
// host's image through the container wrapper the Slurm docker runtime uses (it stops the
// container when the supervisor or Slurm ends it, --rm removes it, and it gives the container
// the GPUs Slurm allocated, else the host's docker_gpus). The container shares the host's
// network, so the server's port is where a native one's would be; the key and the host's
// environment reach it by name (-e NAME), never as values on a command line.
core::Result<std::vector<std::string>> in_runtime(const RemoteHost& host,
                                                  const std::string& dir,
                                                  const std::string& token,
                                                  std::vector<std::string> command) {
    const auto& c = host.runtime_options;
    if (c.kind == core::RuntimeKind::native) {
        return command;
    }
    if (c.kind != core::RuntimeKind::docker) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("host {}: cosmos runs model servers natively or in docker, not "
                                "in {}",
                                host.config.name,
                                c.kind),
                    "set the host's runtime to native or docker (or give a `command` that "
                    "starts the container itself)");
    }
    COSMOS_CHECK(host.shell->write_file(
        dir + "/cosmos-docker.sh", std::string(scripts::k_slurm_docker_job), 0700));
    auto cli = runtime::docker_cli(c);
    std::vector<std::string> argv{
        "bash",
        dir + "/cosmos-docker.sh",
        fmt::format("cosmos-server-{}-{}", fs::path(dir).filename().string(), token),
        c.gpus_flag,
        std::to_string(cli.size())};
    argv.insert(argv.end(), cli.begin(), cli.end());
    argv.insert(argv.end(), {"--network=host", "--shm-size", c.shm_size});
    if (host.config.server.protocol == "vllm-omni") {
        argv.insert(argv.end(), {"-e", "VLLM_API_KEY"});
    }
    for (const auto& [k, v] : host.config.env) {
        if (runtime::is_env_name(k)) {
            argv.insert(argv.end(), {"-e", k});
        }
    }
    argv.insert(argv.end(), c.extra_docker_args.begin(), c.extra_docker_args.end());
    argv.push_back(c.image);
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

// Starts the supervisor (on Slurm: submits its job) with a fresh port, key and environment
// unless another process started one meanwhile: this start's files carry a token of its own and
// the script moves them into place under its lock only when it starts the server. The port and
// key in use are read afterwards.
core::Status start_server(const RemoteHost& host, const std::string& dir) {
    COSMOS_CHECK(host.shell->make_dirs(dir));
    COSMOS_CHECK(host.shell->write_file(script_path(dir), scripts::k_model_server, 0700));
    std::mt19937 rng(std::random_device{}());
    int port = std::uniform_int_distribution<int>(20000, 59999)(rng);
    std::string token = random_hex(8);
    auto own = [&](const char* name) { return fmt::format("{}/{}.{}", dir, name, token); };
    std::string key = random_hex(24);
    core::register_secret(key);
    const auto& server = host.config.server;
    if (server.protocol == "vllm-omni") {
        COSMOS_CHECK(host.shell->write_file(own("key"), key + "\n", 0600));
    }
    COSMOS_CHECK(host.shell->write_file(own("port"), fmt::format("{}\n", port), 0644));
    std::string env;  // the host's environment for the server; secrets stay in this 0600 file
    for (const auto& [k, v] : host.config.env) {
        env += fmt::format("export {}={}\n", k, core::shell_quote(v));
    }
    COSMOS_CHECK(host.shell->write_file(own("env"), env, 0600));
    // On a compute node the server listens on the node's addresses: cosmos reaches it from the
    // login node (or this machine), never through the node's loopback.
    COSMOS_TRY(auto command,
               in_runtime(host,
                          dir,
                          token,
                          server_command(server, port, on_slurm(host) ? "0.0.0.0" : "127.0.0.1")));
    std::vector<std::string> args;
    if (on_slurm(host)) {
        COSMOS_TRY(auto script, server_job_script(host, dir, command));
        COSMOS_CHECK(host.shell->write_file(own("server.sbatch"), script, 0644));
        args = {"submit", dir, token};
    } else {
        args = {"start", dir, fmt::format("{}", server.idle_stop_s), token, "--"};
        args.insert(args.end(), command.begin(), command.end());
    }
    COSMOS_TRY(auto out, run_script(host, dir, args));
    core::log(core::LogLevel::info,
              "host {}: {} model server for {} ({}{})",
              host.config.name,
              out == "running" ? "found a" : "started a",
              server.model,
              server.protocol,
              on_slurm(host) ? ", a Slurm job" : "");
    return {};
}

core::Result<int> read_port(const RemoteHost& host, const std::string& dir) {
    COSMOS_TRY(auto text, host.shell->read_file(dir + "/port", 64));
    try {
        return std::stoi(text);
    } catch (const std::exception&) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("host {}: {}/port is unreadable", host.config.name, dir));
    }
}

core::Result<std::string> read_key(const RemoteHost& host, const std::string& dir) {
    if (host.config.server.protocol != "vllm-omni") {
        return std::string();
    }
    COSMOS_TRY(auto key, host.shell->read_file(dir + "/key", 4096));
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
        key.pop_back();
    }
    core::register_secret(key);
    return key;
}

using Deadline = std::chrono::steady_clock::time_point;

core::Error ended_early(const RemoteHost& host, const std::string& dir, const std::string& st) {
    auto tail = log_tail(host, dir);
    return core::Error{
        ErrorCode::remote_failed,
        fmt::format("host {}: the model server ended before it was ready ({})",
                    host.config.name,
                    st.size() > 7 ? st.substr(7) : st),
        tail ? fmt::format("its log ends:\n{}", *tail) : std::string("see server.log in ") + dir};
}

core::Error not_ready(const RemoteHost& host, const std::string& dir, const char* what) {
    return core::Error{
        ErrorCode::timeout,
        fmt::format("host {}: the model server {} within {} s",
                    host.config.name,
                    what,
                    host.config.server.startup_timeout_s),
        fmt::format("see {}/server.log on the host, or raise startup_timeout_s", dir)};
}

// On Slurm: waits until the server's job runs and says on which node, and returns the address
// Slurm reaches that node at.
core::Result<std::string> wait_for_node(const RemoteHost& host,
                                        const std::string& dir,
                                        Deadline deadline) {
    bool told = false;
    for (;;) {
        COSMOS_TRY(auto st, run_script(host, dir, {"status", dir}));
        if (st.rfind("running", 0) != 0) {
            return fail(ended_early(host, dir, st));
        }
        auto node = st == "running" ? host.shell->read_file(dir + "/node", 256)
                                    : core::Result<std::string>(std::string());
        if (node && !node->empty()) {
            std::string name = node->substr(0, node->find_first_of("\r\n"));
            COSMOS_TRY(auto shown, host.shell->run(scontrol_show_node_argv(name)));
            std::string address = parse_node_address(shown.out);
            if (address.empty()) {
                address = parse_node_address("NodeAddr=" + name);
            }
            if (address.empty()) {
                return fail(ErrorCode::remote_failed,
                            fmt::format("host {}: the server job runs on node '{}', which Slurm "
                                        "gives no usable address",
                                        host.config.name,
                                        core::redact(name.substr(0, 100))));
            }
            return address;
        }
        if (!told && st != "running") {
            core::log(core::LogLevel::info,
                      "host {}: the model server's Slurm job waits in the queue",
                      host.config.name);
            told = true;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return fail(not_ready(host, dir, "job did not start"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

// Waits until the server answers /health, failing early when it ended.
core::Status wait_ready(const RemoteHost& host,
                        const std::string& dir,
                        const Endpoint& e,
                        Deadline deadline) {
    for (int i = 0;; ++i) {
        if (check_health(e)) {
            return {};
        }
        if (i % 3 == 2) {
            COSMOS_TRY(auto st, run_script(host, dir, {"status", dir}));
            if (st.rfind("running", 0) != 0) {
                return fail(ended_early(host, dir, st));
            }
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return fail(not_ready(host, dir, "was not ready"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

core::Result<ServerLease> open_managed(const config::HostConfig& cfg) {
    COSMOS_TRY(auto host, open_ssh_host(cfg));
    std::string dir = state_dir(host);
    ServerLease lease;
    lease.host = cfg.name;
    lease.state_dir = dir;
    lease.shell = host.shell;
    int port = 0;
    auto st = host.shell->stat(dir + "/model-server.sh");
    std::string status = "absent";
    if (st && *st) {
        COSMOS_TRY(status, run_script(host, dir, {"status", dir}));
    }
    if (status.rfind("running", 0) != 0) {
        COSMOS_CHECK(start_server(host, dir));
        lease.started = true;
    }
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(cfg.server.startup_timeout_s);
    COSMOS_TRY(port, read_port(host, dir));
    COSMOS_TRY(lease.endpoint.api_key, read_key(host, dir));
    std::string address = "127.0.0.1";
    if (on_slurm(host)) {
        COSMOS_TRY(address, wait_for_node(host, dir, deadline));
    }
    if (on_slurm(host) && cfg.ssh.address.empty()) {
        // sbatch runs on this machine: the node is on its network.
        bool v6 = address.find(':') != std::string::npos;
        lease.endpoint.url =
            fmt::format("http://{}{}{}:{}", v6 ? "[" : "", address, v6 ? "]" : "", port);
        lease.endpoint.where = fmt::format(
            "host {} (its server, a Slurm job, on {} port {})", cfg.name, address, port);
    } else {
        core::Status forward_error;
        auto forward = shared_forward(cfg, address, port, forward_error);
        if (!forward) {
            return fail(forward_error.error());
        }
        lease.forward = forward;
        lease.endpoint.url = forward->local_url();
        lease.endpoint.where =
            on_slurm(host)
                ? fmt::format(
                      "host {} (its server, a Slurm job, on {} port {}, through the login node)",
                      cfg.name,
                      address,
                      port)
                : fmt::format("host {} (its server on port {}, through SSH)", cfg.name, port);
    }
    COSMOS_CHECK(wait_ready(host, dir, lease.endpoint, deadline));
    return lease;
}

}  // namespace

std::vector<std::string> server_command(const config::ServerSettings& s,
                                        int port,
                                        const std::string& bind) {
    std::vector<std::string> argv = s.command;
    if (argv.empty() && s.protocol == "sglang") {
        argv = {
            "sglang", "serve", "--model-path", "{model}", "--host", "{host}", "--port", "{port}"};
    } else if (argv.empty()) {
        // vLLM: the Reasoner's architecture override, or the omni generator pipeline.
        argv = {"vllm", "serve", "{model}"};
        std::vector<std::string> role =
            s.role == "reasoner"
                ? std::vector<std::string>{"--hf-overrides",
                                           R"({"architectures": )"
                                           R"(["Cosmos3ReasonerForConditionalGeneration"]})"}
                : std::vector<std::string>{
                      "--omni", "--model-class-name", "Cosmos3OmniDiffusersPipeline"};
        argv.insert(argv.end(), role.begin(), role.end());
        for (const char* a :
             {"--allowed-local-media-path", "/", "--host", "{host}", "--port", "{port}"}) {
            argv.emplace_back(a);
        }
    }
    for (auto& a : argv) {
        for (auto [token, value] : {std::pair{std::string("{model}"), s.model},
                                    std::pair{std::string("{port}"), std::to_string(port)},
                                    std::pair{std::string("{host}"), bind}}) {
            for (auto at = a.find(token); at != std::string::npos; at = a.find(token)) {
                a.replace(at, token.size(), value);
            }
        }
    }
    return argv;
}

core::Result<ServerLease> open_server(const config::HostConfig& host) {
    if (host.kind == core::HostKind::http) {
        ServerLease lease;
        lease.host = host.name;
        lease.endpoint.url = host.server.url;
        lease.endpoint.ca_file = host.server.ca_file.string();
        lease.endpoint.where = fmt::format("host {} ({})", host.name, host.server.url);
        if (!host.server.api_key_file.empty()) {
            COSMOS_TRY(lease.endpoint.api_key,
                       core::read_secret_file(host.server.api_key_file, "API key file"));
        }
        return lease;
    }
    if (!host.server.enabled) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("host {} serves no model: it runs model scripts", host.name),
                    "send served runs (--model cosmos3) to an http host, or add a "
                    "[hosts.NAME.serve] table to an ssh host (docs/serving.md)");
    }
    return open_managed(host);
}

core::Status mark_request(const ServerLease& lease, const std::string& run_id, bool begin) {
    if (lease.state_dir.empty()) {
        return {};
    }
    COSMOS_TRY(auto r,
               lease.shell->run({"sh",
                                 script_path(lease.state_dir),
                                 begin ? "begin" : "end",
                                 lease.state_dir,
                                 run_id}));
    (void)r;
    return {};
}

core::Result<bool> server_gone(const ServerLease& lease) {
    if (lease.state_dir.empty()) {
        return false;
    }
    COSMOS_TRY(auto r,
               lease.shell->run({"sh", script_path(lease.state_dir), "status", lease.state_dir}));
    return r.out.rfind("running", 0) != 0;
}

core::Result<ServerState> server_state(const config::HostConfig& cfg) {
    ServerState state;
    if (cfg.kind == core::HostKind::http) {
        auto lease = open_server(cfg);
        if (!lease) {
            return fail(lease.error());
        }
        auto health = check_health(lease->endpoint);
        state.running = static_cast<bool>(health);
        if (!health) {
            state.detail = health.error().message;
            return state;
        }
        COSMOS_TRY(auto models, served_models(lease->endpoint));
        state.detail = fmt::format("{}", fmt::join(models, ", "));
        return state;
    }
    COSMOS_TRY(auto host, open_ssh_host(cfg));
    std::string dir = state_dir(host);
    COSMOS_TRY(auto st, host.shell->stat(script_path(dir)));
    if (!st) {
        state.detail = "never started";
        return state;
    }
    COSMOS_TRY(auto status, run_script(host, dir, {"status", dir}));
    state.running = status.rfind("running", 0) == 0;
    state.detail = status == "running pending" ? cfg.server.model + " (its Slurm job is pending)"
                   : state.running             ? cfg.server.model
                                   : status.substr(std::min<std::size_t>(7, status.size()));
    auto tail = log_tail(host, dir);
    if (tail) {
        state.log_tail = *tail;
    }
    return state;
}

core::Status stop_server(const config::HostConfig& cfg) {
    COSMOS_TRY(auto host, open_ssh_host(cfg));
    std::string dir = state_dir(host);
    COSMOS_TRY(auto st, host.shell->stat(script_path(dir)));
    if (!st) {
        return {};
    }
    COSMOS_TRY(auto out, run_script(host, dir, {"stop", dir}));
    (void)out;
    return {};
}

}  // namespace cosmos::backends
