// `cosmos import PATH...`: prompts, runs and the database of the Python tool this one replaces.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "services/import_legacy.hpp"

namespace cosmos::cli {

void add_import_command(CLI::App& parent, Context& ctx) {
    auto paths = std::make_shared<std::vector<std::string>>();
    auto* cmd = parent.add_subcommand(
        "import",
        "Import the Python tool's prompt-spec and run-spec JSON files (folders are searched "
        "recursively, e.g. inputs/prompts/ with dated subfolders) and its SQLite database. Ids are "
        "kept; importing twice adds nothing; every skipped item is reported with the reason.");
    cmd->add_option("PATHS", *paths, "JSON files, folders, or the tool's .db file")->required();
    cmd->footer(
        "Example:\n  cosmos import ~/cosmos-old/inputs/prompts ~/cosmos-old/inputs/runs "
        "~/cosmos-old/outputs/cosmos.db\nSee docs/import.md for the field mapping.");
    cmd->callback([&ctx, paths] {
        ctx.action = [&ctx, paths] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                std::vector<std::filesystem::path> p(paths->begin(), paths->end());
                COSMOS_TRY(
                    auto report,
                    services::import_legacy(
                        app->db, p, services::ImportDefaults{app->config.run.negative_prompt}));
                if (ctx.out.json) {
                    nlohmann::ordered_json items = nlohmann::ordered_json::array();
                    for (const auto& i : report.items) {
                        items.push_back({{"source", i.source},
                                         {"id", i.id},
                                         {"kind", i.kind},
                                         {"action", i.action},
                                         {"reason", i.reason}});
                    }
                    ctx.out.print_json({{"imported_prompts", report.imported_prompts},
                                        {"imported_runs", report.imported_runs},
                                        {"skipped", report.skipped},
                                        {"items", items}});
                    return {};
                }
                for (const auto& i : report.items) {
                    if (i.action == "skipped" || !i.reason.empty()) {
                        ctx.out.print_line(fmt::format("{:<8} {:<6} {:<20} {}{}",
                                                       i.action,
                                                       i.kind,
                                                       i.id.empty() ? "-" : i.id,
                                                       i.source,
                                                       i.reason.empty() ? "" : ": " + i.reason));
                    }
                }
                ctx.out.print_line(fmt::format("imported {} prompt(s) and {} run(s); skipped {}",
                                               report.imported_prompts,
                                               report.imported_runs,
                                               report.skipped));
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
