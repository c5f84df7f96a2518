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

void add_delete_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> ids;
        bool force = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "delete",
        "Delete prompts (with their runs) and runs, and the runs' outputs and logs in "
        "the data dir. Asks first when outputs would be deleted, unless --force.");
    cmd->add_option("IDS", a->ids, "Prompt and run ids")->required();
    cmd->add_flag("-f,--force", a->force, "Do not ask");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto plan, services::plan_delete(*app, a->ids));
                if (!plan.run_dirs.empty() && !a->force) {
                    if (isatty(STDIN_FILENO) == 0) {
                        return fail(ErrorCode::invalid_input,
                                    fmt::format("this would delete the outputs of {} run(s)",
                                                plan.run_dirs.size()),
                                    "pass --force to delete without asking");
                    }
                    std::cerr << fmt::format("Delete {} prompt(s), {} run(s) and the outputs in:\n",
                                             plan.prompts.size(),
                                             plan.runs.size());
                    for (const auto& d : plan.run_dirs) {
                        std::cerr << "  " << d.string() << '\n';
                    }
                    std::cerr << "Proceed? [y/N]: " << std::flush;
                    std::string answer;
                    std::getline(std::cin, answer);
                    if (answer != "y" && answer != "Y" && answer != "yes") {
                        return fail(ErrorCode::invalid_input, "nothing deleted");
                    }
                }
                if (auto s = services::apply_delete(*app, plan); !s) {
                    return s;
                }
                if (ctx.out.json) {
                    ctx.out.print_json(
                        {{"deleted_prompts", plan.prompts}, {"deleted_runs", plan.runs}});
                } else {
                    ctx.out.note(fmt::format("deleted {} prompt(s) and {} run(s)",
                                             plan.prompts.size(),
                                             plan.runs.size()));
                }
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
