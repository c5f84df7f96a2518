// `cosmos models list|show NAME`: the model families and user model files.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/output.hpp"
#include "config/model_files.hpp"
#include "services/models.hpp"

namespace cosmos::cli {

namespace {

void print_model(const Context& ctx, const nlohmann::ordered_json& m) {
    for (const auto& [key, value] : m.items()) {
        std::string text;
        if (value.is_string()) {
            text = value.get<std::string>();
        } else if (value.is_array()) {
            for (const auto& v : value) {
                text += (text.empty()                         ? ""
                         : value.size() > 3 && key == "rules" ? "\n  "
                                                              : ", ") +
                        (v.is_string() ? v.get<std::string>() : v.dump());
            }
            if (key == "rules") {
                text = "\n  " + text;
            }
        } else {
            text = value.dump();
        }
        ctx.out.print_line(fmt::format("{}: {}", key, text));
    }
}

}  // namespace

void add_models_commands(CLI::App& app, Context& ctx) {
    auto* models = app.add_subcommand(
        "models",
        "The models cosmos drives: the families (transfer1, transfer2.5) and your model files "
        "(~/.config/cosmos/models/NAME.toml; docs/models/model-files.md). Runs pick one with "
        "--model");
    models->require_subcommand(1);
    auto* list = models->add_subcommand("list", "List the model families and user models");
    list->footer("Examples:\n  cosmos models list\n  cosmos models list --json");
    list->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto all, services::list_models(cfg));
                if (ctx.out.json) {
                    ctx.out.print_json(all);
                    return {};
                }
                std::vector<std::vector<std::string>> rows = {
                    {"NAME", "FAMILY", "KIND", "DESCRIPTION"}};
                for (const auto& m : all) {
                    std::string about = m["description"].get<std::string>();
                    if (about.empty()) {
                        about = m["display_name"].get<std::string>();
                    }
                    rows.push_back({m["name"].get<std::string>(),
                                    m["family"].get<std::string>(),
                                    m["kind"].get<std::string>(),
                                    ellipsize(about, 90)});
                }
                print_table(rows);
                return {};
            });
        };
    });
    auto name = std::make_shared<std::string>();
    auto* show = models->add_subcommand(
        "show", "Show a model: its entry point, controls, defaults and rules, or a model file");
    show->add_option("NAME", *name, "A family or a model file's name")->required();
    show->footer("Examples:\n  cosmos models show transfer2.5\n  cosmos models show warehouse");
    show->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto m, services::show_model(cfg, *name));
                if (ctx.out.json) {
                    ctx.out.print_json(m);
                } else {
                    print_model(ctx, m);
                }
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
