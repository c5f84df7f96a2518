// `cosmos caption INPUT_SET` and `cosmos review RUN`: Cosmos 3's Reasoner drafting a prompt from
// a render and judging a run's output (services/reasoner.hpp). `prompt-enhance --model cosmos3`
// (cmd_inference.cpp) is its third use.

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/output.hpp"
#include "services/reasoner.hpp"

namespace cosmos::cli {

namespace {

struct ReasonerArgs {
    std::string target;
    std::string host;
};

std::optional<std::string> host_of(const ReasonerArgs& a) {
    return a.host.empty() ? std::nullopt : std::optional<std::string>(a.host);
}

void add_caption(CLI::App& cli, Context& ctx) {
    auto a = std::make_shared<ReasonerArgs>();
    auto* cmd = cli.add_subcommand(
        "caption",
        "Draft a prompt from a render: Cosmos 3's Reasoner captions the input set's color video "
        "(a host with role reasoner; docs/models/cosmos3.md)");
    cmd->add_option("INPUT_SET", a->target, "An input set folder (color.mp4 and controls)")
        ->required();
    cmd->add_option(
        "--host", a->host, "The Reasoner's host (default: the host with role reasoner)");
    cmd->footer(
        "Examples:\n  cosmos caption renders/shot_010\n"
        "  cosmos caption renders/shot_010 --json\n"
        "  cosmos create prompt \"$(cosmos caption renders/shot_010)\" renders/shot_010");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto caption, services::reasoner_caption(*app, a->target, host_of(*a)));
                if (ctx.out.json) {
                    ctx.out.print_json(nlohmann::ordered_json{{"input_set", caption.input_dir},
                                                              {"video", caption.video},
                                                              {"caption", caption.text}});
                } else {
                    ctx.out.print_line(caption.text);
                }
                return {};
            });
        };
    });
}

void add_review(CLI::App& cli, Context& ctx) {
    auto a = std::make_shared<ReasonerArgs>();
    auto* cmd = cli.add_subcommand(
        "review",
        "Ask Cosmos 3's Reasoner whether a run's output is physically plausible (a score 1-5 and "
        "a reason), and store the judgement with the run (shown by `show`, the UI and --json)");
    cmd->add_option("RUN_ID", a->target, "A succeeded run")->required();
    cmd->add_option(
        "--host", a->host, "The Reasoner's host (default: the host with role reasoner)");
    cmd->footer("Examples:\n  cosmos review rs_1a2b3c\n  cosmos review rs_1a2b3c --json");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto review, services::reasoner_review(*app, a->target, host_of(*a)));
                if (ctx.out.json) {
                    ctx.out.print_json(review);
                } else {
                    ctx.out.print_line(fmt::format(
                        "{}\tplausibility {}\t{}",
                        a->target,
                        review["score"].is_null() ? std::string("?") : review["score"].dump(),
                        review["reason"].get<std::string>()));
                }
                return {};
            });
        };
    });
}

}  // namespace

void add_reasoner_commands(CLI::App& app, Context& ctx) {
    add_caption(app, ctx);
    add_review(app, ctx);
}

}  // namespace cosmos::cli
