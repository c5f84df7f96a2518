#include "cli/cli_main.hpp"

#include <algorithm>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

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

// Edit distance between two words (insertions, deletions, substitutions).
std::size_t distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::vector<CLI::App*> subcommands_of(CLI::App* app) {
    return app->get_subcommands([](CLI::App*) { return true; });
}

// The option named `token` ("--config", "-q", "--config=x") of `app` or a command above it.
const CLI::Option* option_named(CLI::App* app, const std::string& token) {
    std::string name = token.substr(0, token.find('='));
    for (CLI::App* at = app; at != nullptr; at = at->get_parent()) {
        if (const CLI::Option* opt = at->get_option_no_throw(name)) {
            return opt;
        }
    }
    return nullptr;
}

struct UnknownCommand {
    CLI::App* parent = nullptr;  // the command the word was given to
    std::string word;
};

// The first word of argv given where a command name was expected that names none (`cosmos
// verfy`, `cosmos hosts lst`); nullopt when every command word is known (the error is another).
std::optional<UnknownCommand> unknown_command(CLI::App& app, int argc, char** argv) {
    CLI::App* at = &app;
    for (int i = 1; i < argc; ++i) {
        std::string token = argv[i];
        if (token == "--") {
            return std::nullopt;
        }
        if (token.size() > 1 && token[0] == '-') {
            const CLI::Option* opt = option_named(at, token);
            if (opt != nullptr && opt->get_items_expected_min() > 0 &&
                token.find('=') == std::string::npos) {
                ++i;  // its value
            }
            continue;
        }
        auto subs = subcommands_of(at);
        if (subs.empty()) {
            return std::nullopt;  // a command that takes words of its own
        }
        auto found = std::find_if(
            subs.begin(), subs.end(), [&](CLI::App* s) { return s->check_name(token); });
        if (found == subs.end()) {
            return UnknownCommand{at, token};
        }
        at = *found;
    }
    return std::nullopt;
}

// Up to three commands (full paths under `parent`, nested ones included) whose last word is
// close to `word`: a small edit distance, or one containing the other.
std::vector<std::string> closest_commands(CLI::App* parent, const std::string& word) {
    std::vector<std::pair<std::size_t, std::string>> scored;
    std::function<void(CLI::App*, const std::string&, int)> walk =
        [&](CLI::App* app, const std::string& path, int depth) {
            for (CLI::App* s : subcommands_of(app)) {
                const std::string& name = s->get_name();
                if (name.empty() || name.starts_with("__")) {
                    continue;  // hidden helpers (completion)
                }
                std::string full = path.empty() ? name : path + " " + name;
                std::size_t d = distance(word, name);
                bool contains = word.size() >= 3 && (name.find(word) != std::string::npos ||
                                                     word.find(name) != std::string::npos);
                if (d <= std::max<std::size_t>(2, word.size() / 3) || contains) {
                    scored.emplace_back(contains ? std::min<std::size_t>(d, 1) + depth : d + depth,
                                        full);
                }
                if (depth < 1) {
                    walk(s, full, depth + 1);
                }
            }
        };
    walk(parent, "", 0);
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> out;
    for (const auto& [score, path] : scored) {
        if (out.size() < 3) {
            out.push_back(path);
        }
    }
    return out;
}

// "cosmos hosts" for the hosts command, "cosmos" for the top.
std::string command_path(const CLI::App* app) {
    std::string path;
    for (; app != nullptr; app = app->get_parent()) {
        path = app->get_parent() == nullptr ? "cosmos" + path : " " + app->get_name() + path;
    }
    return path;
}

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
    add_rate_command(app, ctx);
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
    add_verify_command(app, ctx);
    // Last: completion walks the tree the commands above built.
    add_completion_commands(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);  // --help, --version
        }
        // A command word that names no command: say which, and what was probably meant.
        if (auto unknown = unknown_command(app, argc, argv)) {
            std::string where = command_path(unknown->parent);
            auto near = closest_commands(unknown->parent, unknown->word);
            std::string message = fmt::format(
                "unknown command `{}`{}",
                unknown->word,
                unknown->parent == &app ? std::string() : fmt::format(" for `{}`", where));
            std::string hint =
                near.empty() ? fmt::format("see `{} --help` for the commands", where)
                             : fmt::format(
                                   "did you mean {}? (`{} --help` lists the commands)",
                                   [&] {
                                       std::string list;
                                       for (std::size_t i = 0; i < near.size(); ++i) {
                                           list += fmt::format(
                                               "{}`{} {}`", i == 0 ? "" : " or ", where, near[i]);
                                       }
                                       return list;
                                   }(),
                                   where);
            std::cerr << "cosmos: " << message << "\nhint: " << hint << "\n";
            if (ctx.json) {
                std::cout << nlohmann::ordered_json{{"error",
                                                     {{"code", "usage"},
                                                      {"message", message},
                                                      {"hint", hint}}}}
                                 .dump(2)
                          << '\n';
            }
            return 2;
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
