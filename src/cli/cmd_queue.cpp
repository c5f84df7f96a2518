// `cosmos queue [pause|resume|cancel|move]`: the run queue (state, position, host, progress),
// and `cosmos worker`: work the queue on the configured hosts (docs/queue.md).

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/clock.hpp"
#include "core/decimal.hpp"
#include "services/queue.hpp"
#include "services/queue_eta.hpp"
#include "services/worker.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "web/server.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// A number of seconds in [lo, hi]: finite (no nan, no inf) and in range, or CLI11 refuses the
// value with this message before anything runs.
CLI::Validator seconds_between(double lo, double hi) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            auto parsed = core::parse_decimal(text, "seconds");
            double v = parsed.value_or(0.0);
            if (!parsed || v < lo || v > hi) {
                return fmt::format("'{}' is not a number of seconds from {} to {}", text, lo, hi);
            }
            return {};
        },
        fmt::format("SECONDS in [{} - {}]", lo, hi));
}

// An estimated time as the queue table shows it: "now", "+12m", "+3h05m"; "?" when unknown.
std::string eta_cell(const std::optional<std::int64_t>& ms, std::int64_t now) {
    if (!ms) {
        return "?";
    }
    std::int64_t minutes = (*ms - now + 59'999) / 60'000;
    if (minutes <= 0) {
        return "now";
    }
    if (minutes < 60) {
        return fmt::format("+{}m", minutes);
    }
    return fmt::format("+{}h{:02}m", minutes / 60, minutes % 60);
}

core::Status print_queue(Context& ctx, int finished) {
    COSMOS_TRY(auto* app, ctx.app());
    COSMOS_TRY(auto jobs, store::list_jobs(app->db, finished));
    COSMOS_TRY(bool paused, store::queue_paused(app->db));
    std::map<std::string, store::RunRecord> runs;
    for (const auto& job : jobs) {
        COSMOS_TRY(auto run, store::get_run(app->db, job.run_id));
        if (run) {
            runs.emplace(job.run_id, std::move(*run));
        }
    }
    COSMOS_TRY(auto etas, services::queue_etas(*app, jobs, runs));
    std::int64_t now = core::now_ms();
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    std::vector<std::vector<std::string>> rows = {{"POS",
                                                   "JOB",
                                                   "RUN",
                                                   "STATE",
                                                   "PRIO",
                                                   "HOST",
                                                   "GPUS",
                                                   "PROGRESS",
                                                   "TRIES",
                                                   "START",
                                                   "FINISH",
                                                   "NOTE"}};
    int position = 0;
    for (const auto& job : jobs) {
        auto found = runs.find(job.run_id);
        std::optional<store::RunRecord> run;
        if (found != runs.end()) {
            run = found->second;
        }
        std::optional<int> pos;
        if (job.state == store::JobState::queued) {
            pos = ++position;
        }
        auto j = services::job_json(job, run, pos);
        services::add_eta(j, etas);
        arr.push_back(std::move(j));
        bool live = job.state == store::JobState::queued || job.state == store::JobState::running;
        auto eta = etas.find(job.id);
        std::string start = "-", finish = "-";
        if (live && !paused && !job.paused) {
            start = job.state == store::JobState::running
                        ? std::string("started")
                        : eta_cell(eta == etas.end() ? std::nullopt : eta->second.start_ms, now);
            finish = eta_cell(eta == etas.end() ? std::nullopt : eta->second.finish_ms, now);
        }
        std::string ids;
        for (int g : job.gpu_ids) {
            ids += ids.empty() ? std::to_string(g) : "," + std::to_string(g);
        }
        std::string note = job.reason.value_or("");
        if (job.batch_id && job.state == store::JobState::running) {
            note = fmt::format("batch {} line {}", *job.batch_id, job.batch_index.value_or(0));
        }
        if (job.paused) {
            note = "paused";
        } else if (job.depends_on && job.state == store::JobState::queued) {
            note = "after " + *job.depends_on;
        } else if (job.not_before_ms && *job.not_before_ms > core::now_ms() &&
                   job.state == store::JobState::queued) {
            note = "retry at " + core::iso_from_ms(*job.not_before_ms) + ": " + note;
        }
        rows.push_back({pos ? std::to_string(*pos) : "-",
                        job.id,
                        job.run_id,
                        std::string(store::to_string(job.state)),
                        std::to_string(job.priority),
                        job.host.value_or(job.want_host.value_or("-")),
                        ids.empty() ? std::to_string(job.gpus) : ids,
                        fmt::format("{:.0f}%", (run ? run->progress : 0.0) * 100),
                        fmt::format("{}/{}", job.attempts, job.max_attempts),
                        start,
                        finish,
                        note});
    }
    if (ctx.out.json) {
        ctx.out.print_json({{"paused", paused}, {"jobs", arr}});
        return {};
    }
    if (paused) {
        ctx.out.note("the queue is paused (cosmos queue resume)");
    }
    print_table(rows);
    return {};
}

void add_pause_resume(CLI::App& parent, Context& ctx, bool pausing) {
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* cmd = parent.add_subcommand(
        pausing ? "pause" : "resume",
        pausing ? "Pause the whole queue (running jobs go on), or only the given queued jobs"
                : "Resume the whole queue, or only the given paused jobs");
    cmd->add_option("IDS", *ids, "Job or run ids (default: the whole queue)");
    cmd->callback([&ctx, ids, pausing] {
        ctx.action = [&ctx, ids, pausing] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                nlohmann::ordered_json arr = nlohmann::ordered_json::array();
                if (ids->empty()) {
                    if (auto s = store::set_queue_paused(app->db, pausing); !s) {
                        return s;
                    }
                    ctx.out.note(pausing ? "queue paused" : "queue resumed");
                }
                for (const auto& id : *ids) {
                    COSMOS_TRY(auto job, services::find_job(*app, id));
                    if (auto s = store::set_job_paused(app->db, job.id, pausing); !s) {
                        return s;
                    }
                    arr.push_back(job.id);
                    if (!ctx.out.json) {
                        ctx.out.print_line(
                            fmt::format("{}\t{}", job.id, pausing ? "paused" : "resumed"));
                    }
                }
                if (ctx.out.json) {
                    ctx.out.print_json({{"paused", pausing}, {"jobs", arr}});
                }
                return {};
            });
        };
    });
}

