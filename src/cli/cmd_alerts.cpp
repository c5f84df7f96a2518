// `cosmos alerts list|test|check` (docs/alerts.md).

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/clock.hpp"
#include "services/alerts.hpp"
#include "store/alert_store.hpp"

namespace cosmos::cli {

namespace {

nlohmann::ordered_json alert_row(const store::AlertRecord& a) {
    using J = nlohmann::ordered_json;
    J j = {{"id", a.id},
           {"rule", a.rule},
           {"condition", a.condition},
           {"subject", a.subject},
           {"state", a.state},
           {"summary", a.summary},
           {"fired_at", a.fired_at},
           {"resolved_at", a.resolved_at ? J(*a.resolved_at) : J(nullptr)},
           {"host", a.host ? J(*a.host) : J(nullptr)},
           {"run", a.run_id ? J(*a.run_id) : J(nullptr)}};
    return j;
}

void add_list(CLI::App& alerts, Context& ctx) {
    auto all = std::make_shared<bool>(false);
    auto* cmd = alerts.add_subcommand(
        "list", "List firing alerts (and failed-run events of the last 24 hours)");
    cmd->add_flag("--all", *all, "Every alert recorded, resolved ones included");
    cmd->footer("Examples:\n  cosmos alerts list\n  cosmos alerts list --all --json");
    cmd->callback([&ctx, all] {
        ctx.action = [&ctx, all] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                std::string since = core::iso_from_ms(core::now_ms() - 24LL * 3600 * 1000);
                COSMOS_TRY(auto rows, store::list_alerts(app->db, *all, since, 1000));
                if (ctx.out.json) {
                    auto out = nlohmann::ordered_json::array();
                    for (const auto& a : rows) {
                        auto j = alert_row(a);
                        COSMOS_TRY(auto ds, store::deliveries_of(app->db, a.id));
                        auto deliveries = nlohmann::ordered_json::array();
                        for (const auto& d : ds) {
                            deliveries.push_back(
                                {{"sink", d.sink},
                                 {"status", d.status},
                                 {"state", d.state},
                                 {"attempts", d.attempts},
                                 {"last_error",
                                  d.last_error ? nlohmann::ordered_json(*d.last_error)
                                               : nlohmann::ordered_json(nullptr)}});
                        }
                        j["deliveries"] = deliveries;
                        out.push_back(std::move(j));
                    }
                    ctx.out.print_json(out);
                    return {};
                }
                if (rows.empty()) {
                    ctx.out.note(*all ? "no alerts recorded" : "no alerts firing");
                    return {};
                }
                std::vector<std::vector<std::string>> table = {
                    {"STATE", "RULE", "CONDITION", "SUBJECT", "FIRED", "SUMMARY"}};
                for (const auto& a : rows) {
                    table.push_back({a.state,
                                     a.rule,
                                     a.condition,
                                     a.subject,
                                     a.fired_at.substr(0, 19),
                                     ellipsize(a.summary, 70)});
                }
                print_table(table);
                return {};
            });
        };
    });
}

void add_test(CLI::App& alerts, Context& ctx) {
    auto sink = std::make_shared<std::string>();
    auto* cmd = alerts.add_subcommand(
        "test",
        "Send a sample alert through every sink (or one) now, once, and say which delivered");
    cmd->add_option("--sink", *sink, "Only this [alert_sinks.NAME]")->type_name("NAME");
    cmd->footer(
        "Exits 0 when every sink delivered, 10 (remote_failed) when any did not; each failure\n"
        "says why (the URL of a url_file sink is never shown).\n\n"
        "Examples:\n  cosmos alerts test\n  cosmos alerts test --sink ops-slack --json");
    cmd->callback([&ctx, sink] {
        ctx.action = [&ctx, sink]() -> int {
            bool all_ok = true;
            int rc = ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto cfg, ctx.load_config());
                if (cfg.alert_sinks.empty()) {
                    return core::fail(core::ErrorCode::config,
                                      "no [alert_sinks.NAME] tables in the configuration",
                                      "add one (docs/alerts.md), then run cosmos alerts test");
                }
                COSMOS_TRY(auto results, services::test_alert_sinks(cfg, *sink));
                auto out = nlohmann::ordered_json::array();
                for (const auto& r : results) {
                    all_ok = all_ok && r.delivered;
                    out.push_back({{"sink", r.sink},
                                   {"kind", r.kind},
                                   {"delivered", r.delivered},
                                   {"error",
                                    r.delivered ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(r.error)}});
                    if (!ctx.out.json) {
                        ctx.out.print_line(
                            r.delivered
                                ? fmt::format("{} ({}): delivered", r.sink, r.kind)
                                : fmt::format("{} ({}): failed: {}", r.sink, r.kind, r.error));
                    }
                }
                if (ctx.out.json) {
                    ctx.out.print_json(out);
                }
                return {};
            });
            if (rc == 0 && !all_ok) {
                return core::exit_code_for(core::ErrorCode::remote_failed);
            }
            return rc;
        };
    });
}

