// The completion tree is read from a CLI11 app, and what a partly typed line completes to.

#include "cli/completion.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "store/id_prefix.hpp"

using cosmos::cli::complete;
using cosmos::cli::completion_script;
using cosmos::cli::completion_tree;
using cosmos::cli::CompletionNode;
using cosmos::cli::ValueKind;

namespace {

// A small app shaped like cosmos's: global options, groups, positionals, a hidden command.
struct Fixture {
    CLI::App app{"test", "cosmos"};
    std::string s;
    std::vector<std::string> v;
    bool b = false;
    int n = 0;
    Fixture() {
        app.add_option("--config", s)->type_name("FILE");
        app.add_flag("--json", b);
        app.add_flag("-q,--quiet", b);
        auto* show = app.add_subcommand("show", "Show");
        show->add_option("ID", s)->required();
        auto* inference = app.add_subcommand("inference", "Run");
        inference->add_option("PROMPT_IDS", v);
        inference->add_option("--host", s);
        inference->add_option("--num-steps", n);
        inference->add_flag("--queue", b);
        auto* hosts = app.add_subcommand("hosts", "Hosts");
        hosts->add_subcommand("add", "Add")->add_option("NAME", s);
        hosts->add_subcommand("trust", "Trust")->add_option("NAME", s);
        auto* templates = app.add_subcommand("templates", "Templates");
        templates->add_subcommand("show", "Show")->add_option("NAME", s);
        auto* secret = app.add_subcommand("__complete", "hidden");
        secret->group("");
    }
};

const CompletionNode* child(const CompletionNode& n, const std::string& name) {
    for (const auto& c : n.children) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST(CompletionTree, WalksCommandsOptionsAndPositionalsAndLeavesHiddenOut) {
    Fixture f;
    auto root = completion_tree(f.app);
    EXPECT_EQ(root.name, "cosmos");
    ASSERT_NE(child(root, "show"), nullptr);
    ASSERT_NE(child(root, "hosts"), nullptr);
    EXPECT_EQ(child(root, "__complete"), nullptr);
    const auto* inference = child(root, "inference");
    ASSERT_NE(inference, nullptr);
    ASSERT_EQ(inference->positionals.size(), 1u);
    EXPECT_EQ(inference->positionals[0].name, "PROMPT_IDS");
    EXPECT_EQ(inference->positionals[0].value, ValueKind::prompts);
    EXPECT_TRUE(inference->positionals[0].repeats);
    bool host = false, queue = false;
    for (const auto& o : inference->options) {
        if (has(o.names, "--host")) {
            host = o.takes_value && o.value == ValueKind::hosts;
        }
        if (has(o.names, "--queue")) {
            queue = !o.takes_value;
        }
    }
    EXPECT_TRUE(host);
    EXPECT_TRUE(queue);
    // NAME is a host under `hosts` (not for `add`: a new name), a template under `templates`.
    EXPECT_EQ(child(*child(root, "hosts"), "trust")->positionals[0].value, ValueKind::hosts);
    EXPECT_EQ(child(*child(root, "hosts"), "add")->positionals[0].value, ValueKind::none);
    EXPECT_EQ(child(*child(root, "templates"), "show")->positionals[0].value, ValueKind::templates);
    EXPECT_EQ(child(root, "show")->positionals[0].value, ValueKind::ids);
}

TEST(CompletionLine, CommandsSubcommandsAndOptions) {
    Fixture f;
    auto root = completion_tree(f.app);
    auto r = complete(root, {""});
    EXPECT_TRUE(has(r.words, "show") && has(r.words, "hosts") && has(r.words, "inference"));
    EXPECT_FALSE(has(r.words, "__complete"));
    r = complete(root, {"ho"});
    EXPECT_EQ(r.words, std::vector<std::string>{"hosts"});
    r = complete(root, {"hosts", ""});
    EXPECT_EQ(r.words, (std::vector<std::string>{"add", "trust"}));
    // A subcommand's options, then the globals (fallthrough), each once.
    r = complete(root, {"inference", "--"});
    EXPECT_TRUE(has(r.words, "--host") && has(r.words, "--queue") && has(r.words, "--json"));
    EXPECT_FALSE(has(r.words, "--num-gpus"));
    r = complete(root, {"inference", "--q"});
    EXPECT_EQ(r.words, (std::vector<std::string>{"--queue", "--quiet"}));
}

TEST(CompletionLine, ValuesByKindAndPosition) {
    Fixture f;
    auto root = completion_tree(f.app);
    auto r = complete(root, {"inference", "--host", "gp"});
    EXPECT_EQ(r.value, ValueKind::hosts);
    EXPECT_EQ(r.prefix, "gp");
    EXPECT_TRUE(r.words.empty());
    r = complete(root, {"inference", "--num-steps", "3", "ps_1", "ps_"});
    EXPECT_EQ(r.value, ValueKind::prompts);  // a repeated positional
    r = complete(root, {"show", "rs_00"});
    EXPECT_EQ(r.value, ValueKind::ids);
    r = complete(root, {"show", "rs_1", ""});
    EXPECT_EQ(r.value, ValueKind::none);  // ID takes one value
    r = complete(root, {"--config", "/tmp/c.toml", "hosts", "trust", ""});
    EXPECT_EQ(r.value, ValueKind::hosts);
    EXPECT_EQ(r.config_path, "/tmp/c.toml");
    r = complete(root, {"--config=/x.toml", "--config", ""});
    EXPECT_EQ(r.value, ValueKind::files);
    EXPECT_EQ(r.config_path, "/x.toml");
    r = complete(root, {"--json", "show", "--", "-"});
    EXPECT_TRUE(r.words.empty());  // after --, no options
    EXPECT_EQ(r.value, ValueKind::ids);
}

TEST(CompletionScript, OneForEachShell) {
    EXPECT_NE(completion_script("bash").find("complete -F _cosmos cosmos"), std::string::npos);
    EXPECT_NE(completion_script("zsh").find("#compdef cosmos"), std::string::npos);
    EXPECT_NE(completion_script("fish").find("complete -c cosmos"), std::string::npos);
    EXPECT_TRUE(completion_script("tcsh").empty());
}

TEST(CompletionIdPrefix, UpperBoundOfAPrefix) {
    using cosmos::store::prefix_upper_bound;
    EXPECT_EQ(prefix_upper_bound("rs_00"), "rs_01");
    EXPECT_EQ(prefix_upper_bound("rs_"), "rs`");
    EXPECT_EQ(prefix_upper_bound(""), "");
    EXPECT_EQ(prefix_upper_bound(std::string("a\xff", 2)), "b");
}
