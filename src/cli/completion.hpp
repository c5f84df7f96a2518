#pragma once
// Shell completion: the command tree read from the CLI11 app itself (so completions never drift
// from --help), and what to offer for a partly typed command line. `cosmos __complete` (hidden)
// answers the shells' scripts (`cosmos completion bash|zsh|fish`) one candidate per line.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace cosmos::cli {

// What the value of an option or a positional argument is.
enum class ValueKind {
    none,       // free text (or a number): nothing to offer
    hosts,      // a host name from the configuration
    templates,  // a prompt template name
    prompts,    // a prompt id (ps_...)
    runs,       // a run id (rs_...)
    ids,        // a prompt or a run id
    files,      // a local path: the shell's own file completion
    dirs,       // a local directory
};

struct CompletionOption {
    std::vector<std::string> names;  // "--host", "-j", ...
    bool takes_value = false;
    ValueKind value = ValueKind::none;
};

struct CompletionPositional {
    std::string name;  // "RUN_ID"
    ValueKind value = ValueKind::none;
    bool repeats = false;  // takes many values (IDS...)
};

struct CompletionNode {
    std::string name;  // the command's name ("cosmos" at the root)
    std::vector<CompletionOption> options;
    std::vector<CompletionPositional> positionals;
    std::vector<CompletionNode> children;  // visible subcommands (hidden ones are left out)
};

// Walks `app` (options, positionals, visible subcommands, recursively).
CompletionNode completion_tree(const CLI::App& app);

// What to offer for `words` (the words after the program name, the last one being the word
// under the cursor, possibly empty): static words (subcommands, options) filtered by the prefix,
// and the kind of value the cursor stands at (hosts, ids...) for the caller to look up.
struct CompletionRequest {
    std::vector<std::string> words;  // candidates, filtered by `prefix`
    ValueKind value = ValueKind::none;
    std::string prefix;       // the word under the cursor
    std::string config_path;  // --config FILE given earlier on the line
};
CompletionRequest complete(const CompletionNode& root, const std::vector<std::string>& words);

// The completion scripts: "bash", "zsh" or "fish"; empty for another shell.
std::string completion_script(const std::string& shell);

}  // namespace cosmos::cli
