// `cosmos inference PROMPT_ID... [run options] [--host H]`: create one run per prompt and execute
// them, streaming the model's log with a progress bar, or queue them (--queue, with an upscale
// run after each with --upscale); `cosmos upscale RUN_ID... [--queue]`.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_options.hpp"
#include "cli/run_printer.hpp"
#include "cli/submit_output.hpp"
#include "core/log.hpp"
#include "model/upscale_command.hpp"
#include "scheduler/run_spec.hpp"
#include "services/create_run.hpp"
#include "services/enhance.hpp"
#include "services/execute_run.hpp"
#include "services/queue.hpp"
#include "services/reasoner.hpp"
#include "services/submit.hpp"
#include "services/upscale.hpp"
#include "services/views.hpp"
#include "store/run_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// Prints the final records of `finished` (a table line each, or one JSON array) and returns
// the exit code: `code` when nothing ran, 130 after Ctrl-C, 10 when a run failed.
int report_runs(Context& ctx,
                const std::vector<store::RunRecord>& finished,
                int code,
                bool detach) {
    if (code != 0 && finished.empty()) {
        return code;
    }
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    int failed = 0;
    for (const auto& r : finished) {
        arr.push_back(services::run_json(r));
        bool ok = r.status == store::RunStatus::succeeded ||
                  (detach && r.status == store::RunStatus::running);
        failed += ok ? 0 : 1;
        if (!ctx.out.json) {
            ctx.out.print_line(fmt::format("{}\t{}\t{}",
                                           r.id,
                                           store::to_string(r.status),
                                           r.output_video.value_or(r.error.value_or(""))));
        }
    }
    if (ctx.out.json) {
        ctx.out.print_json(arr);
    }
    if (g_interrupted.load()) {
        return 130;
    }
    if (failed > 0) {
        ctx.out.note(fmt::format(
            "{} of {} run(s) failed; see `cosmos show RUN_ID`", failed, finished.size()));
        return core::exit_code_for(ErrorCode::remote_failed);
    }
    return code;
}

// The supply-chain overrides every run command takes (recorded on each run they affect).
struct SupplyFlags {
    bool skip_verify = false;
    bool allow_unpinned = false;
};

void add_supply_flags(CLI::App* cmd, SupplyFlags& f) {
    cmd->add_flag("--skip-verify",
                  f.skip_verify,
                  "Start even though the host's last `cosmos checkpoints verify` failed or is "
                  "older than its checkpoints (recorded on the run)");
    cmd->add_flag("--allow-unpinned",
                  f.allow_unpinned,
                  "Run a docker image referenced without a version tag or digest (or :latest); "
                  "recorded on the run");
}

// --host and --detach, as `inference` and `run` take them.
void add_host_and_detach(CLI::App* cmd, std::string& host, bool& detach) {
    cmd->add_option("--host", host, "Host to run on (default: [run] host, normally `local`)");
    cmd->add_flag("--detach",
                  detach,
                  "Return once each run started; `cosmos logs -f RUN_ID` follows it, collects its "
                  "outputs and records the outcome");
}

void add_max_batch(CLI::App* cmd, int& max_batch) {
    cmd->add_option("--max-batch",
                    max_batch,
                    "Most compatible runs one model load serves (Cosmos batch file); 1: one "
                    "load per run")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
}

