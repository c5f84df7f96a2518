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
#include "core/shell_quote.hpp"
#include "model/upscale_command.hpp"
#include "scheduler/run_spec.hpp"
#include "services/create_prompt.hpp"
#include "services/create_run.hpp"
#include "services/enhance.hpp"
#include "services/execute_run.hpp"
#include "services/launch.hpp"
#include "services/prompts_file.hpp"
#include "services/queue.hpp"
#include "services/reasoner.hpp"
#include "services/submit.hpp"
#include "services/upscale.hpp"
#include "services/views.hpp"
#include "store/prompt_store.hpp"
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

// A run planned by --dry-run (not stored) and the prompt it is of (maybe not stored either: a
// prompts file's text line).
struct PlannedRun {
    store::PromptRecord prompt;
    store::RunRecord run;
};

// Plans (without storing) the run of each stored run's prompt.
core::Result<PlannedRun> with_prompt(const services::App& app, store::RunRecord run) {
    COSMOS_TRY(auto prompt, store::get_prompt(app.db, run.prompt_id));
    if (!prompt) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", run.prompt_id));
    }
    return PlannedRun{std::move(*prompt), std::move(run)};
}

// --dry-run: prints what each planned run would launch on `host_name` (else [run] host): the
// exact command and spec; nothing is created, written or started. `then`, when given, says what
// would follow each run (an upscale of its output).
core::Status print_dry_run(Context& ctx,
                           const services::App& app,
                           const std::vector<PlannedRun>& planned,
                           const std::string& host_name,
                           std::string_view verb,
                           const std::optional<std::string>& then = std::nullopt) {
    COSMOS_TRY(auto host,
               config::find_host(app.config, host_name.empty() ? app.config.run.host : host_name));
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& [prompt, run] : planned) {
        COSMOS_TRY(auto preview, services::preview_run(app, prompt, run, &host));
        nlohmann::ordered_json j{
            {"kind", fmt::format("{}", run.kind)},
            {"prompt_id",
             run.prompt_id.empty() ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(run.prompt_id)},
            {"prompt", prompt.prompt},
            {"parent_run_id",
             run.parent_run_id ? nlohmann::ordered_json(*run.parent_run_id) : nullptr},
            {"model", std::string(model::to_string(run.model))}};
        for (auto& [k, v] : preview.items()) {
            j[k] = v;
        }
        if (then) {
            j["then"] = *then;
        }
        if (!ctx.out.json) {
            ctx.out.print_line(fmt::format("would {} {} run of {}{} ({}) on {}",
                                           verb,
                                           run.kind,
                                           run.prompt_id.empty() ? "a new prompt" : run.prompt_id,
                                           run.parent_run_id ? " from " + *run.parent_run_id : "",
                                           model::model_family(run.model).display_name(),
                                           host.name));
            std::vector<std::string> argv;
            for (const auto& a : preview["command"]) {
                argv.push_back(a.get<std::string>());
            }
            ctx.out.print_line("  command: " + core::shell_join(argv));
            ctx.out.print_line("  spec: " + preview["spec"].dump());
            if (then) {
                ctx.out.print_line("  then: " + *then);
            }
        }
        arr.push_back(std::move(j));
    }
    if (ctx.out.json) {
        ctx.out.print_json(arr);
    } else {
        ctx.out.note(fmt::format("dry run: {} run(s) planned, nothing created", planned.size()));
    }
    return {};
}

// A prompt `inference` runs: a stored one, or a prompts file's text line to store first.
struct WantedPrompt {
    store::PromptRecord prompt;  // a text line's: drafted, id and prompt_id empty
    std::optional<services::CreatePromptRequest> create;
};

