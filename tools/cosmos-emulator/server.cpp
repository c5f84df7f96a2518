#include "server.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "gpu_locks.hpp"
#include "log.hpp"
#include "pacing.hpp"
#include "server_http.hpp"
#include "server_log.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_vllm_version = "0.11.0";

// The state directory: COSMOS_EMULATOR_SERVER_DIR (kept), else a private temporary one
// (removed at exit: `owned`).
struct StateDir {
    fs::path path;
    bool owned = false;
    ~StateDir() {
        std::error_code ec;
        if (owned) {
            fs::remove_all(path, ec);
        }
    }
};

core::Status make_state_dir(const EmulatorConfig& config, StateDir& dir) {
    std::error_code ec;
    if (!config.server_dir.empty()) {
        dir.path = config.server_dir;
        fs::create_directories(dir.path, ec);
        return ec ? core::fail(core::ErrorCode::io,
                               fmt::format("cannot create COSMOS_EMULATOR_SERVER_DIR {}: {}",
                                           dir.path.string(),
                                           ec.message()))
                  : core::Status{};
    }
    std::string templ = (fs::temp_directory_path(ec) / "cosmos-emulator-server-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        return core::fail(core::ErrorCode::io, "cannot create a temporary directory in /tmp");
    }
    dir.path = templ;
    dir.owned = true;
    return {};
}

void print_banner(const ServerOptions& o) {
    if (o.flavour == ServerFlavour::vllm) {
        server_log("INFO",
                   "api_server.py:1885",
                   fmt::format("vLLM API server version {} (cosmos-emulator)", k_vllm_version));
    } else {
        server_log("INFO",
                   "server_args.py:512",
                   fmt::format("SGLang server (cosmos-emulator) model_path={}", o.model));
    }
    server_log(
        "INFO",
        "model.py:547",
        fmt::format("Resolved architecture: {}",
                    o.role == ServerRole::generator ? "Cosmos3OmniDiffusersPipeline"
                                                    : "Cosmos3ReasonerForConditionalGeneration"));
    server_log("INFO",
               "gpu_model_runner.py:2602",
               fmt::format("Starting to load model {} on {} GPU(s)...", o.model, o.gpus));
}

// Takes the GPUs and sleeps the load time; fails like the real load (exit 1) or on a signal.
core::Status load_model(const ServerOptions& o, const EmulatorConfig& config, GpuHold& gpus) {
    core::Status held = gpus.acquire(config, o.gpus, "run_server>load_model");
    if (!held) {
        return held;
    }
    const double seconds = config.server_load_seconds * config.time_scale;
    COSMOS_CHECK(sleep_for(seconds));
    const bool super = o.model.find("Super") != std::string::npos;
    server_log("INFO",
               "default_loader.py:267",
               fmt::format("Loading weights took {:.2f} seconds", seconds));
    server_log("INFO",
               "gpu_model_runner.py:2653",
               fmt::format("Model loading took {:.2f} GiB and {:.2f} seconds",
                           (super ? 128.4 : 32.1) / o.gpus,
                           seconds));
    return {};
}

void print_load_failure(const core::Error& e) {
    print_stderr(fmt::format(
        "Traceback (most recent call last):\n"
        "  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_worker.py\", line "
        "212, in load_model\n"
        "    self.model_runner.load_model()\n"
        "{}\n",
        e.message));
    server_log("ERROR", "core.py:700", "EngineCore failed to start.");
}

void print_shutdown() {
    uvicorn_log("INFO", "Shutting down");
    uvicorn_log("INFO", "Waiting for application shutdown.");
    uvicorn_log("INFO", "Application shutdown complete.");
    uvicorn_log("INFO", fmt::format("Finished server process [{}]", ::getpid()));
}

std::string url_host(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

void announce(const ServerOptions& o, int port) {
    const std::string url = fmt::format(
        "{}://{}:{}", o.ssl_certfile.empty() ? "http" : "https", url_host(o.host), port);
    server_log("INFO", "api_server.py:1971", fmt::format("Starting vLLM API server 0 on {}", url));
    uvicorn_log("INFO", fmt::format("Started server process [{}]", ::getpid()));
    uvicorn_log("INFO", "Waiting for application startup.");
    uvicorn_log("INFO", fmt::format("Uvicorn running on {} (Press CTRL+C to quit)", url));
    uvicorn_log("INFO", "Application startup complete.");
}

int serve(const ServerOptions& o,
          const EmulatorConfig& config,
          const EventLog& log,
          const GpuHold& gpus,
          const fs::path& state) {
    JobStore jobs(config, state, o.served_name);
    std::unique_ptr<httplib::Server> tls;
    if (!o.ssl_certfile.empty()) {
        tls = std::make_unique<httplib::SSLServer>(o.ssl_certfile.c_str(), o.ssl_keyfile.c_str());
        if (!tls->is_valid()) {
            uvicorn_log("ERROR",
                        fmt::format("ssl.SSLError: cannot load the certificate {} and key {}",
                                    o.ssl_certfile,
                                    o.ssl_keyfile));
            return 1;
        }
    }
    httplib::Server plain;
    httplib::Server& server = tls ? *tls : plain;
    ServerContext ctx{o, config, log, jobs, state};
    setup_routes(server, ctx);
    int port = o.port;
    const bool bound = port == 0 ? (port = server.bind_to_any_port(o.host)) > 0
                                 : server.bind_to_port(o.host, port);
    if (!bound) {
        uvicorn_log("ERROR",
                    fmt::format("[Errno 98] error while attempting to bind on address ('{}', {}): "
                                "address already in use",
                                o.host,
                                o.port));
        return 1;
    }
    log.write("model_load",
              {{"model", o.model},
               {"gpus", gpus.devices()},
               {"role", std::string(role_name(o.role))},
               {"port", port}});
    // The worker and HTTP threads block SIGINT / SIGTERM, so the signals reach this thread and
    // never interrupt a blocking call there.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (o.role == ServerRole::generator) {
        jobs.start(config.server_concurrency);
    }
    std::atomic<bool> listening{true};
    std::thread listener([&] {
        server.listen_after_bind();  // false when stopped or the socket failed: either ends it
        listening = false;
    });
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    announce(o, port);
    while (listening && check_interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    print_shutdown();
    jobs.stop();  // first: a /v1/videos/sync request waiting on its job returns
    server.stop();
    listener.join();
    return 0;
}

}  // namespace

int run_server(ServerFlavour flavour,
               const std::vector<std::string>& argv,
               EmulatorConfig& config) {
    auto parsed = parse_server_args(flavour, argv);
    if (!parsed) {
        print_stderr(server_usage(flavour) + fmt::format("{} serve: error: {}\n",
                                                         flavour_name(flavour),
                                                         parsed.error().message));
        return 2;
    }
    ServerOptions& o = *parsed;
    if (const char* key = std::getenv("VLLM_API_KEY");
        flavour == ServerFlavour::vllm && o.api_key.empty() && key != nullptr) {
        o.api_key = key;
    }
    StateDir state;
    if (core::Status st = make_state_dir(config, state); !st) {
        print_stderr(st.error().message + "\n");
        return 1;
    }
    EventLog log(config.record_path, std::string(flavour_name(flavour)));
    install_signal_handlers();
    GpuHold gpus;
    print_banner(o);
    core::Status loaded = load_model(o, config, gpus);
    if (!loaded) {
        if (loaded.error().code == core::ErrorCode::interrupted) {
            print_shutdown();
            return 0;
        }
        print_load_failure(loaded.error());
        return 1;
    }
    return serve(o, config, log, gpus, state.path);
}

}  // namespace cosmos::emulator