// Executes `runs` (compatible ones as one model load: services::execute_runs), then the upscale
// run of each that succeeded when `upscale` is set; returns the final records.
core::Result<std::vector<store::RunRecord>> execute_all(Context& ctx,
                                                        services::App& app,
                                                        const std::vector<store::RunRecord>& runs,
                                                        const std::string& host,
                                                        bool detach,
                                                        const SupplyFlags& supply,
                                                        std::optional<double> upscale = {},
                                                        bool created_here = true,
                                                        int max_batch = 8) {
    // A refused run (too many GPUs, a failed verify, an unpinned image, a missing launcher...)
    // is left pending by the services; runs this command created and never started go again, so
    // a refused command leaves nothing behind (docs/errors.md).
    auto forget_unstarted = [&](const std::vector<store::RunRecord>& created) {
        if (!created_here) {
            return;
        }
        for (const auto& run : created) {
            auto now = store::get_run(app.db, run.id);
            if (now && *now && (*now)->status == store::RunStatus::pending && !(*now)->started_at) {
                core::warn_on_error(store::delete_run(app.db, run.id), "removing a refused run");
            }
        }
    };
    RunPrinter printer(ctx.out);
    services::ExecuteOptions opts;
    if (!host.empty()) {
        opts.host = host;
    }
    opts.cancel = &g_interrupted;
    opts.detach = detach;
    opts.skip_verify = supply.skip_verify;
    opts.allow_unpinned = supply.allow_unpinned;
    opts.sink = [&printer](const backends::JobEvent& e) { printer(e); };
    std::vector<std::string> ids;
    for (const auto& run : runs) {
        ids.push_back(run.id);
    }
    auto executed = services::execute_runs(app, ids, opts, max_batch);
    if (!executed) {
        forget_unstarted(runs);
        return fail(std::move(executed).error());
    }
    std::vector<store::RunRecord> done;
    for (auto& run : *executed) {
        bool chain = upscale && run.status == store::RunStatus::succeeded;
        std::string parent_id = run.id;
        done.push_back(std::move(run));
        if (!chain || g_interrupted.load()) {
            continue;
        }
        COSMOS_TRY(auto up, services::create_upscale_run(app, parent_id, *upscale));
        auto final_up = services::execute_run(app, up.id, opts);
        if (!final_up) {
            forget_unstarted({up});
            return fail(std::move(final_up).error());
        }
        done.push_back(std::move(*final_up));
    }
    return done;
}

// Creates one run per id with `create` (all of them before any starts, so a bad id runs
// nothing), then executes them in order.
template <class Create>
core::Result<std::vector<store::RunRecord>> create_and_execute(Context& ctx,
                                                               const std::vector<std::string>& ids,
                                                               Create create,
                                                               const std::string& host,
                                                               bool detach,
                                                               const SupplyFlags& supply) {
    COSMOS_TRY(auto* app, ctx.app());
    std::vector<store::RunRecord> runs;
    for (const auto& id : ids) {
        COSMOS_TRY(auto run, create(*app, id));
        runs.push_back(std::move(run));
    }
    return execute_all(ctx, *app, runs, host, detach, supply);
}

// prompt-enhance --model cosmos3: one chat request per prompt to the Reasoner.
int enhance_with_reasoner(Context& ctx,
                          const std::vector<std::string>& prompts,
                          const std::string& host) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    int code = ctx.guard([&]() -> core::Status {
        COSMOS_TRY(auto* app, ctx.app());
        for (const auto& id : prompts) {
            COSMOS_TRY(
                auto p,
                services::reasoner_enhance(
                    *app, id, host.empty() ? std::nullopt : std::optional<std::string>(host)));
            arr.push_back({{"parent", id}, {"prompt", services::prompt_json(p)}});
            if (!ctx.out.json) {
                ctx.out.print_line(fmt::format("{}\t{}\t{}", id, p.id, p.prompt));
            }
        }
        return {};
    });
    if (ctx.out.json && code == 0) {
        ctx.out.print_json(arr);
    }
    return code;
}

