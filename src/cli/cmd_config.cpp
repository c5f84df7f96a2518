// `cosmos config show|check` and `cosmos templates list|show`.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "config/templates.hpp"
#include "services/alerts.hpp"
#include "services/hf_token.hpp"

namespace cosmos::cli {

namespace {

void add_config(CLI::App& parent, Context& ctx) {
    auto* config = parent.add_subcommand(
        "config",
        "Show or check the configuration (search order: --config, $COSMOS_CONFIG, "
        "./cosmos.toml, ~/.config/cosmos/config.toml; see docs/configuration.md)");
    config->require_subcommand(1);
    auto* show = config->add_subcommand("show",
                                        "Print the effective configuration as TOML, "
                                        "secrets redacted");
    show->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                std::string text = config::render_config(cfg);
                if (ctx.out.json) {
                    nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
                    for (const auto& [name, h] : cfg.hosts) {
                        hosts.push_back({{"name", name}, {"kind", h.kind}, {"gpus", h.gpus}});
                    }
                    ctx.out.print_json({{"source", cfg.source.string()},
                                        {"data_dir", cfg.paths.data_dir.string()},
                                        {"hosts", hosts},
                                        {"toml", text}});
                } else {
                    ctx.out.print_line(text);
                }
                return {};
            });
        };
    });
    auto* check = config->add_subcommand("check",
                                         "Validate the configuration; exit 6 with "
                                         "FILE:LINE and the problem when it is wrong");
    check->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                // Supply-chain rules (docs/supply-chain.md): pinned images, a private token file.
                auto unpinned = config::unpinned_images(cfg);
                if (!unpinned.empty()) {
                    core::Error e = unpinned.front();
                    for (std::size_t i = 1; i < unpinned.size(); ++i) {
                        e.message += "; " + unpinned[i].message;
                    }
                    return core::fail(std::move(e));
                }
                if (!cfg.huggingface.token_file.empty()) {
                    if (auto t = services::read_token_file(cfg.huggingface.token_file); !t) {
                        core::Error e = t.error();
                        e.code = core::ErrorCode::config;
                        e.message = "[huggingface] token_file: " + e.message;
                        return core::fail(std::move(e));
                    }
                }
                // Alert sinks' url_file: mode 0600, one line, an http(s) URL (docs/alerts.md).
                COSMOS_CHECK(services::check_alert_sinks(cfg));
                std::string source =
                    cfg.source.empty() ? std::string("embedded defaults") : cfg.source.string();
                if (ctx.out.json) {
                    ctx.out.print_json(
                        {{"ok", true}, {"source", source}, {"hosts", cfg.hosts.size()}});
                } else {
                    ctx.out.print_line(fmt::format("ok: {} ({} host(s), data in {})",
                                                   source,
                                                   cfg.hosts.size(),
                                                   cfg.paths.data_dir.string()));
                }
                return {};
            });
        };
    });
}

void add_templates(CLI::App& parent, Context& ctx) {
    auto* tmpl = parent.add_subcommand(
        "templates",
        "Prompt templates for `cosmos create prompt --template NAME --set k=v`; add "
        "your own as ~/.config/cosmos/templates/NAME.toml");
    tmpl->require_subcommand(1);
    auto* list = tmpl->add_subcommand("list", "List built-in and user templates");
    list->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto all, config::list_templates(cfg.paths.config_dir / "templates"));
                if (ctx.out.json) {
                    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
                    for (const auto& t : all) {
                        arr.push_back({{"name", t.name},
                                       {"description", t.description},
                                       {"text", t.text},
                                       {"defaults", t.defaults},
                                       {"origin", t.origin}});
                    }
                    ctx.out.print_json(arr);
                    return {};
                }
                std::vector<std::vector<std::string>> rows = {{"NAME", "ORIGIN", "TEXT"}};
                for (const auto& t : all) {
                    rows.push_back({t.name, t.origin, ellipsize(t.text, 70)});
                }
                print_table(rows);
                return {};
            });
        };
    });
    auto name = std::make_shared<std::string>();
    auto* show = tmpl->add_subcommand("show", "Show one template with its placeholders");
    show->add_option("NAME", *name)->required();
    show->callback([&ctx, name] {
        ctx.action = [&ctx, name] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                COSMOS_TRY(auto t,
                           config::find_template(cfg.paths.config_dir / "templates", *name));
                if (ctx.out.json) {
                    ctx.out.print_json({{"name", t.name},
                                        {"description", t.description},
                                        {"text", t.text},
                                        {"negative", t.negative},
                                        {"defaults", t.defaults},
                                        {"origin", t.origin}});
                    return {};
                }
                ctx.out.print_line(
                    fmt::format("name         {}\norigin       {}\ndescription  {}\n"
                                "text         {}",
                                t.name,
                                t.origin,
                                t.description,
                                t.text));
                for (const auto& [k, v] : t.defaults) {
                    ctx.out.print_line(fmt::format("default      {} = {}", k, v));
                }
                return {};
            });
        };
    });
}

}  // namespace

void add_config_commands(CLI::App& parent, Context& ctx) {
    add_config(parent, ctx);
    add_templates(parent, ctx);
}

}  // namespace cosmos::cli
