// Shell completion: the tree walk, the line analysis and the scripts (completion.hpp).

#include "cli/completion.hpp"

#include <algorithm>
#include <string_view>

#include <CLI/CLI.hpp>

namespace cosmos::cli {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// The kind of value an option or positional takes, from its name and type name. Values the
// tree cannot tell apart by name (a NAME that is a host under `hosts`, a template under
// `templates`) are told by the command they belong to.
ValueKind kind_of(const std::vector<std::string>& path, const CLI::Option& o) {
    std::string name = o.get_positional() ? o.get_name(true) : std::string();
    const auto& longs = o.get_lnames();
    auto has_long = [&](std::string_view n) {
        return std::find(longs.begin(), longs.end(), n) != longs.end();
    };
    std::string parent = path.size() >= 2 ? path[path.size() - 2] : std::string();
    std::string command = path.empty() ? std::string() : path.back();
    if (has_long("host") || name == "HOST") {
        return ValueKind::hosts;
    }
    if (has_long("template")) {
        return ValueKind::templates;
    }
    if (name == "NAME" && parent == "hosts" && command != "add") {
        return ValueKind::hosts;
    }
    if (name == "NAME" && parent == "templates") {
        return ValueKind::templates;
    }
    if (name == "RUN_ID" || name == "RUN_IDS") {
        return ValueKind::runs;
    }
    if (name == "PROMPT_ID" || name == "PROMPT_IDS") {
        return ValueKind::prompts;
    }
    if (name == "ID" || name == "IDS") {
        return ValueKind::ids;
    }
    std::string type = o.get_type_name();
    if (type == "DIR" || name == "DIR" || name == "INPUT_SET") {
        return ValueKind::dirs;
    }
    if (type == "FILE" || name == "FILE" || name == "PATHS" || name == "INPUT" || name == "VIDEO") {
        return ValueKind::files;
    }
    return ValueKind::none;
}

CompletionNode walk(const CLI::App& app, std::vector<std::string>& path) {
    CompletionNode node;
    node.name = app.get_name();
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_positional() && !o->nonpositional()) {
            node.positionals.push_back(
                {o->get_name(true), kind_of(path, *o), o->get_items_expected_max() > 1});
            continue;
        }
        CompletionOption opt;
        for (const auto& s : o->get_snames()) {
            opt.names.push_back("-" + s);
        }
        for (const auto& l : o->get_lnames()) {
            opt.names.push_back("--" + l);
        }
        if (opt.names.empty()) {
            continue;
        }
        opt.takes_value = o->get_items_expected_max() > 0;  // flags expect none
        opt.value = opt.takes_value ? kind_of(path, *o) : ValueKind::none;
        node.options.push_back(std::move(opt));
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_group().empty() || sub->get_name().empty()) {
            continue;  // hidden (e.g. __complete itself), or an option group
        }
        path.push_back(sub->get_name());
        node.children.push_back(walk(*sub, path));
        path.pop_back();
    }
    return node;
}

const CompletionOption* find_option(const std::vector<const CompletionNode*>& chain,
                                    std::string_view name) {
    // The command's own options first, then its parents' (the root's --config, --json...).
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        for (const auto& o : (*it)->options) {
            if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) {
                return &o;
            }
        }
    }
    return nullptr;
}

}  // namespace

CompletionNode completion_tree(const CLI::App& app) {
    std::vector<std::string> path;
    return walk(app, path);
}

