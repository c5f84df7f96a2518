// `cosmos logs RUN_ID [-f]`, `cosmos kill RUN_ID`, `cosmos status [HOST]`: watching, stopping and
// checking work on the hosts.

#include <chrono>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_printer.hpp"
#include "core/units.hpp"
#include "scheduler/job.hpp"
#include "services/host_status.hpp"
#include "services/views.hpp"
#include "store/run_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

void add_logs(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string run_id;
        bool follow = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "logs",
        "Print a run's log: the local copy once collected, the host's live log while it runs. "
        "With -f, follow a running run to its end (re-attaching to it), then collect its "
        "outputs and record the outcome.");
    cmd->add_option("RUN_ID", a->run_id, "Run to show")->required();
    cmd->add_flag(
        "-f,--follow", a->follow, "Follow until the run ends; Ctrl-C detaches (the run goes on)");
    cmd->footer(
        "Examples:\n  cosmos logs rs_1a2b3c\n  cosmos inference ps_1a2b --host gpu1 --detach && "
        "cosmos logs -f rs_...");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto run, store::get_run(app->db, a->run_id));
                if (!run) {
                    return fail(ErrorCode::not_found, fmt::format("no run {}", a->run_id));
                }
                // A run still being staged or sent has no job to follow yet: wait for it
                // (Ctrl-C stops waiting), rather than print a log that is not there yet.
                for (bool told = false; a->follow && run->status == store::RunStatus::running &&
                                        !run->remote_dir && !g_interrupted;) {
                    if (!told) {
                        ctx.out.note(fmt::format("run {} is being launched; waiting", run->id));
                        told = true;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    COSMOS_TRY(run, store::get_run(app->db, a->run_id));
                    if (!run) {
                        return fail(ErrorCode::not_found, fmt::format("no run {}", a->run_id));
                    }
                }
                if (a->follow && run->status == store::RunStatus::running && run->remote_dir) {
                    // Lines go to stdout (they are what was asked for); progress stays on stderr.
                    scheduler::AttachOptions opts;
                    opts.stop = &g_interrupted;
                    opts.sink = [&ctx](const backends::JobEvent& e) {
                        if (const auto* l = std::get_if<backends::LogLine>(&e)) {
                            if (!ctx.out.json) {
                                ctx.out.print_line(l->line);
                            }
                        }
                    };
                    COSMOS_TRY(auto final_run, scheduler::attach_run(*app, a->run_id, opts));
                    if (ctx.out.json) {
                        ctx.out.print_json(services::run_json(final_run));
                    } else {
                        ctx.out.note(fmt::format("{} {}{}",
                                                 final_run.id,
                                                 store::to_string(final_run.status),
                                                 final_run.error ? ": " + *final_run.error : ""));
                    }
                    return {};
                }
                COSMOS_TRY(auto text, scheduler::read_run_log(*app, a->run_id));
                if (ctx.out.json) {
                    ctx.out.print_json({{"run_id", a->run_id},
                                        {"status", std::string(store::to_string(run->status))},
                                        {"log", text}});
                } else {
                    std::fwrite(text.data(), 1, text.size(), stdout);
                }
                return {};
            });
        };
    });
}

