// `cosmos cost [--since WHEN] [--by prompt|host|model|sweep|day]`: GPU-hours and money of
// finished runs (docs/cost.md).

#include <cctype>
#include <charconv>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/clock.hpp"
#include "store/cost_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// WHEN: a date or ISO time (UTC), or an age: 12h, 7d.
core::Result<std::string> since_iso(const std::string& when) {
    if (when.empty()) {
        return std::string();
    }
    if (when.size() >= 2 && (when.back() == 'h' || when.back() == 'd')) {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(when.data(), when.data() + when.size() - 1, n);
        if (ec == std::errc() && end == when.data() + when.size() - 1 && n >= 0 && n <= 100000) {
            std::int64_t hours = when.back() == 'd' ? n * 24 : n;
            return core::iso_from_ms(core::now_ms() - hours * 3600 * 1000);
        }
    }
    std::string iso = when.size() == 10 ? when + "T00:00:00Z" : when;
    std::int64_t ms = core::ms_from_iso(iso);
    if (ms < 0) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("--since {}: not a date, a time or an age", when),
                    "e.g. --since 2026-12-01, --since 2026-12-01T09:00:00Z, --since 7d, "
                    "--since 12h");
    }
    return core::iso_from_ms(ms);
}

std::string upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string money(double v) {
    return fmt::format("{:.2f}", v);
}

}  // namespace

void add_cost_command(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string since;
        std::string by = "model";
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand(
        "cost",
        "GPU-hours and money of finished runs, grouped: each run records the GPU-seconds it held "
        "(its share of a batch's model load) and the price per GPU-hour its host declared then "
        "(price_per_gpu_hour in [hosts.NAME]; docs/cost.md)");
    cmd->add_option("--since", a->since, "Only runs created since then: a date, a time or an age")
        ->type_name("WHEN");
    cmd->add_option("--by", a->by, "Group by prompt, host, model, sweep or day")
        ->check(CLI::IsMember({"prompt", "host", "model", "sweep", "day"}))
        ->capture_default_str();
    cmd->footer(
        "Runs on hosts without a price count their GPU-hours; their money is left out and\n"
        "counted under UNPRICED. A sweep's estimate before it is queued: cosmos sweep ... "
        "--dry-run.\n\n"
        "Examples:\n  cosmos cost\n  cosmos cost --by day --since 7d\n"
        "  cosmos cost --by sweep --json\n  cosmos cost --by host --since 2026-12-01");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto since, since_iso(a->since));
                const std::map<std::string, store::CostGrouping> by = {
                    {"prompt", store::CostGrouping::prompt},
                    {"host", store::CostGrouping::host},
                    {"model", store::CostGrouping::model},
                    {"sweep", store::CostGrouping::sweep},
                    {"day", store::CostGrouping::day}};
                COSMOS_TRY(auto rows, store::cost_report(app->db, since, by.at(a->by)));
                if (ctx.out.json) {
                    auto out = nlohmann::ordered_json::array();
                    for (const auto& r : rows) {
                        out.push_back({{a->by, r.key},
                                       {"runs", r.runs},
                                       {"gpu_seconds", r.gpu_seconds},
                                       {"gpu_hours", r.gpu_seconds / 3600.0},
                                       {"cost", r.cost},
                                       {"unpriced_runs", r.unpriced}});
                    }
                    ctx.out.print_json(out);
                    return {};
                }
                if (rows.empty()) {
                    ctx.out.note("no finished runs with recorded GPU time" +
                                 std::string(since.empty() ? "" : " since " + since));
                    return {};
                }
                std::vector<std::vector<std::string>> table = {
                    {upper(a->by), "RUNS", "GPU-HOURS", "COST", "UNPRICED"}};
                double hours = 0, cost = 0;
                std::int64_t runs = 0, unpriced = 0;
                for (const auto& r : rows) {
                    table.push_back({r.key,
                                     std::to_string(r.runs),
                                     fmt::format("{:.3f}", r.gpu_seconds / 3600.0),
                                     money(r.cost),
                                     std::to_string(r.unpriced)});
                    hours += r.gpu_seconds / 3600.0;
                    cost += r.cost;
                    runs += r.runs;
                    unpriced += r.unpriced;
                }
                table.push_back({"total",
                                 std::to_string(runs),
                                 fmt::format("{:.3f}", hours),
                                 money(cost),
                                 std::to_string(unpriced)});
                print_table(table);
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
