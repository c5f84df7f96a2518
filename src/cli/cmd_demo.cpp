// `cosmos demo` and `cosmos emulator install DIR`.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_printer.hpp"
#include "services/demo.hpp"
#include "services/emulator_install.hpp"
#include "services/views.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

void add_demo(CLI::App& parent, Context& ctx) {
    auto* cmd = parent.add_subcommand(
        "demo",
        "Generate a small input set, create a prompt and run it on the default host (the "
        "built-in emulator unless configured otherwise); prints where the video and log "
        "are");
    cmd->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                ctx.out.note(fmt::format("demo: data dir {}", app->data_dir().string()));
                RunPrinter printer(ctx.out);
                COSMOS_TRY(
                    auto result,
                    services::run_demo(
                        *app, [&](const backends::JobEvent& e) { printer(e); }, &g_interrupted));
                const auto& run = result.run;
                if (ctx.out.json) {
                    auto j = services::run_json(run);
                    j["prompt"] = services::prompt_json(result.prompt);
                    ctx.out.print_json(j);
                }
                if (run.status != store::RunStatus::succeeded) {
                    return fail(ErrorCode::remote_failed,
                                fmt::format("demo run {} {}: {}",
                                            run.id,
                                            store::to_string(run.status),
                                            run.error.value_or("")),
                                fmt::format("log: {}", run.log_path.value_or("-")));
                }
                if (!ctx.out.json) {
                    ctx.out.print_line(
                        fmt::format("prompt  {}\nrun     {} succeeded\nvideo   {}\n"
                                    "log     {}\nnext    cosmos show {}",
                                    result.prompt.id,
                                    run.id,
                                    run.output_video.value_or("-"),
                                    run.log_path.value_or("-"),
                                    run.id));
                }
                return {};
            });
        };
    });
}

void add_emulator(CLI::App& parent, Context& ctx) {
    auto* emu = parent.add_subcommand(
        "emulator",
        "The stand-in for the Cosmos models (Transfer1, Transfer2.5) used for demos and tests "
        "(docs/emulator.md)");
    emu->require_subcommand(1);
    auto dir = std::make_shared<std::string>();
    auto* install = emu->add_subcommand(
        "install",
        "Lay out an emulated Cosmos checkout in DIR that serves every model family (Transfer1's "
        "transfer.py and Transfer2.5's examples/inference.py at their real paths, torchrun and "
        "nvidia-smi stand-ins, placeholder checkpoints); point a host's cosmos_dir at it");
    install->add_option("DIR", *dir)->required();
    install->callback([&ctx, dir] {
        ctx.action = [&ctx, dir] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto bin, services::find_emulator_binary());
                std::filesystem::path target = std::filesystem::absolute(*dir);
                if (auto s = services::install_emulator(target, bin); !s) {
                    return s;
                }
                if (ctx.out.json) {
                    ctx.out.print_json({{"cosmos_dir", target.string()},
                                        {"torchrun", (target / "bin/torchrun").string()}});
                } else {
                    ctx.out.print_line(fmt::format(
                        "emulator installed in {}\nuse it from a host: cosmos_dir = \"{}\", "
                        "torchrun = \"{}\"",
                        target.string(),
                        target.string(),
                        (target / "bin/torchrun").string()));
                }
                return {};
            });
        };
    });
}

}  // namespace

void add_demo_commands(CLI::App& parent, Context& ctx) {
    add_demo(parent, ctx);
    add_emulator(parent, ctx);
}

}  // namespace cosmos::cli