void add_kill(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> ids;
        bool all = false;
        std::string host;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "kill",
        "Stop runs: the model's process or container on the host is ended (within seconds), its "
        "log and any outputs are collected, and the run is marked cancelled");
    cmd->add_option("RUN_IDS", a->ids, "Runs to stop (or --all)");
    cmd->add_flag("--all", a->all, "Every running run (with --host: on that host)");
    cmd->add_option("--host", a->host, "With --all: only the runs running on this host");
    cmd->footer(
        "Examples:\n  cosmos kill rs_1a2b3c4d5e6f\n  cosmos kill --all --host gpu1\n"
        "Queued runs are not running: `cosmos queue cancel JOB_ID` takes them off the queue.");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            nlohmann::ordered_json arr = nlohmann::ordered_json::array();
            std::vector<std::string> ids = a->ids;
            int code = ctx.guard([&]() -> core::Status {
                if (a->all == !a->ids.empty()) {
                    return fail(ErrorCode::invalid_input,
                                a->all ? "--all stops every running run: give no ids with it"
                                       : "no runs to stop",
                                "cosmos kill RUN_ID... or cosmos kill --all [--host HOST]");
                }
                if (!a->host.empty() && !a->all) {
                    return fail(ErrorCode::invalid_input,
                                "--host goes with --all",
                                "cosmos kill --all --host HOST");
                }
                if (!a->all) {
                    return {};
                }
                COSMOS_TRY(auto* app, ctx.app());
                store::RunQuery q;
                q.status = store::RunStatus::running;
                if (!a->host.empty()) {
                    COSMOS_CHECK(config::find_host(app->config, a->host));
                    q.host = a->host;
                }
                q.limit = 100000;
                COSMOS_TRY(auto running, store::list_runs(app->db, q));
                for (const auto& r : running) {
                    ids.push_back(r.id);
                }
                if (ids.empty()) {
                    ctx.out.note(a->host.empty() ? std::string("no run is running")
                                                 : fmt::format("no run is running on {}", a->host));
                }
                return {};
            });
            for (const auto& id : code == 0 ? ids : std::vector<std::string>{}) {
                int c = ctx.guard([&]() -> core::Status {
                    COSMOS_TRY(auto* app, ctx.app());
                    if (a->all) {
                        // Killing one run of a batch ends the batch's other runs too.
                        COSMOS_TRY(auto now, store::require_run(app->db, id));
                        if (now.status != store::RunStatus::running) {
                            arr.push_back(services::run_json(now));
                            if (!ctx.out.json) {
                                ctx.out.print_line(
                                    fmt::format("{}\t{}", now.id, store::to_string(now.status)));
                            }
                            return {};
                        }
                    }
                    COSMOS_TRY(auto run, scheduler::kill_run(*app, id));
                    arr.push_back(services::run_json(run));
                    if (!ctx.out.json) {
                        ctx.out.print_line(
                            fmt::format("{}\t{}", run.id, store::to_string(run.status)));
                    }
                    return {};
                });
                code = code == 0 ? c : code;
            }
            if (ctx.out.json && (code == 0 || !arr.empty())) {
                ctx.out.print_json(arr);
            }
            return code;
        };
    });
}

// The model server lines of `cosmos status`: the one cosmos runs on the host (--serve), or what
// an http host's server serves.
void print_server(Context& ctx, const nlohmann::ordered_json& j) {
    if (j.contains("server")) {
        const auto& s = j["server"];
        std::string detail = s["detail"].is_string() ? s["detail"].get<std::string>() : "";
        ctx.out.print_line(s["running"].get<bool>()
                               ? fmt::format("  model server: running, {} ({})",
                                             detail,
                                             s.value("protocol", std::string()))
                               : fmt::format("  model server: not running ({})", detail));
    }
    if (j.contains("models") && j["reachable"].get<bool>()) {
        std::vector<std::string> models = j["models"].get<std::vector<std::string>>();
        ctx.out.print_line(
            fmt::format("  model server ({}, {}): serves {}{}",
                        j["protocol"].get<std::string>(),
                        j["role"].get<std::string>(),
                        models.empty() ? std::string("nothing listed")
                                       : fmt::format("{}", fmt::join(models, ", ")),
                        j["jobs_in_flight"].is_number()
                            ? fmt::format("; {} job(s) in flight", j["jobs_in_flight"].get<int>())
                            : std::string()));
    }
}

// Prints `cosmos status` of one slurm host from its services::host_status_json.
void print_slurm_status(Context& ctx, const nlohmann::ordered_json& j) {
    std::string host = j["host"].get<std::string>();
    if (!j["reachable"].get<bool>()) {
        ctx.out.print_line(
            fmt::format("{}: unreachable: {}",
                        host,
                        j["error"].is_string() ? j["error"].get<std::string>() : ""));
        return;
    }
    int pending = 0;
    for (const auto& q : j["jobs"]) {
        pending += q["state"] == "PENDING" ? 1 : 0;
    }
    int total = static_cast<int>(j["jobs"].size());
    ctx.out.print_line(
        fmt::format("{}: slurm partition {}: {} node(s), {} of {} GPUs free; our jobs: {} running, "
                    "{} pending (at most {} in flight)",
                    host,
                    j["partition"].get<std::string>(),
                    j["nodes"].size(),
                    j["gpus_free"].get<int>(),
                    j["gpus_total"].get<int>(),
                    total - pending,
                    pending,
                    j["max_in_flight"].get<int>()));
    if (j["error"].is_string()) {
        ctx.out.print_line(fmt::format("  {}", j["error"].get<std::string>()));
    }
    for (const auto& n : j["nodes"]) {
        ctx.out.print_line(fmt::format("  node {} {}: {}/{} GPUs in use",
                                       n["name"].get<std::string>(),
                                       n["state"].get<std::string>(),
                                       n["gpus_used"].get<int>(),
                                       n["gpus"].get<int>()));
    }
    for (const auto& q : j["jobs"]) {
        std::string reason = q["reason"].get<std::string>();
        ctx.out.print_line(fmt::format("  job {} {} {}{}",
                                       q["slurm_job_id"].get<std::string>(),
                                       q["name"].get<std::string>(),
                                       q["state"].get<std::string>(),
                                       reason == "None" ? std::string() : " (" + reason + ")"));
    }
    print_server(ctx, j);
}