void add_enhance_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> prompts;
        std::string host;
        std::string model = "transfer1";
        bool offload = false;
        SupplyFlags supply;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "prompt-enhance",
        "Rewrite prompts with Cosmos-Transfer1's prompt upsampler (Pixtral-12B, one GPU): one "
        "`enhance` run per prompt, shown a downscaled clip of the prompt's video; each result "
        "becomes a new prompt over the same inputs whose parent is the original");
    cmd->add_option("PROMPT_IDS", a->prompts, "Prompts to enhance")->required();
    cmd->add_option("--host",
                    a->host,
                    "Host to run on (default: [run] host; with --model cosmos3: the host with "
                    "role reasoner)");
    cmd->add_option("--model",
                    a->model,
                    "transfer1 (Pixtral-12B upsampler, an enhance run) or cosmos3 (the Cosmos 3 "
                    "Reasoner: one chat request, no run)")
        ->check(CLI::IsMember({"transfer1", "cosmos3"}))
        ->capture_default_str();
    cmd->add_flag("--offload",
                  a->offload,
                  "Pass --offload_prompt_upsampler (load, run, unload: less GPU memory, slower)");
    add_supply_flags(cmd, a->supply);
    cmd->footer(
        "Examples:\n  cosmos prompt-enhance ps_1a2b3c\n"
        "  cosmos prompt-enhance ps_1a2b3c ps_4d5e6f --host gpu1 --json\n"
        "  cosmos prompt-enhance ps_1a2b3c --model cosmos3\n"
        "The new prompts are listed by `cosmos list prompts`; run them with cosmos inference.");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            if (a->model == "cosmos3") {
                return enhance_with_reasoner(ctx, a->prompts, a->host);
            }
            std::vector<store::RunRecord> finished;
            int code = ctx.guard([&]() -> core::Status {
                auto create = [&a](services::App& app, const std::string& id) {
                    return services::create_enhance_run(app, id, a->offload);
                };
                COSMOS_TRY(finished,
                           create_and_execute(ctx, a->prompts, create, a->host, false, a->supply));
                return {};
            });
            if (code != 0 && finished.empty()) {
                return code;
            }
            nlohmann::ordered_json arr = nlohmann::ordered_json::array();
            int failed = 0;
            for (const auto& r : finished) {
                auto child = ctx.app().has_value()
                                 ? scheduler::enhanced_prompt_of(**ctx.app(), r.id)
                                 : core::Result<std::optional<store::PromptRecord>>(std::nullopt);
                std::optional<store::PromptRecord> prompt = child ? *child : std::nullopt;
                failed += prompt ? 0 : 1;
                arr.push_back(
                    {{"run", services::run_json(r)},
                     {"prompt",
                      prompt ? services::prompt_json(*prompt) : nlohmann::ordered_json(nullptr)}});
                if (!ctx.out.json) {
                    ctx.out.print_line(
                        prompt ? fmt::format("{}\t{}\t{}", r.id, prompt->id, prompt->prompt)
                               : fmt::format("{}\t{}\t{}",
                                             r.id,
                                             store::to_string(r.status),
                                             r.error.value_or("")));
                }
            }
            if (ctx.out.json) {
                ctx.out.print_json(arr);
            }
            if (g_interrupted.load()) {
                return 130;
            }
            return failed > 0 ? core::exit_code_for(ErrorCode::remote_failed) : code;
        };
    });
}

void add_upscale_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> runs;
        double weight = model::k_default_upscale_weight;
        std::string host;
        bool detach = false;
        bool queue = false;
        int priority = 0;
        std::optional<int> num_gpus;
        SupplyFlags supply;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "upscale",
        "Upscale finished runs to 4K with Cosmos-Transfer1's upscaler (a new run of kind "
        "`upscale` per run, its parent_run_id the upscaled run; 10 steps, text-encoder offload)");
    cmd->add_option("RUN_IDS",
                    a->runs,
                    "Succeeded transfer runs to upscale (with --queue also queued or "
                    "running ones)")
        ->required();
    cmd->add_option("--weight", a->weight, "Control weight of the upscaler (>= 0)")
        ->capture_default_str();
    cmd->add_option("--host", a->host, "Host to run on (default: [run] host)");
    cmd->add_option(
        "--num-gpus", a->num_gpus, "GPUs per run (1, 2, 4 or 8; default: the parent's)");
    cmd->add_flag("--detach", a->detach, "Return once started (cosmos logs -f follows)");
    cmd->add_flag("--queue",
                  a->queue,
                  "Queue the upscale runs (each after its run when that one has not succeeded "
                  "yet); `cosmos worker` runs them");
    cmd->add_option("--priority", a->priority, "With --queue: higher runs first")
        ->capture_default_str();
    add_supply_flags(cmd, a->supply);
    cmd->footer(
        "Examples:\n  cosmos upscale rs_1a2b3c\n  cosmos upscale rs_1a2b3c --weight 0.7 --host "
        "gpu1\n"
        "  cosmos upscale rs_1a2b3c --queue           # runs after rs_1a2b3c succeeded\n"
        "  cosmos inference ps_1a2b --upscale 0.5   # transfer, then upscale its output");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            if (a->queue) {
                return ctx.guard([&]() -> core::Status {
                    if (a->detach) {
                        return fail(ErrorCode::invalid_input,
                                    "--queue cannot be combined with --detach");
                    }
                    COSMOS_TRY(auto* app, ctx.app());
                    services::QueueOptions q;
                    q.priority = a->priority;
                    if (!a->host.empty()) {
                        q.host = a->host;
                    }
                    COSMOS_TRY(
                        auto queued,
                        services::queue_upscale_runs(*app, a->runs, a->weight, a->num_gpus, q));
                    print_queued(ctx, queued);
                    return {};
                });
            }
            std::vector<store::RunRecord> finished;
            int code = ctx.guard([&]() -> core::Status {
                auto create = [&a](services::App& app, const std::string& id) {
                    return services::create_upscale_run(app, id, a->weight, a->num_gpus);
                };
                COSMOS_TRY(finished,
                           create_and_execute(ctx, a->runs, create, a->host, a->detach, a->supply));
                return {};
            });
            return report_runs(ctx, finished, code, a->detach);
        };
    });
}