// The prompts `ids` and `prompts_file` name, in order, all checked; a text line is drafted over
// the input set `inputs` (required then) without storing anything.
core::Result<std::vector<WantedPrompt>> wanted_prompts(const services::App& app,
                                                       const std::vector<std::string>& ids,
                                                       const std::string& prompts_file,
                                                       const std::string& inputs) {
    std::vector<WantedPrompt> wanted;
    auto stored = [&](const std::string& id, const std::string& where) -> core::Status {
        COSMOS_TRY(auto p, store::get_prompt(app.db, id));
        if (!p) {
            return fail(ErrorCode::not_found,
                        fmt::format("{}no prompt {}", where, id),
                        "cosmos list prompts");
        }
        wanted.push_back({std::move(*p), std::nullopt});
        return {};
    };
    for (const auto& id : ids) {
        COSMOS_CHECK(stored(id, ""));
    }
    if (!prompts_file.empty()) {
        COSMOS_TRY(auto lines, services::read_prompts_file(prompts_file));
        for (const auto& line : lines) {
            std::string where = fmt::format("{}:{}: ", prompts_file, line.line);
            if (line.id) {
                COSMOS_CHECK(stored(*line.id, where));
                continue;
            }
            if (inputs.empty()) {
                return fail(ErrorCode::invalid_input,
                            where + "a prompt's text, but no --inputs DIR to make it over",
                            "give --inputs DIR (an input set folder), or put prompt ids in "
                            "the file");
            }
            services::CreatePromptRequest req;
            req.text = line.text;
            req.input_dir = inputs;
            auto draft = services::draft_prompt(app, req);
            if (!draft) {
                return fail(draft.error().code, where + draft.error().message, draft.error().hint);
            }
            draft->record.id.clear();
            wanted.push_back({std::move(draft->record), std::move(req)});
        }
    }
    if (wanted.empty()) {
        return fail(ErrorCode::invalid_input,
                    "no prompts to run",
                    "give PROMPT_IDS or --prompts-file FILE");
    }
    return wanted;
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

// --overwrite: enhanced prompt `child` takes its parent's place (store::swap_enhanced_prompt);
// returns the parent's id's record, now holding the enhanced text.
core::Result<store::PromptRecord> overwrite_with(const services::App& app,
                                                 const store::PromptRecord& child) {
    if (!child.parent_id) {
        return fail(ErrorCode::internal, fmt::format("prompt {} names no parent", child.id));
    }
    COSMOS_CHECK(store::swap_enhanced_prompt(app.db, *child.parent_id, child.id));
    COSMOS_TRY(auto now, store::get_prompt(app.db, *child.parent_id));
    if (!now) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", *child.parent_id));
    }
    return *now;
}

