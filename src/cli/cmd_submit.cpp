// `cosmos sweep PROMPT_ID... --weights-grid MOD=W1,W2 --seeds 1-8 ...`: queue the cartesian
// product of a parameter grid; `cosmos batch FILE`: queue the runs a JSON or TOML file lists.
// Both validate everything before creating anything (services/submit) and print the queued runs.

#include <limits>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_options.hpp"
#include "cli/submit_output.hpp"
#include "core/ids.hpp"
#include "model/upscale_command.hpp"
#include "services/batch_file.hpp"
#include "services/submit.hpp"
#include "services/sweep.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// Creates and queues `entries`, or in a dry run only validates and prints them.
// A sweep's runs are tagged with a new sweep id (cosmos cost --by sweep).
core::Status submit(Context& ctx,
                    const std::vector<services::SubmitEntry>& entries,
                    bool dry_run,
                    bool sweep) {
    COSMOS_TRY(auto* app, ctx.app());
    if (dry_run) {
        COSMOS_TRY(auto plan, services::plan_runs(*app, entries));
        COSMOS_TRY(auto estimate, services::estimate_plan(*app, plan));
        print_planned(ctx, plan, estimate);
        return {};
    }
    const std::string sweep_id = sweep ? core::new_id(core::IdKind::sweep) : std::string();
    COSMOS_TRY(auto queued, services::submit_runs(*app, entries, sweep_id));
    print_queued(ctx, queued);
    if (sweep) {
        ctx.out.note(
            fmt::format("sweep {}: its cost once it ran: cosmos cost --by sweep", sweep_id));
    }
    return {};
}

void add_sweep_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> prompts;
        std::vector<std::string> grids;
        std::string seeds;
        std::string host;
        int priority = 0;
        std::vector<std::string> upscale;
        bool dry_run = false;
        std::size_t max_runs = services::k_default_max_sweep_runs;
        bool yes = false;
        RunOptionsBinding binding;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "sweep",
        "Queue a parameter sweep: one run per combination of prompts x each --weights-grid "
        "modality's values x --seeds; the other run options apply to every run. Everything is "
        "validated before any run is created; `cosmos worker` then works the queue");
    cmd->add_option("PROMPT_IDS", a->prompts, "Prompts to sweep")->required();
    cmd->add_option("--weights-grid",
                    a->grids,
                    "Values of one modality's weight, e.g. --weights-grid depth=0.2,0.4,0.6 "
                    "(repeatable, one per modality)")
        ->type_name("MOD=W1,W2,...")
        ->allow_extra_args(false);
    cmd->add_option("--seeds", a->seeds, "Seeds: a list 1,2,3, a range 1-8, or both (1-4,9)")
        ->type_name("LIST");
    a->binding.add_to(*cmd);
    cmd->add_option("--host", a->host, "Queue every run for this host (default: any host)");
    cmd->add_option("--priority", a->priority, "Queue priority (higher runs first)")
        ->capture_default_str();
    auto* up = cmd->add_option("--upscale",
                               a->upscale,
                               "Also queue an upscale to 4K of each run, after it (optional "
                               "weight, default 0.5)")
                   ->expected(0, 1)
                   // given without a weight: CLI11 records this (else it records nothing)
                   ->default_str(fmt::format("{}", model::k_default_upscale_weight));
    cmd->add_flag("--dry-run",
                  a->dry_run,
                  "Print the runs the sweep would queue and its estimated GPU-hours and cost "
                  "(from similar finished runs); create nothing");
    cmd->add_option("--max", a->max_runs, "Refuse a sweep of more runs than this")
        ->capture_default_str();
    cmd->add_flag("--yes", a->yes, "No limit on the number of runs");
    cmd->footer(
        "Examples:\n"
        "  cosmos sweep ps_1a2b --weights-grid depth=0.3,0.6 --weights-grid seg=0.2,0.4 "
        "--seeds 1-4\n"
        "  cosmos sweep ps_1a2b ps_3c4d --seeds 1,2,3 --steps 20 --upscale --dry-run\n"
        "Then: cosmos worker --exit-when-idle (docs/submit.md)");
    cmd->callback([&ctx, a, up] {
        bool upscale_given = up->count() > 0;
        ctx.action = [&ctx, a, upscale_given] {
            return ctx.guard([&]() -> core::Status {
                services::SweepRequest req;
                req.prompts = a->prompts;
                COSMOS_TRY(req.base, a->binding.options());
                for (const auto& g : a->grids) {
                    COSMOS_TRY(auto axis, services::parse_weight_axis(g));
                    req.weights.push_back(std::move(axis));
                }
                if (!a->seeds.empty()) {
                    COSMOS_TRY(req.seeds, services::parse_int_list("--seeds", a->seeds));
                }
                if (!a->host.empty()) {
                    req.queue.host = a->host;
                }
                req.queue.priority = a->priority;
                COSMOS_TRY(req.upscale, upscale_weight(a->upscale, upscale_given));
                COSMOS_TRY(auto entries, services::expand_sweep(req, a->yes ? 0 : a->max_runs));
                return submit(ctx, entries, a->dry_run, true);
            });
        };
    });
}

void add_batch_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string file;
        bool dry_run = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "batch",
        "Queue the runs a batch file lists (JSON: an array or {\"runs\": [...]}; TOML: [[runs]] "
        "tables). Every entry is validated first: one bad entry creates nothing");
    cmd->add_option("FILE", a->file, "The batch file (.json or .toml)")->required();
    cmd->add_flag("--dry-run", a->dry_run, "Validate and print the runs; create nothing");
    cmd->footer(
        "Entry keys: prompt_id (or prompt: a name), weights {mod = w}, num_steps, "
        "guidance, sigma_max, seed, fps, blur_strength, canny_threshold, num_gpus, "
        "offload, host, priority, upscale (weight or true).\n"
        "Examples:\n  cosmos batch runs.toml --dry-run\n  cosmos batch runs.json\n"
        "Format: docs/submit.md");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto entries, services::read_batch_file(a->file));
                if (entries.empty()) {
                    return fail(ErrorCode::invalid_input, fmt::format("{} lists no runs", a->file));
                }
                return submit(ctx, entries, a->dry_run, false);
            });
        };
    });
}

}  // namespace

void add_submit_commands(CLI::App& app, Context& ctx) {
    add_sweep_command(app, ctx);
    add_batch_command(app, ctx);
}

}  // namespace cosmos::cli