void add_status(CLI::App& parent, Context& ctx) {
    auto name = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand(
        "status",
        "Check hosts: reachable?, GPUs with utilisation and memory (nvidia-smi), our running "
        "jobs, free disk in the work dir. A slurm host shows its partition instead: nodes and "
        "their state, GPUs free, our queued and running Slurm jobs. Without HOST, every "
        "configured host (the local one included).");
    cmd->add_option("HOST", *name, "Host to check");
    cmd->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            nlohmann::ordered_json arr = nlohmann::ordered_json::array();
            int code = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                std::vector<config::HostConfig> hosts;
                if (!name->empty()) {
                    COSMOS_TRY(auto h, config::find_host(app->config, *name));
                    hosts.push_back(h);
                } else {
                    for (const auto& [n, h] : app->config.hosts) {
                        hosts.push_back(h);
                    }
                }
                bool all_ok = true;
                bool refused = false;  // a host answered but its key or login was refused
                for (const auto& h : hosts) {
                    if (h.kind == core::HostKind::slurm) {
                        auto j = services::host_status_json(*app, h);
                        all_ok = all_ok && j["reachable"].get<bool>();
                        if (!ctx.out.json) {
                            print_slurm_status(ctx, j);
                        }
                        arr.push_back(std::move(j));
                        continue;
                    }
                    nlohmann::ordered_json j = services::host_status_json(*app, h);
                    bool reachable = j["reachable"].get<bool>();
                    // Stopped as idle on purpose (its stop_command ran): a state, not a fault.
                    bool stopped = j.contains("stopped_at");
                    all_ok = all_ok && (reachable || stopped);
                    bool auth = j.value("error_code", nlohmann::ordered_json()) == "auth_failed";
                    refused = refused || auth;
                    arr.push_back(j);
                    if (ctx.out.json) {
                        continue;
                    }
                    if (stopped) {
                        ctx.out.print_line(
                            fmt::format("{}: stopped: {}", h.name, j["error"].get<std::string>()));
                        continue;
                    }
                    if (!reachable) {
                        ctx.out.print_line(fmt::format(
                            "{}: {}: {}",
                            h.name,
                            auth ? "refused" : "unreachable",
                            j["error"].is_string() ? j["error"].get<std::string>() : ""));
                        continue;
                    }
                    std::vector<std::string> jobs = j["running"].get<std::vector<std::string>>();
                    ctx.out.print_line(fmt::format(
                        "{}: reachable ({:.0f} ms), free disk {}, {} running job(s){}",
                        h.name,
                        j["latency_ms"].get<double>(),
                        j["free_bytes"].is_number()
                            ? core::human_bytes(j["free_bytes"].get<double>())
                            : "?",
                        jobs.size(),
                        jobs.empty() ? "" : ": " + fmt::format("{}", fmt::join(jobs, " "))));
                    if (j["gpu_error"].is_string()) {
                        ctx.out.print_line(
                            fmt::format("  GPUs: {}", j["gpu_error"].get<std::string>()));
                    }
                    for (const auto& g : j["gpus"]) {
                        ctx.out.print_line(fmt::format("  GPU {} {}: {}% busy, {}/{} MiB",
                                                       g["index"].get<int>(),
                                                       g["name"].get<std::string>(),
                                                       g["utilization_percent"].get<int>(),
                                                       g["memory_used_mib"].get<std::int64_t>(),
                                                       g["memory_total_mib"].get<std::int64_t>()));
                    }
                    print_server(ctx, j);
                }
                if (refused) {
                    // As every other command that meets the host: exit 8, with the way out.
                    return fail(ErrorCode::auth_failed,
                                "a host refused: its key is not trusted or the login failed",
                                "cosmos hosts trust HOST checks and trusts its key "
                                "(docs/ssh.md)");
                }
                if (!all_ok) {
                    return fail(ErrorCode::host_unreachable, "some hosts are unreachable");
                }
                return {};
            });
            if (ctx.out.json && !arr.empty()) {
                ctx.out.print_json(arr);
            }
            return code;
        };
    });
}

}  // namespace

void add_remote_commands(CLI::App& parent, Context& ctx) {
    add_logs(parent, ctx);
    add_kill(parent, ctx);
    add_status(parent, ctx);
}

}  // namespace cosmos::cli
