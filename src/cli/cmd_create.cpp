// `cosmos create prompt` and `cosmos create run`.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/prompt_wizard.hpp"
#include "cli/run_options.hpp"
#include "services/create_prompt.hpp"
#include "services/create_run.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

struct PromptArgs {
    std::vector<std::string> positional;
    std::string name, negative, template_name, model;
    std::vector<std::string> set;
    bool interactive = false;
    CLI::Option* name_opt = nullptr;
    CLI::Option* negative_opt = nullptr;
    CLI::Option* model_opt = nullptr;
};

core::Status fill_options(const PromptArgs& a, services::CreatePromptRequest& req);

core::Result<services::CreatePromptRequest> prompt_request(const PromptArgs& a) {
    services::CreatePromptRequest req;
    if (!a.template_name.empty()) {
        req.template_name = a.template_name;
        if (a.positional.size() == 1) {
            req.input_dir = a.positional[0];
        } else if (a.positional.size() == 2) {
            req.text = a.positional[0];
            req.input_dir = a.positional[1];
        }
    } else if (a.positional.size() == 2) {
        req.text = a.positional[0];
        req.input_dir = a.positional[1];
    }
    if (req.input_dir.empty()) {
        return fail(ErrorCode::invalid_input,
                    "expected TEXT INPUT_DIR (or INPUT_DIR with --template)",
                    "example: cosmos create prompt \"a rainy street at night\" renders/shot010");
    }
    COSMOS_CHECK(fill_options(a, req));
    return req;
}

// What -i starts from: the template and its values, a folder, name, negative prompt, model.
core::Result<services::CreatePromptRequest> wizard_base(const PromptArgs& a) {
    services::CreatePromptRequest req;
    if (!a.template_name.empty()) {
        req.template_name = a.template_name;
    }
    if (a.positional.size() > 2 || (a.positional.size() == 2 && !a.template_name.empty())) {
        return fail(ErrorCode::invalid_input,
                    "with -i give at most TEXT and INPUT_DIR (INPUT_DIR with --template); the "
                    "rest is asked");
    }
    if (a.positional.size() == 2) {
        req.text = a.positional[0];
        req.input_dir = a.positional[1];
    } else if (a.positional.size() == 1) {
        req.input_dir = a.positional[0];
    }
    COSMOS_CHECK(fill_options(a, req));
    return req;
}

core::Status fill_options(const PromptArgs& a, services::CreatePromptRequest& req) {
    for (const auto& kv : a.set) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return fail(ErrorCode::invalid_input, fmt::format("--set '{}' must be KEY=VALUE", kv));
        }
        req.template_values[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (!a.set.empty() && a.template_name.empty()) {
        return fail(ErrorCode::invalid_input, "--set needs --template NAME");
    }
    if (a.name_opt->count() > 0) {
        req.name = a.name;
    }
    if (a.negative_opt->count() > 0) {
        req.negative = a.negative;
    }
    if (a.model_opt->count() > 0) {
        req.model = a.model;
    }
    return {};
}

void print_created_prompt(const Context& ctx, const store::PromptRecord& p) {
    if (ctx.out.json) {
        ctx.out.print_json({{"id", p.id}});
        return;
    }
    std::string controls;
    for (const auto& [m, path] : p.controls) {
        controls += (controls.empty() ? "" : ", ") + m;
    }
    for (const auto& [m, path] : p.masks) {
        controls += (controls.empty() ? "" : ", ") + m + " mask";
    }
    ctx.out.note(
        fmt::format("created prompt {} '{}' for {}: {} frames {}x{} at {:.3g} fps, controls: {}",
                    p.id,
                    p.name,
                    p.model,
                    p.video.frames,
                    p.video.width,
                    p.video.height,
                    p.video.fps,
                    controls.empty() ? "none" : controls));
    ctx.out.print_line(p.id);
}

