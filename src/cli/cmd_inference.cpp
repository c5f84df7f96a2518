// `cosmos inference PROMPT_ID... [run options] [--host H]`: create one run per prompt and execute
// them, streaming the model's log with a progress bar.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_options.hpp"
#include "cli/run_printer.hpp"
#include "services/create_run.hpp"
#include "services/execute_run.hpp"
#include "services/views.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// Executes `runs` one after another; returns the final records.
core::Result<std::vector<store::RunRecord>> execute_all(Context& ctx,
                                                        services::App& app,
                                                        const std::vector<store::RunRecord>& runs,
                                                        const std::string& host) {
    std::vector<store::RunRecord> done;
    for (const auto& run : runs) {
        if (g_interrupted.load()) {
            break;
        }
        RunPrinter printer(ctx.out);
        services::ExecuteOptions opts;
        if (!host.empty()) {
            opts.host = host;
        }
        opts.cancel = &g_interrupted;
        opts.sink = [&printer](const backends::JobEvent& e) { printer(e); };
        COSMOS_TRY(auto final_run, services::execute_run(app, run.id, opts));
        done.push_back(std::move(final_run));
    }
    return done;
}

}  // namespace

void add_inference_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::vector<std::string> prompts;
        std::string host;
        RunOptionsBinding binding;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "inference",
        "Run Cosmos-Transfer1 on prompts: create one run per prompt with the given parameters and "
        "execute them, streaming the log. Outputs and logs land in <data_dir>/runs/<run_id>/.");
    cmd->add_option("PROMPT_IDS", a->prompts, "Prompts to run")->required();
    cmd->add_option("--host", a->host, "Host to run on (default: [run] host, normally `local`)");
    a->binding.add_to(*cmd);
    cmd->footer(
        "Examples:\n  cosmos inference ps_1a2b3c\n"
        "  cosmos inference ps_1a2b3c ps_4d5e6f --weights 0.3 0.7 0.5 0.2 --seed 42\n"
        "Exit code 10 when a run failed (its error and log are in `cosmos show RUN_ID`).");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            std::vector<store::RunRecord> finished;
            int code = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto opts, a->binding.options());
                COSMOS_TRY(auto* app, ctx.app());
                if (!a->host.empty()) {
                    COSMOS_TRY(auto h, config::find_host(app->config, a->host));
                    (void)h;
                }
                // Validate and create every run before starting any.
                std::vector<store::RunRecord> runs;
                for (const auto& p : a->prompts) {
                    COSMOS_TRY(auto run, services::create_run(*app, p, opts));
                    runs.push_back(std::move(run));
                }
                COSMOS_TRY(finished, execute_all(ctx, *app, runs, a->host));
                return {};
            });
            if (code != 0 && finished.empty()) {
                return code;
            }
            nlohmann::ordered_json arr = nlohmann::ordered_json::array();
            int failed = 0;
            for (const auto& r : finished) {
                arr.push_back(services::run_json(r));
                failed += r.status == store::RunStatus::succeeded ? 0 : 1;
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
        };
    });
}

}  // namespace cosmos::cli
