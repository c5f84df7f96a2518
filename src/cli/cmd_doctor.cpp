// `cosmos doctor [HOST] [--json]`: checks the configuration, the database and every host (or
// one) and says what to fix (services/doctor.hpp, docs/doctor.md).

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "services/doctor.hpp"

namespace cosmos::cli {

namespace {

void print_report(const Context& ctx, const services::DoctorReport& report) {
    std::string scope;
    int fails = 0, warns = 0, oks = 0;
    for (const auto& c : report.checks) {
        if (c.scope != scope) {
            scope = c.scope;
            ctx.out.print_line(ctx.out.style(scope, "1"));
        }
        std::string mark = c.status == services::Verdict::ok     ? ctx.out.style("ok  ", "32")
                           : c.status == services::Verdict::warn ? ctx.out.style("warn", "33")
                                                                 : ctx.out.style("FAIL", "31");
        ctx.out.print_line(fmt::format("  {} {:<24} {}", mark, c.check, c.detail));
        if (!c.fix.empty() && c.status != services::Verdict::ok) {
            ctx.out.print_line(fmt::format("       {:<24} fix: {}", "", c.fix));
        }
        (c.status == services::Verdict::ok     ? oks
         : c.status == services::Verdict::warn ? warns
                                               : fails)++;
    }
    ctx.out.print_line(fmt::format("{}: {} failed, {} warning(s), {} ok",
                                   fails == 0 ? "healthy" : "problems found",
                                   fails,
                                   warns,
                                   oks));
}

}  // namespace

void add_doctor_command(CLI::App& app, Context& ctx) {
    auto host = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "doctor",
        "Check the setup and say what to fix: the configuration and hosts file, the database "
        "(integrity, schema version), the Hugging Face token file's mode, and for every host (or "
        "HOST): reachable, host key trusted, GPU driver (nvidia-smi), container runtime and NVIDIA "
        "toolkit (docker) or Python and launcher (native), the model's checkout and version, "
        "checkpoints present and verified, free disk in the work dir, clock skew. Each check is "
        "ok, warn or fail, with the fix; exit 0 when nothing failed, else the exit code of the "
        "first failure (docs/errors.md; warnings never change it)");
    cmd->add_option("HOST", *host, "Check only this host (default: every configured host)");
    cmd->footer(
        "Examples:\n"
        "  cosmos doctor                 # everything\n"
        "  cosmos doctor gpu1            # the configuration, the database and host gpu1\n"
        "  cosmos doctor --json | jq '.checks[] | select(.status != \"ok\")'\n"
        "Exit codes: 0 healthy (warnings allowed); otherwise the first failed check's: 3 token\n"
        "file readable by others, 4 something missing (driver, checkout, checkpoints), 5\n"
        "checkpoints differ from the manifest, 6 config, 7 unreachable, 8 host key unknown or\n"
        "changed, 11 database or disk. See docs/doctor.md.");
    cmd->callback([&ctx, host] {
        ctx.action = [&ctx, host]() -> int {
            int code = 0;
            int status = ctx.guard([&]() -> core::Status {
                services::DoctorOptions opts;
                if (!ctx.config_path.empty()) {
                    opts.load.explicit_path = ctx.config_path;
                }
                opts.host = *host;
                COSMOS_TRY(auto report, services::run_doctor(opts));
                if (ctx.out.json) {
                    ctx.out.print_json(services::doctor_json(report));
                } else {
                    print_report(ctx, report);
                }
                if (const auto* f = report.first_failure()) {
                    code = core::exit_code_for(f->code);
                }
                return {};
            });
            return status != 0 ? status : code;
        };
    });
}

}  // namespace cosmos::cli
