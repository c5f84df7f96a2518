// `cosmos rate RUN_ID... N` and `cosmos rate --clear RUN_ID...`: a run's rating, 1 to 5 stars
// (store::set_run_rating; `cosmos list runs --rating N / --min-rating N` filters by it).

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/decimal.hpp"
#include "services/views.hpp"
#include "store/id_prefix.hpp"
#include "store/run_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

struct RateArgs {
    std::vector<std::string> words;  // RUN_ID... N, or RUN_ID... with --clear
    bool clear = false;
};

// The rating (the last word) unless --clear; what is left are the runs.
core::Result<std::optional<int>> take_rating(RateArgs& a) {
    if (a.clear) {
        return std::optional<int>();
    }
    if (a.words.size() < 2) {
        return fail(ErrorCode::invalid_input,
                    "give the runs and then the rating: cosmos rate RUN_ID... N",
                    "N is 1 to 5 stars; --clear removes a rating");
    }
    std::string last = a.words.back();
    auto value = core::parse_decimal(last, "the rating");
    if (!value || *value != static_cast<double>(static_cast<int>(*value)) ||
        *value < store::k_min_rating || *value > store::k_max_rating) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("rating '{}' is not a whole number from {} to {}",
                                last,
                                store::k_min_rating,
                                store::k_max_rating),
                    "the rating comes last: cosmos rate RUN_ID... N; --clear removes it");
    }
    a.words.pop_back();
    return std::optional<int>(static_cast<int>(*value));
}

}  // namespace

void add_rate_command(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<RateArgs>();
    auto* cmd = parent.add_subcommand(
        "rate",
        "Rate runs 1 to 5 stars (or --clear the rating), to find the keepers later with "
        "`cosmos list runs --rating N` or `--min-rating N` and the web UI's filter. Run ids may "
        "be given by a unique prefix");
    cmd->add_option(
           "RUN_IDS", a->words, "The runs, then the rating N (1-5); only runs with --clear")
        ->required();
    cmd->add_flag("--clear", a->clear, "Remove the runs' rating instead of setting one");
    cmd->footer(
        "Examples:\n"
        "  cosmos rate rs_3fa9c0d2e1b4a5f6 5\n"
        "  cosmos rate rs_3fa9 rs_77e1 4           # unique prefixes\n"
        "  cosmos rate --clear rs_3fa9\n"
        "  cosmos list runs --min-rating 4");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto rating, take_rating(*a));
                COSMOS_TRY(auto* app, ctx.app());
                // Every id is resolved before anything changes: a typo rates nothing.
                std::vector<std::string> ids;
                for (const auto& word : a->words) {
                    COSMOS_TRY(auto id, store::resolve_run_id(app->db, word));
                    ids.push_back(std::move(id));
                }
                nlohmann::ordered_json out = nlohmann::ordered_json::array();
                for (const auto& id : ids) {
                    COSMOS_CHECK(store::set_run_rating(app->db, id, rating));
                    COSMOS_TRY(auto run, store::require_run(app->db, id));
                    if (ctx.out.json) {
                        out.push_back(services::run_json(run));
                    } else {
                        ctx.out.print_line(rating ? fmt::format("{}  rated {}/5", id, *rating)
                                                  : fmt::format("{}  rating cleared", id));
                    }
                }
                if (ctx.out.json) {
                    ctx.out.print_json(out);
                }
                return {};
            });
        };
    });
}

}  // namespace cosmos::cli