// prompt-enhance --model cosmos3: one chat request per prompt to the Reasoner.
int enhance_with_reasoner(Context& ctx,
                          const std::vector<std::string>& prompts,
                          const std::string& host,
                          bool overwrite) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    int code = ctx.guard([&]() -> core::Status {
        COSMOS_TRY(auto* app, ctx.app());
        for (const auto& id : prompts) {
            COSMOS_TRY(
                auto p,
                services::reasoner_enhance(
                    *app, id, host.empty() ? std::nullopt : std::optional<std::string>(host)));
            if (overwrite) {
                COSMOS_TRY(p, overwrite_with(*app, p));
            }
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
        bool overwrite = false;
        bool dry_run = false;
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
    cmd->add_flag("--overwrite",
                  a->overwrite,
                  "Replace each prompt's text in place: its id gets the enhanced text, and its "
                  "old text (with the runs that ran it) moves to a new prompt, `NAME_original`, "
                  "which becomes its parent");
    cmd->add_flag("--dry-run",
                  a->dry_run,
                  "Print what would run (the exact command and upsampler input per prompt) and "
                  "create, write and start nothing");
    add_supply_flags(cmd, a->supply);
    cmd->footer(
        "Examples:\n  cosmos prompt-enhance ps_1a2b3c\n"
        "  cosmos prompt-enhance ps_1a2b3c --overwrite   # ps_1a2b3c now holds the new text\n"
        "  cosmos prompt-enhance ps_1a2b3c ps_4d5e6f --host gpu1 --json\n"
        "  cosmos prompt-enhance ps_1a2b3c --model cosmos3\n"
        "The new prompts are listed by `cosmos list prompts`; run them with cosmos inference.");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            if (a->dry_run && a->model == "cosmos3") {
                return ctx.guard([&]() -> core::Status {
                    return fail(ErrorCode::invalid_input,
                                "--dry-run runs no model, and --model cosmos3 runs no job: "
                                "there is no command to show",
                                "`cosmos reasoner status` shows the Reasoner it would ask");
                });
            }
            if (a->dry_run) {
                return ctx.guard([&]() -> core::Status {
                    COSMOS_TRY(auto* app, ctx.app());
                    std::vector<PlannedRun> planned;
                    for (const auto& id : a->prompts) {
                        COSMOS_TRY(auto run, services::plan_enhance_run(*app, id, a->offload));
                        COSMOS_TRY(auto p, with_prompt(*app, std::move(run)));
                        planned.push_back(std::move(p));
                    }
                    return print_dry_run(
                        ctx,
                        *app,
                        planned,
                        a->host,
                        "start",
                        a->overwrite ? std::optional<std::string>(
                                           "its prompt's text replaced by the result (--overwrite)")
                                     : std::nullopt);
                });
            }
            if (a->model == "cosmos3") {
                return enhance_with_reasoner(ctx, a->prompts, a->host, a->overwrite);
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
                if (prompt && a->overwrite) {
                    auto swapped = overwrite_with(**ctx.app(), *prompt);
                    if (!swapped) {
                        ctx.out.report_error(swapped.error());
                        prompt.reset();
                    } else {
                        prompt = *swapped;
                    }
                }
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
        std::string prompt;
        bool dry_run = false;
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
    cmd->add_option("--prompt",
                    a->prompt,
                    "The upscaler's guiding prompt (default: the model's own default text)")
        ->type_name("TEXT");
    cmd->add_flag("--dry-run",
                  a->dry_run,
                  "Print what would run (the exact command and upscaler spec per run) and "
                  "create, write and start nothing");
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
        "  cosmos upscale rs_1a2b3c --prompt \"crisp detail, film grain\" --dry-run\n"
        "  cosmos inference ps_1a2b --upscale 0.5   # transfer, then upscale its output");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            services::UpscaleOptions up{a->weight, a->num_gpus, a->prompt};
            if (a->dry_run) {
                return ctx.guard([&]() -> core::Status {
                    COSMOS_TRY(auto* app, ctx.app());
                    std::vector<PlannedRun> planned;
                    auto parent_output = a->queue ? services::ParentOutput::may_come_later
                                                  : services::ParentOutput::required;
                    for (const auto& id : a->runs) {
                        COSMOS_TRY(auto run,
                                   services::plan_upscale_run(*app, id, up, parent_output));
                        COSMOS_TRY(auto p, with_prompt(*app, std::move(run)));
                        planned.push_back(std::move(p));
                    }
                    return print_dry_run(ctx, *app, planned, a->host, a->queue ? "queue" : "start");
                });
            }
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
                    COSMOS_TRY(auto queued, services::queue_upscale_runs(*app, a->runs, up, q));
                    print_queued(ctx, queued);
                    return {};
                });
            }
            std::vector<store::RunRecord> finished;
            int code = ctx.guard([&]() -> core::Status {
                auto create = [&up](services::App& app, const std::string& id) {
                    return services::create_upscale_run(
                        app, id, up, services::ParentOutput::required);
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
        std::string prompts_file;
        std::string inputs;
        bool dry_run = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "inference",
        "Run Cosmos-Transfer1 on prompts: create one run per prompt with the given parameters and "
        "execute them, streaming the log. Outputs and logs land in <data_dir>/runs/<run_id>/.");
    cmd->add_option("PROMPT_IDS", a->prompts, "Prompts to run (or --prompts-file)");
    cmd->add_option("--prompts-file",
                    a->prompts_file,
                    "Also run the prompts a file lists, one per line: a prompt id, or a prompt's "
                    "text (a new prompt over --inputs); blank lines and '#' lines are skipped")
        ->type_name("FILE");
    cmd->add_option("--inputs",
                    a->inputs,
                    "With --prompts-file: the input set folder (as `cosmos create prompt` takes) "
                    "of the prompts its text lines create")
        ->type_name("DIR");
    cmd->add_flag("--dry-run",
                  a->dry_run,
                  "Print what would run (the exact command and spec per run, on the host it "
                  "would use) and create, write and start nothing");
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
        "  cosmos inference --prompts-file shots.txt --inputs renders/shot_010 --dry-run\n"
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
                // Every prompt and run checked before anything is stored: a bad line or id
                // creates nothing.
                COSMOS_TRY(auto wanted,
                           wanted_prompts(*app, a->prompts, a->prompts_file, a->inputs));
                std::vector<PlannedRun> planned;
                for (const auto& w : wanted) {
                    COSMOS_TRY(auto run, services::plan_run(*app, w.prompt, opts));
                    planned.push_back({w.prompt, std::move(run)});
                }
                if (a->dry_run) {
                    queued_only = true;  // nothing ran: nothing to report after the plan
                    std::optional<std::string> then;
                    if (upscale) {
                        then = fmt::format("an upscale run of its output (weight {})", *upscale);
                    }
                    return print_dry_run(
                        ctx, *app, planned, a->host, a->queue ? "queue" : "start", then);
                }
                a->prompts.clear();
                for (const auto& w : wanted) {
                    if (!w.create) {
                        a->prompts.push_back(w.prompt.id);
                        continue;
                    }
                    COSMOS_TRY(auto made, services::create_prompt(*app, *w.create));
                    ctx.out.note(fmt::format("created prompt {} ({})", made.id, made.name));
                    a->prompts.push_back(made.id);
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
