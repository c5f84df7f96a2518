// `cosmos verify [--repair] [--json]`: the database against the files on disk, and the safe
// repairs (services/verify.hpp, docs/verify.md).

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "services/verify.hpp"

namespace cosmos::cli {

namespace {

void print_report(const Context& ctx, const services::VerifyReport& report) {
    ctx.out.print_line(fmt::format("database  {}", report.database));
    ctx.out.print_line(fmt::format(
        "checked   {} finished runs, {} prompts, {} run folders{}",
        report.runs,
        report.prompts,
        report.run_folders,
        report.not_checked > 0 ? fmt::format(" ({} relative paths of imported records not checked)",
                                             report.not_checked)
                               : std::string()));
    for (const auto& f : report.findings) {
        std::string mark = f.repaired                                ? ctx.out.style("fixed", "32")
                           : f.severity == services::Severity::error ? ctx.out.style("ERROR", "31")
                                                                     : ctx.out.style("warn ", "33");
        ctx.out.print_line(fmt::format("{}  {:<20} {:<22} {}{}",
                                       mark,
                                       f.kind,
                                       f.subject,
                                       f.detail,
                                       f.path.empty() ? std::string() : ": " + f.path));
        if (!f.repair.empty()) {
            ctx.out.print_line(fmt::format("       {:<20} {:<22} {}", "", "", f.repair));
        }
    }
    std::size_t errors = report.count(services::Severity::error, true);
    std::size_t warnings = report.count(services::Severity::warning, true);
    std::size_t fixed = report.findings.size() - errors - warnings;
    std::string summary =
        fmt::format("{}: {} error(s), {} warning(s){}",
                    report.findings.empty() ? "consistent"
                    : errors == 0           ? "no errors left"
                                            : "problems found",
                    errors,
                    warnings,
                    report.repair ? fmt::format(", {} repaired", fixed) : std::string());
    if (!report.repair && !report.findings.empty()) {
        summary += "; `cosmos verify --repair` does what is safe (docs/verify.md)";
    }
    ctx.out.print_line(summary);
}

}  // namespace

void add_verify_command(CLI::App& parent, Context& ctx) {
    auto repair = std::make_shared<bool>(false);
    auto* cmd = parent.add_subcommand(
        "verify",
        "Check the database against the files on disk: finished runs whose output video, log or "
        "output folder is gone (a succeeded run without its video is an error), folders under "
        "<data_dir>/runs/ that no run owns (orphans, an error), prompts whose input files are "
        "gone, and the database's own integrity (PRAGMA integrity_check, foreign_key_check). "
        "--repair does only what loses nothing and says what it did: orphan folders are moved "
        "into <data_dir>/orphans/<time>/, a run's paths that name nothing are cleared with an "
        "event recording them; nothing is ever deleted");
    cmd->add_flag("--repair", *repair, "Do the safe repairs (docs/verify.md)");
    cmd->footer(
        "Examples:\n"
        "  cosmos verify\n"
        "  cosmos verify --repair\n"
        "  cosmos verify --json | jq '.findings[] | select(.severity == \"error\")'\n"
        "Exit codes: 0 no error (warnings allowed, or every error repaired); 11 an error is\n"
        "left (files and database disagree, or the database is damaged). See docs/verify.md.");
    cmd->callback([&ctx, repair] {
        ctx.action = [&ctx, repair]() -> int {
            bool ok = true;
            int status = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                services::VerifyOptions opts;
                opts.repair = *repair;
                COSMOS_TRY(auto report, services::verify_store(*app, opts));
                if (ctx.out.json) {
                    ctx.out.print_json(services::verify_json(report));
                } else {
                    print_report(ctx, report);
                }
                ok = report.ok();
                return {};
            });
            if (status != 0) {
                return status;
            }
            return ok ? 0 : core::exit_code_for(core::ErrorCode::io);
        };
    });
}

}  // namespace cosmos::cli