// `cosmos run RUN_ID…`: executes (or queues) runs that exist but never ran: made by `cosmos
// create run`, imported, or left pending by an interrupted command.
void add_run_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> runs;
        std::string host;
        bool detach = false;
        bool queue = false;
        int priority = 0;
        SupplyFlags supply;
        int max_batch = 8;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "run",
        "Execute runs that exist but never ran (made by `cosmos create run`, imported, or left "
        "pending when a command was interrupted), streaming each log; with --queue, queue them "
        "for `cosmos worker`. Runs that already ran are refused: create a new run instead.");
    cmd->add_option("RUN_IDS", a->runs, "Pending runs to execute")->required();
    add_host_and_detach(cmd, a->host, a->detach);
    cmd->add_flag("--queue", a->queue, "Queue the runs instead of running them now");
    cmd->add_option("--priority", a->priority, "With --queue: higher runs first")
        ->capture_default_str();
    add_supply_flags(cmd, a->supply);
    add_max_batch(cmd, a->max_batch);
    cmd->footer(
        "Examples:\n  cosmos create run ps_1a2b --steps 35 && cosmos run rs_…\n"
        "  cosmos run rs_1 rs_2 --queue --host gpu1 && cosmos worker --exit-when-idle");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            std::vector<store::RunRecord> finished;
            bool queued_only = false;
            int code = ctx.guard([&]() -> core::Status {
                if (a->queue && a->detach) {
                    return fail(ErrorCode::invalid_input,
                                "--queue cannot be combined with --detach",
                                "`cosmos worker` runs queued runs");
                }
                COSMOS_TRY(auto* app, ctx.app());
                if (!a->host.empty()) {
                    COSMOS_CHECK(config::find_host(app->config, a->host));
                }
                // Every id checked before anything starts: a bad one runs nothing.
                std::vector<store::RunRecord> runs;
                for (const auto& id : a->runs) {
                    COSMOS_TRY(auto run, store::require_run(app->db, id));
                    if (run.status != store::RunStatus::pending) {
                        return fail(ErrorCode::conflict,
                                    fmt::format("run {} is {}; only pending runs can be run",
                                                id,
                                                store::to_string(run.status)),
                                    run.status == store::RunStatus::queued
                                        ? std::string("`cosmos worker` runs queued runs")
                                        : fmt::format("create a new run: cosmos create run {}",
                                                      run.prompt_id));
                    }
                    runs.push_back(std::move(run));
                }
                if (a->queue) {
                    services::QueueOptions q;
                    q.priority = a->priority;
                    if (!a->host.empty()) {
                        q.host = a->host;
                    }
                    std::vector<services::QueuedRun> queued;
                    for (const auto& run : runs) {
                        COSMOS_TRY(auto job, services::enqueue_run(*app, run.id, q));
                        COSMOS_TRY(auto now, store::require_run(app->db, run.id));
                        queued.push_back({std::move(now), std::move(job)});
                    }
                    print_queued(ctx, queued);
                    queued_only = true;
                    return {};
                }
                COSMOS_TRY(
                    finished,
                    execute_all(
                        ctx, *app, runs, a->host, a->detach, a->supply, {}, false, a->max_batch));
                return {};
            });
            if (queued_only) {
                return code;
            }
            return report_runs(ctx, finished, code, a->detach);
        };
    });
}

}  // namespace