CompletionRequest complete(const CompletionNode& root, const std::vector<std::string>& words) {
    CompletionRequest out;
    std::vector<const CompletionNode*> chain{&root};
    const CompletionOption* pending = nullptr;  // an option waiting for its value
    std::size_t positional = 0;                 // positionals seen in the current command
    bool only_positionals = false;              // after "--"
    std::size_t last = words.empty() ? 0 : words.size() - 1;
    for (std::size_t i = 0; i < last; ++i) {
        const std::string& w = words[i];
        if (pending != nullptr) {
            if (std::find(pending->names.begin(), pending->names.end(), "--config") !=
                pending->names.end()) {
                out.config_path = w;
            }
            pending = nullptr;
            continue;
        }
        if (!only_positionals && w == "--") {
            only_positionals = true;
            continue;
        }
        if (!only_positionals && w.size() > 1 && w[0] == '-') {
            auto eq = w.find('=');
            const CompletionOption* o = find_option(chain, w.substr(0, eq));
            if (o != nullptr && o->takes_value) {
                if (eq == std::string::npos) {
                    pending = o;
                } else if (w.compare(0, eq, "--config") == 0) {
                    out.config_path = w.substr(eq + 1);
                }
            }
            continue;
        }
        const CompletionNode* node = chain.back();
        auto child = std::find_if(node->children.begin(),
                                  node->children.end(),
                                  [&](const CompletionNode& c) { return c.name == w; });
        if (!only_positionals && positional == 0 && child != node->children.end()) {
            chain.push_back(&*child);
            continue;
        }
        ++positional;
    }
    out.prefix = words.empty() ? std::string() : words.back();
    if (pending != nullptr) {
        out.value = pending->value;
        return out;
    }
    const CompletionNode* node = chain.back();
    if (!only_positionals && starts_with(out.prefix, "-")) {
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            for (const auto& o : (*it)->options) {
                for (const auto& n : o.names) {
                    bool seen = std::find(out.words.begin(), out.words.end(), n) != out.words.end();
                    if (!seen && starts_with(n, out.prefix)) {
                        out.words.push_back(n);
                    }
                }
            }
        }
        return out;
    }
    if (positional == 0 && !only_positionals) {
        for (const auto& c : node->children) {
            if (starts_with(c.name, out.prefix)) {
                out.words.push_back(c.name);
            }
        }
    }
    if (!node->positionals.empty()) {
        const auto& ps = node->positionals;
        if (positional < ps.size()) {
            out.value = ps[positional].value;
        } else if (ps.back().repeats) {
            out.value = ps.back().value;
        }
    }
    return out;
}

namespace {

// Each script asks `cosmos __complete words WORD...` (the words after `cosmos`, the last one the
// word under the cursor) and gets one candidate per line, or ":files" / ":dirs" for the shell's
// own path completion. The program is the one on the command line (${COMP_WORDS[0]}...), so a
// cosmos that is not on PATH completes too.
constexpr const char* k_bash =
    R"SH(# bash completion for cosmos (generated by `cosmos completion bash`).
# Install: cosmos completion bash > ~/.local/share/bash-completion/completions/cosmos
# (or add `source <(cosmos completion bash)` to ~/.bashrc).
_cosmos() {
    local cur=${COMP_WORDS[COMP_CWORD]} out
    out=$(command "${COMP_WORDS[0]}" __complete words "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    COMPREPLY=()
    case $out in
        :files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        :dirs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        '') ;;
        *) mapfile -t COMPREPLY <<<"$out" ;;
    esac
}
complete -F _cosmos cosmos
)SH";

constexpr const char* k_zsh = R"SH(#compdef cosmos
# zsh completion for cosmos (generated by `cosmos completion zsh`).
# Install: cosmos completion zsh > ~/.zfunc/_cosmos, with `fpath=(~/.zfunc $fpath)` before
# `compinit` in ~/.zshrc (or add `source <(cosmos completion zsh)` after compinit).
_cosmos() {
    local out
    local -a candidates
    out=$(command ${words[1]} __complete words "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    case $out in
        :files) _files ;;
        :dirs) _files -/ ;;
        '') return 1 ;;
        *) candidates=("${(@f)out}"); compadd -a candidates ;;
    esac
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _cosmos "$@"
else
    compdef _cosmos cosmos
fi
)SH";

constexpr const char* k_fish =
    R"SH(# fish completion for cosmos (generated by `cosmos completion fish`).
# Install: cosmos completion fish > ~/.config/fish/completions/cosmos.fish
function __cosmos_complete
    set -l words (commandline -opc)
    set -l program $words[1]
    set -e words[1]
    set -l current (commandline -ct)
    set -l out (command $program __complete words $words $current 2>/dev/null)
    switch "$out"
        case ':files'
            __fish_complete_path $current
        case ':dirs'
            __fish_complete_directories $current
        case '*'
            printf '%s\n' $out
    end
end
complete -c cosmos -f -a '(__cosmos_complete)'
)SH";

}  // namespace

std::string completion_script(const std::string& shell) {
    if (shell == "bash") {
        return k_bash;
    }
    if (shell == "zsh") {
        return k_zsh;
    }
    if (shell == "fish") {
        return k_fish;
    }
    return {};
}

}  // namespace cosmos::cli