void add_cancel(CLI::App& parent, Context& ctx) {
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* cmd = parent.add_subcommand(
        "cancel",
        "Cancel queued jobs (their runs become cancelled); running ones are stopped (killed on "
        "their host)");
    cmd->add_option("IDS", *ids, "Job or run ids")->required();
    cmd->callback([&ctx, ids] {
        ctx.action = [&ctx, ids] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                nlohmann::ordered_json arr = nlohmann::ordered_json::array();
                for (const auto& id : *ids) {
                    COSMOS_TRY(auto job, services::cancel_queued(*app, id));
                    COSMOS_TRY(auto run, store::get_run(app->db, job.run_id));
                    arr.push_back(services::job_json(job, run, std::nullopt));
                    if (!ctx.out.json) {
                        ctx.out.print_line(
                            fmt::format("{}\t{}\t{}",
                                        job.id,
                                        job.run_id,
                                        job.state == store::JobState::running
                                            ? "stopping"
                                            : std::string(store::to_string(job.state))));
                    }
                }
                if (ctx.out.json) {
                    ctx.out.print_json(arr);
                }
                return {};
            });
        };
    });
}

void add_move(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string id;
        std::optional<int> to;
        std::optional<int> priority;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "move", "Reorder a queued job: to a 1-based position, or to the end of a priority");
    cmd->add_option("ID", a->id, "Job or run id")->required();
    cmd->add_option("--to", a->to, "New position (1 = next to run)");
    cmd->add_option("--priority", a->priority, "New priority (higher runs first)");
    cmd->footer(
        "Examples:\n  cosmos queue move rs_1a2b --to 1\n  cosmos queue move job_3c4d --priority "
        "10");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                if (!a->to && !a->priority) {
                    return fail(ErrorCode::invalid_input, "give --to POSITION or --priority N");
                }
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto job, services::find_job(*app, a->id));
                if (auto s = store::move_job(app->db, job.id, a->to, a->priority); !s) {
                    return s;
                }
                return print_queue(ctx, 0);
            });
        };
    });
}