void add_inference_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> prompts;
        std::string host;
        bool detach = false;
        bool queue = false;
        int priority = 0;
        std::vector<std::string> upscale;
        RunOptionsBinding binding;
        SupplyFlags supply;
        int max_batch = 8;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "inference",
        "Run Cosmos-Transfer1 on prompts: create one run per prompt with the given parameters and "
        "execute them, streaming the log. Outputs and logs land in <data_dir>/runs/<run_id>/.");
    cmd->add_option("PROMPT_IDS", a->prompts, "Prompts to run")->required();
    add_host_and_detach(cmd, a->host, a->detach);
    cmd->add_flag("--queue",
                  a->queue,
                  "Queue the runs instead of running them now; `cosmos worker` runs them "
                  "(docs/queue.md)");
    cmd->add_option("--priority", a->priority, "With --queue: higher runs first")
        ->capture_default_str();
    auto* up = cmd->add_option("--upscale",
                               a->upscale,
                               "After each run succeeds, upscale its output to 4K (optional "
                               "weight, default 0.5); with --queue an upscale run is queued "
                               "after each run")
                   ->expected(0, 1)
                   // given without a weight: CLI11 records this (else it records nothing)
                   ->default_str(fmt::format("{}", model::k_default_upscale_weight));
    a->binding.add_to(*cmd);
    add_supply_flags(cmd, a->supply);
    add_max_batch(cmd, a->max_batch);
    cmd->footer(
        "Examples:\n  cosmos inference ps_1a2b3c\n"
        "  cosmos inference ps_1a2b3c ps_4d5e6f --weights 0.3 0.7 0.5 0.2 --seed 42\n"
        "  cosmos inference ps_1a2b3c --host gpu1 --detach   # then: cosmos logs -f RUN_ID\n"
        "  cosmos inference ps_1a2b3c ps_4d5e6f --queue      # then: cosmos worker\n"
        "  cosmos inference ps_1a2b3c --upscale --queue      # upscale queued after the run\n"
        "Exit code 10 when a run failed (its error and log are in `cosmos show RUN_ID`).");
    cmd->callback([&ctx, a, up] {
        bool upscale_given = up->count() > 0;
        ctx.action = [&ctx, a, upscale_given] {
            std::vector<store::RunRecord> finished;
            bool queued_only = false;
            int code = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto upscale, upscale_weight(a->upscale, upscale_given));
                if (upscale && a->detach) {
                    return fail(ErrorCode::invalid_input,
                                "--upscale cannot be combined with --detach",
                                "run `cosmos upscale RUN_ID` once the run succeeded");
                }
                if (a->queue && a->detach) {
                    return fail(ErrorCode::invalid_input,
                                "--queue cannot be combined with --detach",
                                "`cosmos worker` runs queued runs");
                }
                COSMOS_TRY(auto opts, a->binding.options());
                COSMOS_TRY(auto* app, ctx.app());
                if (!a->host.empty()) {
                    COSMOS_TRY(auto h, config::find_host(app->config, a->host));
                    (void)h;
                }
                if (a->queue) {
                    // All validated first, then created and queued in one transaction; with
                    // --upscale each transfer run is followed by an upscale run depending on it.
                    std::vector<services::SubmitEntry> entries;
                    for (const auto& p : a->prompts) {
                        services::SubmitEntry e;
                        e.prompt = p;
                        e.options = opts;
                        e.queue.priority = a->priority;
                        if (!a->host.empty()) {
                            e.queue.host = a->host;
                        }
                        e.upscale = upscale;
                        entries.push_back(std::move(e));
                    }
                    COSMOS_TRY(auto queued, services::submit_runs(*app, entries));
                    print_queued(ctx, queued);
                    queued_only = true;
                    return {};
                }
                // Validate and create every run before starting any.
                std::vector<store::RunRecord> runs;
                for (const auto& p : a->prompts) {
                    COSMOS_TRY(auto run, services::create_run(*app, p, opts));
                    runs.push_back(std::move(run));
                }
                COSMOS_TRY(finished,
                           execute_all(ctx,
                                       *app,
                                       runs,
                                       a->host,
                                       a->detach,
                                       a->supply,
                                       upscale,
                                       true,
                                       a->max_batch));
                return {};
            });
            if (queued_only) {
                return code;
            }
            return report_runs(ctx, finished, code, a->detach);
        };
    });
    add_upscale_command(parent, ctx);
    add_enhance_command(parent, ctx);
    add_run_command(parent, ctx);
}

}  // namespace cosmos::cli