void add_check(CLI::App& alerts, Context& ctx) {
    auto* cmd = alerts.add_subcommand(
        "check",
        "Evaluate every [[alerts]] rule once now and deliver what is due (for cron and "
        "scripts; workers and cosmos serve do this on their own every few seconds)");
    cmd->footer(
        "Host probes (host_unreachable, disk_low) run when their probe_every has passed.\n"
        "A delivery that fails is retried by the next check, worker or server pass.\n\n"
        "Examples:\n  cosmos alerts check\n  */5 * * * * cosmos alerts check --quiet");
    cmd->callback([&ctx] {
        ctx.action = [&ctx] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                services::AlertEngine engine(
                    app->config, [&ctx](const std::string& line) { ctx.out.note(line); });
                COSMOS_TRY(auto pass, engine.check(*app, core::now_ms()));
                if (ctx.out.json) {
                    auto fired = nlohmann::ordered_json::array();
                    for (const auto& a : pass.fired) {
                        fired.push_back(alert_row(a));
                    }
                    auto resolved = nlohmann::ordered_json::array();
                    for (const auto& a : pass.resolved) {
                        resolved.push_back(alert_row(a));
                    }
                    ctx.out.print_json({{"rules", app->config.alerts.size()},
                                        {"fired", fired},
                                        {"resolved", resolved},
                                        {"delivered", pass.delivered},
                                        {"failed_attempts", pass.failed_attempts},
                                        {"given_up", pass.given_up},
                                        {"probes", pass.probes}});
                    return {};
                }
                ctx.out.print_line(fmt::format(
                    "{} rule(s): {} fired, {} resolved; {} delivered, {} to retry, {} given up",
                    app->config.alerts.size(),
                    pass.fired.size(),
                    pass.resolved.size(),
                    pass.delivered,
                    pass.failed_attempts,
                    pass.given_up));
                return {};
            });
        };
    });
}

}  // namespace

void add_alerts_command(CLI::App& parent, Context& ctx) {
    auto* alerts = parent.add_subcommand(
        "alerts",
        "Alerts from the [[alerts]] rules of the config (a run failed or stuck, a host "
        "unreachable or low on disk, the queue not moving, a GPU idle while runs wait), sent "
        "to [alert_sinks.NAME] (webhook, slack, command); docs/alerts.md");
    alerts->require_subcommand(1);
    alerts->footer(
        "Example config:\n"
        "  [alert_sinks.ops]\n"
        "  kind = \"slack\"\n"
        "  url_file = \"~/.config/cosmos/slack-url\"   # mode 0600\n\n"
        "  [[alerts]]\n"
        "  name = \"failed-runs\"\n"
        "  when = \"run_failed\"\n"
        "  sinks = [\"ops\"]\n\n"
        "  [[alerts]]\n"
        "  name = \"stuck\"\n"
        "  when = \"run_stuck\"\n"
        "  for_minutes = 30\n"
        "  sinks = [\"ops\"]");
    add_list(*alerts, ctx);
    add_test(*alerts, ctx);
    add_check(*alerts, ctx);
}

}  // namespace cosmos::cli
