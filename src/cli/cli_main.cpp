#include "cli/cli_main.hpp"

#include <iostream>

#include <signal.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/context.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"

namespace cosmos::cli {

std::atomic<bool> g_interrupted{false};

namespace {

void on_signal(int) {
    g_interrupted.store(true);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

void install_log_sink(const Context& ctx) {
    core::LogLevel level = ctx.verbose ? core::LogLevel::debug : core::LogLevel::warn;
    core::set_log_sink(
        [](core::LogLevel l, std::string_view line) {
            const char* tag = l == core::LogLevel::error  ? "error"
                              : l == core::LogLevel::warn ? "warning"
                              : l == core::LogLevel::info ? "info"
                                                          : "debug";
            std::cerr << "cosmos: " << tag << ": " << line << '\n';
        },
        level);
}

constexpr const char* k_description =
    "cosmos - run NVIDIA Cosmos-Transfer1 on your renders, locally or on GPU hosts.\n\n"
    "A prompt is text + an input folder (color.mp4 and control videos such as depth.mp4,\n"
    "segmentation.mp4, edge.mp4). A run is one execution of the model on a prompt.\n\n"
    "Quick start:\n"
    "  cosmos demo                                  # a full run on the built-in emulator\n"
    "  cosmos create prompt \"a foggy harbour at dawn\" renders/shot010\n"
    "  cosmos inference ps_...  --weight depth=0.6  # create a run and execute it\n"
    "  cosmos list runs; cosmos show rs_...\n\n"
    "Exit codes: 0 ok, 2 usage, 3 invalid input, 4 not found, 5 conflict, 6 config,\n"
    "7 host unreachable, 8 auth, 9 timeout, 10 model/remote failed, 11 I/O, 130 interrupted\n"
    "(docs/errors.md).";

}  // namespace

core::Result<services::App*> Context::app() {
    if (!m_app) {
        config::LoadOptions opts;
        if (!config_path.empty()) {
            opts.explicit_path = config_path;
        }
        COSMOS_TRY(auto a, services::open_app(opts));
        m_app.emplace(std::move(a));
    }
    return &*m_app;
}

core::Result<config::Config> Context::load_config() const {
    config::LoadOptions opts;
    if (!config_path.empty()) {
        opts.explicit_path = config_path;
    }
    return config::load_config(opts);
}

int Context::guard(const std::function<core::Status()>& body) const {
    core::Status s = body();
    if (!s) {
        return out.report_error(s.error());
    }
    return g_interrupted.load() ? 130 : 0;
}

int run(int argc, char** argv) {
    install_signal_handlers();
    Context ctx;
    CLI::App app{k_description, "cosmos"};
    app.set_version_flag("--version", std::string("cosmos ") + COSMOS_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.option_defaults()->always_capture_default();
    app.add_option("--config",
                   ctx.config_path,
                   "Configuration file (else $COSMOS_CONFIG, "
                   "./cosmos.toml, ~/.config/cosmos/config.toml)")
        ->type_name("FILE");
    app.add_flag("--json", ctx.json, "Print results as JSON on stdout (errors too)");
    app.add_flag("-q,--quiet", ctx.quiet, "No progress or log lines on stderr");
    app.add_flag("-v,--verbose", ctx.verbose, "Debug logging on stderr");

    add_create_commands(app, ctx);
    add_read_commands(app, ctx);
    add_delete_command(app, ctx);
    add_inference_command(app, ctx);
    add_import_command(app, ctx);
    add_config_commands(app, ctx);
    add_demo_commands(app, ctx);
    add_models_commands(app, ctx);
    add_reasoner_commands(app, ctx);
    add_stage_command(app, ctx);
    add_hosts_commands(app, ctx);
    add_remote_commands(app, ctx);
    add_checkpoints_commands(app, ctx);
    add_setup_commands(app, ctx);
    add_queue_commands(app, ctx);
    add_submit_commands(app, ctx);
    add_media_commands(app, ctx);
    add_ui_command(app, ctx);
    add_cost_command(app, ctx);
    add_alerts_command(app, ctx);
    add_doctor_command(app, ctx);
    // Last: completion walks the tree the commands above built.
    add_completion_commands(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);  // --help, --version
        }
        // Usage errors: one documented exit code (2) and the same one-line shape as every error.
        std::cerr << "cosmos: " << e.what() << "\nhint: see `cosmos "
                  << (app.get_subcommands().empty()
                          ? std::string()
                          : app.get_subcommands().back()->get_name() + " ")
                  << "--help`\n";
        if (ctx.json) {
            std::cout << nlohmann::ordered_json{{"error",
                                                 {{"code", "usage"}, {"message", e.what()}}}}
                             .dump(2)
                      << '\n';
        }
        return 2;
    }
    ctx.out = Output::detect(ctx.json, ctx.quiet);
    install_log_sink(ctx);
    if (!ctx.action) {
        std::cerr << app.help();
        return 2;
    }
    try {
        return ctx.action();
    } catch (const std::exception& e) {
        return ctx.out.report_error(
            core::make_error(core::ErrorCode::internal,
                             fmt::format("internal error: {}", core::redact(e.what())),
                             "this is a bug; please report it with the command you ran"));
    }
}

}  // namespace cosmos::cli