void add_create_prompt(CLI::App& create, Context& ctx) {
    auto args = std::make_shared<PromptArgs>();
    auto* cmd = create.add_subcommand(
        "prompt",
        "Store a prompt: its text and an input folder with color.mp4, optional control videos "
        "(depth.mp4, segmentation.mp4, edge.mp4, vis.mp4, keypoint.mp4) and control masks for "
        "Transfer2.5 (depth_mask.mp4...: white where the control applies). Prints the ps_ id.");
    cmd->add_option("args", args->positional, "TEXT INPUT_DIR, or INPUT_DIR with --template")
        ->expected(0, 2);
    args->name_opt = cmd->add_option("--name",
                                     args->name,
                                     "Readable name (letters, digits, _ - .); derived from the "
                                     "text when absent");
    args->negative_opt = cmd->add_option(
        "--negative", args->negative, "Negative prompt (default: [run] negative_prompt)");
    args->model_opt = cmd->add_option(
        "--model",
        args->model,
        "The model family its runs use by default: transfer1 or transfer2.5 (default: [run] "
        "model)");
    cmd->add_option("--template",
                    args->template_name,
                    "Build the text from a template (see `cosmos templates list`)");
    cmd->add_option("--set", args->set, "Template value KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("-i,--interactive",
                  args->interactive,
                  "Ask for text and inputs, preview the spec and its validation, then save");
    cmd->footer(
        "Examples:\n"
        "  cosmos create prompt \"a foggy harbour at dawn, photoreal\" renders/harbour\n"
        "  cosmos create prompt --template weather --set subject=\"a harbour at dawn\" "
        "--set weather=snow renders/harbour\n"
        "  cosmos create prompt -i");
    cmd->callback([&ctx, args] {
        ctx.action = [&ctx, args] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                if (args->interactive) {
                    COSMOS_TRY(auto base, wizard_base(*args));
                    COSMOS_TRY(auto p, run_prompt_wizard(*app, ctx.out, std::cin, base));
                    if (!p) {
                        ctx.out.note("not saved");
                        if (ctx.out.json) {
                            ctx.out.print_json({{"saved", false}});
                        }
                        return {};
                    }
                    print_created_prompt(ctx, *p);
                    return {};
                }
                COSMOS_TRY(auto req, prompt_request(*args));
                COSMOS_TRY(auto p, services::create_prompt(*app, req));
                print_created_prompt(ctx, p);
                return {};
            });
        };
    });
}

void add_create_run(CLI::App& create, Context& ctx) {
    auto prompt_id = std::make_shared<std::string>();
    auto binding = std::make_shared<RunOptionsBinding>();
    auto* cmd = create.add_subcommand(
        "run", "Store a run of a prompt (status pending) with validated parameters");
    cmd->add_option("PROMPT_ID", *prompt_id, "The prompt to run")->required();
    binding->add_to(*cmd);
    cmd->footer(
        "Example:\n  cosmos create run ps_1a2b3c --weights 0.3 0.7 0.4 0 --steps 35 --seed 7\n"
        "Then `cosmos spec RUN_ID` shows the exact spec the model will read.");
    cmd->callback([&ctx, prompt_id, binding] {
        ctx.action = [&ctx, prompt_id, binding] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto opts, binding->options());
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto run, services::create_run(*app, *prompt_id, opts));
                if (ctx.out.json) {
                    ctx.out.print_json({{"id", run.id}});
                } else {
                    ctx.out.note(
                        fmt::format("created run {} of {} (pending)", run.id, run.prompt_id));
                    ctx.out.print_line(run.id);
                }
                return {};
            });
        };
    });
}

}  // namespace

void add_create_commands(CLI::App& parent, Context& ctx) {
    auto* create = parent.add_subcommand("create", "Create prompts and runs");
    create->require_subcommand(1);
    add_create_prompt(*create, ctx);
    add_create_run(*create, ctx);
}

}  // namespace cosmos::cli
