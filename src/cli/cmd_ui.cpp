// `cosmos ui`: serve the web UI and its JSON API (docs/api.md, docs/ui.md); `cosmos serve`
// (cmd_queue.cpp) serves the same while it works the queue.

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "web/server.hpp"

namespace cosmos::cli {

void add_ui_options(CLI::App& cmd, UiFlags& flags) {
    cmd.add_option("--port", flags.port, "TCP port to serve the web UI on (0: any free port)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    cmd.add_option("--bind",
                   flags.bind,
                   "Address to listen on; anything but loopback requires the token kept in "
                   "<data_dir>/ui-token")
        ->capture_default_str();
    cmd.add_option("--probe-every",
                   flags.host_probe_s,
                   "Seconds between probes of the hosts (reachability, GPU utilisation and memory "
                   "from nvidia-smi) while the Hosts page or /metrics is being read")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
}

core::Result<std::unique_ptr<web::UiServer>> start_ui(Context& ctx, const UiFlags& flags) {
    COSMOS_TRY(auto* app, ctx.app());
    web::UiOptions opts;
    opts.bind = flags.bind;
    opts.port = flags.port;
    opts.host_probe_s = flags.host_probe_s;
    if (const char* dir = std::getenv("COSMOS_UI_ASSETS"); dir && *dir) {
        opts.assets_dir = dir;
    }
    COSMOS_TRY(auto server, web::UiServer::start(app->config, opts));
    std::string line = fmt::format("cosmos ui: listening on {}", server->url());
    if (server->token_required()) {
        line += fmt::format(" (token required: see {})", server->token_file().string());
    }
    std::cerr << line << std::endl;
    if (ctx.out.json) {
        ctx.out.print_json({{"url", server->url()},
                            {"token_required", server->token_required()},
                            {"token_file", server->token_file().string()}});
        std::cout.flush();
    }
    return server;
}

void add_ui_command(CLI::App& app, Context& ctx) {
    auto flags = std::make_shared<UiFlags>();
    auto* cmd = app.add_subcommand(
        "ui",
        "Serve the web UI: inputs, prompts, runs with live logs, the queue, a gallery and the "
        "hosts, in the browser, with the JSON API it uses under /api/ (docs/api.md). It does not "
        "run anything itself: queued runs need a worker (`cosmos serve` is both)");
    add_ui_options(*cmd, *flags);
    cmd->footer(
        "Open the printed URL (default http://127.0.0.1:8765/). Stop with Ctrl-C.\n"
        "Bound to 127.0.0.1 unless --bind says otherwise; any other address requires the\n"
        "token in <data_dir>/ui-token (made on first start, mode 0600, never printed): open\n"
        "http://HOST:PORT/?token=TOKEN once in the browser, or send 'Authorization: Bearer "
        "TOKEN'.\n"
        "COSMOS_UI_ASSETS=DIR serves the pages from DIR instead of the copy built in.\n"
        "The API the pages use is JSON under /api/ (e.g. curl http://127.0.0.1:8765/api/runs),\n"
        "live events (run, log, job, output) stream from /api/events; see docs/api.md.\n"
        "Prometheus metrics are served at /metrics (docs/metrics.md), behind the same token.\n\n"
        "Examples:\n  cosmos ui\n  cosmos ui --port 9000\n  cosmos ui --bind 0.0.0.0 --port 8765\n"
        "  cosmos serve --port 8765        # the UI plus a worker for the queue");
    cmd->callback([&ctx, flags] {
        ctx.action = [&ctx, flags] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto server, start_ui(ctx, *flags));
                while (!g_interrupted.load()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
                server->stop();
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
