#pragma once
// What every command shares: global options, the output rules, the lazily opened app, and the
// cancellation flag set by Ctrl-C / SIGTERM.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/output.hpp"
#include "core/result.hpp"
#include "services/app.hpp"

namespace CLI {
class App;
}
namespace cosmos::web {
class UiServer;
}

namespace cosmos::cli {

struct Context {
    std::string config_path;  // --config
    bool json = false;        // --json
    bool quiet = false;       // --quiet
    bool verbose = false;     // --verbose
    Output out;
    // The command chosen on the command line; returns the exit code.
    std::function<int()> action;

    // Opens the configuration and the database once.
    core::Result<services::App*> app();
    // Loads only the configuration (commands that must not create a database).
    core::Result<config::Config> load_config() const;

    // Runs `body`, printing its error and mapping it to an exit code.
    int guard(const std::function<core::Status()>& body) const;

private:
    std::optional<services::App> m_app;
};

// Set by the SIGINT/SIGTERM handler; long operations poll it (the one mutable global: a signal
// handler can only reach a global).
extern std::atomic<bool> g_interrupted;

// Registration of each command group (one file each).
void add_create_commands(CLI::App& app, Context& ctx);
void add_read_commands(CLI::App& app, Context& ctx);  // list, show, search, spec
void add_delete_command(CLI::App& app, Context& ctx);
void add_inference_command(CLI::App& app, Context& ctx);
void add_import_command(CLI::App& app, Context& ctx);
void add_config_commands(CLI::App& app, Context& ctx);       // config show|check, templates
void add_demo_commands(CLI::App& app, Context& ctx);         // demo, emulator install
void add_models_commands(CLI::App& app, Context& ctx);       // models list|show
void add_reasoner_commands(CLI::App& app, Context& ctx);     // caption, review (Cosmos 3)
void add_stage_command(CLI::App& app, Context& ctx);         // stage (inputs into a host's cache)
void add_hosts_commands(CLI::App& app, Context& ctx);        // hosts add|list|show|remove|trust
void add_remote_commands(CLI::App& app, Context& ctx);       // logs, kill, status
void add_checkpoints_commands(CLI::App& app, Context& ctx);  // checkpoints manifest|verify
void add_setup_commands(CLI::App& app, Context& ctx);        // setup image|checkpoints
void add_queue_commands(CLI::App& app, Context& ctx);   // queue [pause|resume|cancel|move], worker
void add_submit_commands(CLI::App& app, Context& ctx);  // sweep, batch
void add_media_commands(CLI::App& app,
                        Context& ctx);  // prepare, interpolate, chunk, stitch, long-run
void add_ui_command(CLI::App& app, Context& ctx);
void add_cost_command(
    CLI::App& app,
    Context& ctx);  // cost (GPU-hours and money)  // ui (the web UI; serve takes its flags)
void add_alerts_command(CLI::App& app, Context& ctx);       // alerts list|test|check
void add_completion_commands(CLI::App& app, Context& ctx);  // completion, __complete (hidden)
void add_doctor_command(CLI::App& app, Context& ctx);       // doctor [HOST]
void add_rate_command(CLI::App& app, Context& ctx);         // rate RUN_ID... N | --clear
void add_verify_command(CLI::App& app, Context& ctx);       // verify [--repair]

// The web UI flags shared by `cosmos ui` and `cosmos serve` (cmd_ui.cpp).
struct UiFlags {
    int port = 8765;
    std::string bind = "127.0.0.1";
    int host_probe_s = 10;
};
void add_ui_options(CLI::App& cmd, UiFlags& flags);
// Starts the UI server for `flags` and prints where it listens (stderr; --json: stdout).
core::Result<std::unique_ptr<web::UiServer>> start_ui(Context& ctx, const UiFlags& flags);

}  // namespace cosmos::cli
