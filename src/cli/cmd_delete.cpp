// `cosmos delete ID... [--force]`.

#include <iostream>
#include <memory>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "services/delete_objects.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// Asks on the terminal whether to go ahead with `plan`; fails with invalid_input when stdin is not
// a terminal (--force says yes). Returns false when the user declined.
core::Result<bool> confirm(const services::DeletePlan& plan, bool all) {
    std::size_t outputs = plan.keep_outputs ? 0 : plan.run_dirs.size();
    if (isatty(STDIN_FILENO) == 0) {
        return fail(
            ErrorCode::invalid_input,
            all ? fmt::format("this would delete every prompt ({}) and run ({}){}",
                              plan.prompts.size(),
                              plan.runs.size(),
                              outputs > 0 ? fmt::format(" and the outputs of {} run(s)", outputs)
                                          : std::string())
                : fmt::format("this would delete the outputs of {} run(s)", outputs),
            "pass --force to delete without asking");
    }
    std::cerr << fmt::format("Delete {}{} prompt(s) and {} run(s){}\n",
                             all ? "ALL: " : "",
                             plan.prompts.size(),
                             plan.runs.size(),
                             outputs > 0 ? ", and the outputs in:" : "");
    std::size_t shown = 0;
    for (const auto& d : plan.run_dirs) {
        if (outputs == 0 || ++shown > 20) {
            break;
        }
        std::cerr << "  " << d.string() << '\n';
    }
    if (outputs > 20) {
        std::cerr << fmt::format("  ... and {} more\n", outputs - 20);
    }
    if (plan.keep_outputs && !plan.run_dirs.empty()) {
        std::cerr << fmt::format("({} run folder(s) kept: --keep-outputs)\n", plan.run_dirs.size());
    }
    std::cerr << "Proceed? [y/N]: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

void add_delete_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> ids;
        bool force = false;
        bool all = false;
        bool keep_outputs = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "delete",
        "Delete prompts (with their runs) and runs, and the runs' outputs and logs in "
        "the data dir. Asks first when outputs would be deleted (always with --all), unless "
        "--force.");
    cmd->add_option("IDS", a->ids, "Prompt and run ids");
    cmd->add_flag("--all", a->all, "Every prompt and run (asks, showing the counts)");
    cmd->add_flag("--keep-outputs",
                  a->keep_outputs,
                  "Delete the records only: the runs' folders (outputs, logs) stay in "
                  "<data_dir>/runs/ (`cosmos verify` then lists them as orphans)");
    cmd->add_flag("-f,--force", a->force, "Do not ask");
    cmd->footer(
        "Examples:\n  cosmos delete rs_1a2b3c4d5e6f\n"
        "  cosmos delete ps_1a2b3c4d5e6f --keep-outputs   # the prompt and its runs' records\n"
        "  cosmos delete --all --force\n"
        "A running run refuses the whole command: cancel it first (cosmos kill RUN_ID).");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                if (a->all == !a->ids.empty()) {
                    return fail(ErrorCode::invalid_input,
                                a->all ? "--all deletes everything: give no ids with it"
                                       : "nothing to delete",
                                "cosmos delete ID... or cosmos delete --all");
                }
                COSMOS_TRY(auto* app, ctx.app());
                services::DeletePlan plan;
                if (a->all) {
                    COSMOS_TRY(plan, services::plan_delete_all(*app));
                } else {
                    COSMOS_TRY(plan, services::plan_delete(*app, a->ids));
                }
                plan.keep_outputs = a->keep_outputs;
                bool ask = a->all ? !plan.prompts.empty() || !plan.runs.empty()
                                  : !plan.keep_outputs && !plan.run_dirs.empty();
                if (ask && !a->force) {
                    COSMOS_TRY(bool yes, confirm(plan, a->all));
                    if (!yes) {
                        ctx.out.note("nothing deleted");
                        if (ctx.out.json) {
                            ctx.out.print_json({{"deleted_prompts", nlohmann::json::array()},
                                                {"deleted_runs", nlohmann::json::array()}});
                        }
                        return {};
                    }
                }
                if (auto s = services::apply_delete(*app, plan); !s) {
                    return s;
                }
                if (ctx.out.json) {
                    ctx.out.print_json(
                        {{"deleted_prompts", plan.prompts},
                         {"deleted_runs", plan.runs},
                         {"kept_outputs", plan.keep_outputs ? plan.run_dirs.size() : 0}});
                } else {
                    ctx.out.note(fmt::format(
                        "deleted {} prompt(s) and {} run(s){}",
                        plan.prompts.size(),
                        plan.runs.size(),
                        plan.keep_outputs && !plan.run_dirs.empty()
                            ? fmt::format("; {} run folder(s) kept", plan.run_dirs.size())
                            : std::string()));
                }
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