// `cosmos worker` (serve = false) and `cosmos serve` (true): the same queue worker; serve runs
// until stopped and is the process the web UI joins (docs/queue.md).
void add_worker(CLI::App& parent, Context& ctx, bool serve) {
    struct Args {
        std::vector<std::string> hosts;
        bool exit_when_idle = false;
        double lease = 30;
        double poll = 1;
        double retry = 5;
        int max_batch = 8;
        std::string owner;
        UiFlags ui;
        bool no_ui = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd =
        serve ? parent.add_subcommand(
                    "serve",
                    "Run as a service that works the queue until stopped (Ctrl-C or SIGTERM): "
                    "the same worker as `cosmos worker`, for a long-lived process (systemd, tmux), "
                    "and the web UI of `cosmos ui` in the same process (--port, --bind)")
              : parent.add_subcommand(
                    "worker",
                    "Work the queue: claim queued runs, batch compatible ones into one model "
                    "load, place each on a host with free GPUs, run several at once, retry "
                    "transient failures, and re-attach to runs whose worker died");
    cmd->add_option(
        "--host", a->hosts, "Hosts to use (repeatable; default: every local and ssh host)");
    if (!serve) {
        cmd->add_flag("--exit-when-idle", a->exit_when_idle, "Exit once nothing is left to do");
    }
    cmd->add_option("--lease",
                    a->lease,
                    "Lease length in seconds, 1 to 86400 and at least 3 polls (a dead worker's "
                    "runs are taken over "
                    "after it; renewed every third of it)")
        ->check(seconds_between(1, 86400))
        ->capture_default_str();
    cmd->add_option("--poll", a->poll, "Seconds between looks at the queue, 0.01 to 3600")
        ->check(seconds_between(0.01, 3600))
        ->capture_default_str();
    cmd->add_option("--retry-backoff",
                    a->retry,
                    "Seconds before the first retry (doubles, at most 5 min), 0 to 3600")
        ->check(seconds_between(0, 3600))
        ->capture_default_str();
    cmd->add_option("--max-batch",
                    a->max_batch,
                    "Most compatible runs one model load serves on an ssh host (Cosmos batch "
                    "file; 1: one run per load)")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    cmd->add_option("--owner", a->owner, "Lease owner name (default: HOSTNAME:PID:RANDOM)");
    if (serve) {
        add_ui_options(*cmd, a->ui);
        cmd->add_flag("--no-ui", a->no_ui, "Work the queue only, without the web UI");
    }
    cmd->footer(serve
                    ? "The web UI (see `cosmos ui --help`) is served on --bind:--port (default\n"
                      "http://127.0.0.1:8765/) while the queue is worked; runs launched there are\n"
                      "queued and executed by this process.\n\n"
                      "Examples:\n  cosmos serve\n  cosmos serve --port 9000\n"
                      "  cosmos serve --host gpu1 --host gpu2 --max-batch 4"
                    : "Examples:\n  cosmos inference ps_1a2b ps_3c4d --queue && cosmos worker "
                      "--exit-when-idle\n  cosmos worker --host gpu1 --host gpu2");
    cmd->callback([&ctx, a, serve] {
        ctx.action = [&ctx, a, serve] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                std::unique_ptr<web::UiServer> ui;
                if (serve && !a->no_ui) {
                    COSMOS_TRY(ui, start_ui(ctx, a->ui));
                }
                services::WorkerOptions opts;
                opts.owner = a->owner;
                opts.hosts = a->hosts;
                opts.exit_when_idle = a->exit_when_idle;
                opts.lease_ms = static_cast<std::int64_t>(a->lease * 1000);
                opts.poll_ms = static_cast<std::int64_t>(a->poll * 1000);
                opts.retry_base_ms = static_cast<std::int64_t>(a->retry * 1000);
                opts.max_batch = a->max_batch;
                opts.stop = &g_interrupted;
                opts.note = [&ctx](const std::string& line) { ctx.out.note(line); };
                auto status = services::run_worker(*app, opts);
                if (ui) {
                    ui->stop();
                }
                return status;
            });
        };
    });
}

}  // namespace

void add_queue_commands(CLI::App& app, Context& ctx) {
    auto finished = std::make_shared<int>(0);
    auto* cmd = app.add_subcommand(
        "queue",
        "List the run queue (running, then queued in order, with host, GPUs and progress); "
        "pause, resume, cancel or reorder it");
    cmd->add_option("--finished", *finished, "Also list this many finished jobs")
        ->capture_default_str();
    cmd->footer(
        "Examples:\n  cosmos queue\n  cosmos queue --json\n  cosmos queue pause\n"
        "  cosmos queue cancel rs_1a2b\n  cosmos queue move rs_1a2b --to 1");
    add_pause_resume(*cmd, ctx, true);
    add_pause_resume(*cmd, ctx, false);
    add_cancel(*cmd, ctx);
    add_move(*cmd, ctx);
    cmd->callback([&ctx, cmd, finished] {
        if (!cmd->get_subcommands().empty()) {
            return;
        }
        ctx.action = [&ctx, finished] {
            return ctx.guard([&] { return print_queue(ctx, *finished); });
        };
    });
    add_worker(app, ctx, false);
    add_worker(app, ctx, true);
}

}  // namespace cosmos::cli
