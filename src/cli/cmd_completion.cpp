// `cosmos completion bash|zsh|fish` prints a completion script; the hidden `cosmos __complete`
// answers it (completion.hpp). The answer must be fast (< 50 ms with 100,000 runs): it reads
// the configuration only for host and template names and opens the database read-only (never
// creating or migrating one) for one indexed prefix query with a LIMIT (store/id_prefix.hpp).

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/completion.hpp"
#include "cli/context.hpp"
#include "config/templates.hpp"
#include "store/id_prefix.hpp"

namespace cosmos::cli {

namespace {

constexpr int k_max_ids = 100;  // ids offered at most per kind

std::optional<config::Config> load_quietly(const std::string& path) {
    config::LoadOptions opts;
    if (!path.empty()) {
        opts.explicit_path = path;
    }
    auto cfg = config::load_config(opts);
    return cfg ? std::optional<config::Config>(std::move(*cfg)) : std::nullopt;
}

void add_ids(const config::Config& cfg,
             store::IdTable table,
             const std::string& prefix,
             std::vector<std::string>& out) {
    // Read-only: a completion never creates a database, nor migrates or locks one.
    auto db = store::Database::open_readonly(services::database_path(cfg));
    if (!db) {
        return;
    }
    if (auto ids = store::ids_with_prefix(*db, table, prefix, k_max_ids)) {
        out.insert(out.end(), ids->begin(), ids->end());
    }
}

// The dynamic values of `kind` starting with `prefix`. Nothing (and no error) when the
// configuration or the database cannot be read: a completion never prints diagnostics.
std::vector<std::string> values_of(ValueKind kind,
                                   const std::string& prefix,
                                   const std::string& config_path) {
    std::vector<std::string> out;
    if (kind == ValueKind::none || kind == ValueKind::files || kind == ValueKind::dirs) {
        return out;
    }
    auto cfg = load_quietly(config_path);
    if (!cfg) {
        return out;
    }
    switch (kind) {
        case ValueKind::hosts:
            for (const auto& [name, h] : cfg->hosts) {
                if (name.starts_with(prefix)) {
                    out.push_back(name);
                }
            }
            break;
        case ValueKind::templates:
            if (auto all = config::list_templates(cfg->paths.config_dir / "templates")) {
                for (const auto& t : *all) {
                    if (t.name.starts_with(prefix)) {
                        out.push_back(t.name);
                    }
                }
            }
            break;
        case ValueKind::prompts:
            add_ids(*cfg, store::IdTable::prompts, prefix, out);
            break;
        case ValueKind::runs:
            add_ids(*cfg, store::IdTable::runs, prefix, out);
            break;
        case ValueKind::ids:
            // An id's prefix says its table; before it is typed, both.
            if (!prefix.starts_with("rs_")) {
                add_ids(*cfg, store::IdTable::prompts, prefix, out);
            }
            if (!prefix.starts_with("ps_")) {
                add_ids(*cfg, store::IdTable::runs, prefix, out);
            }
            break;
        default:
            break;
    }
    return out;
}

std::optional<ValueKind> kind_named(const std::string& name) {
    if (name == "hosts") {
        return ValueKind::hosts;
    }
    if (name == "templates") {
        return ValueKind::templates;
    }
    if (name == "prompts") {
        return ValueKind::prompts;
    }
    if (name == "runs") {
        return ValueKind::runs;
    }
    if (name == "ids") {
        return ValueKind::ids;
    }
    return std::nullopt;
}

// `cosmos __complete words WORD...` or `cosmos __complete KIND PREFIX`; exit 0 with nothing
// printed when there is nothing to offer, 2 for a malformed call.
int complete_main(const CLI::App& root, const Context& ctx, std::vector<std::string> args) {
    if (args.empty()) {
        std::cerr << "usage: cosmos __complete words WORD... | KIND PREFIX\n";
        return 2;
    }
    std::string mode = args.front();
    args.erase(args.begin());
    std::vector<std::string> lines;
    if (mode == "words") {
        if (args.empty()) {
            args.emplace_back();
        }
        CompletionRequest req = complete(completion_tree(root), args);
        if (req.value == ValueKind::files || req.value == ValueKind::dirs) {
            std::cout << (req.value == ValueKind::files ? ":files\n" : ":dirs\n");
            return 0;
        }
        lines = std::move(req.words);
        auto values = values_of(
            req.value, req.prefix, req.config_path.empty() ? ctx.config_path : req.config_path);
        lines.insert(lines.end(), values.begin(), values.end());
    } else if (auto kind = kind_named(mode); kind && args.size() <= 1) {
        lines = values_of(*kind, args.empty() ? std::string() : args.front(), ctx.config_path);
    } else {
        std::cerr << "usage: cosmos __complete words WORD... | "
                     "hosts|templates|prompts|runs|ids PREFIX\n";
        return 2;
    }
    std::string text;
    for (const auto& l : lines) {
        text += l;
        text += '\n';
    }
    std::cout << text << std::flush;
    return 0;
}

}  // namespace

void add_completion_commands(CLI::App& app, Context& ctx) {
    auto shell = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "completion",
        "Print the shell completion script for bash, zsh or fish: commands, options, host and "
        "template names, prompt and run ids (from your database) complete with TAB");
    cmd->add_option("SHELL", *shell, "bash, zsh or fish")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh", "fish"}));
    cmd->footer(
        "Install (once; new shells pick it up):\n"
        "  bash: cosmos completion bash > ~/.local/share/bash-completion/completions/cosmos\n"
        "        (needs the bash-completion package; or add to ~/.bashrc:\n"
        "         source <(cosmos completion bash))\n"
        "  zsh:  mkdir -p ~/.zfunc && cosmos completion zsh > ~/.zfunc/_cosmos\n"
        "        and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)\n"
        "  fish: cosmos completion fish > ~/.config/fish/completions/cosmos.fish\n"
        "The script asks `cosmos __complete` for every TAB, so it follows upgrades of cosmos\n"
        "without being installed again. See docs/completion.md.");
    cmd->callback([&ctx, shell] {
        ctx.action = [shell] {
            std::cout << completion_script(*shell);
            return 0;
        };
    });

    // Hidden (no group): what the scripts call. Everything after it is its own argument, so
    // words like --host are not parsed as cosmos options.
    auto* hidden = app.add_subcommand("__complete", "Candidates for shell completion");
    hidden->group("");
    hidden->prefix_command();
    hidden->fallthrough(false);  // its words are its own, not the root's commands
    hidden->callback([&app, &ctx, hidden] {
        std::vector<std::string> rest = hidden->remaining();
        ctx.action = [&app, &ctx, rest] { return complete_main(app, ctx, rest); };
    });
}

}  // namespace cosmos::cli
