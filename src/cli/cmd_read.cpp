// Read commands: `cosmos list`, `show`, `search`, `spec`. Every one has --json.

#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "scheduler/run_spec.hpp"
#include "services/create_run.hpp"
#include "services/host_status.hpp"
#include "services/previews.hpp"
#include "services/reasoner.hpp"
#include "services/views.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

std::string controls_text(const store::PromptRecord& p) {
    std::string s;
    for (const auto& [m, path] : p.controls) {
        s += (s.empty() ? "" : ",") + m;
    }
    return s.empty() ? "-" : s;
}

std::string short_time(const std::string& iso) {
    // 2026-11-25T05:12:53.123Z -> 2026-11-25 05:12
    return iso.size() >= 16 ? iso.substr(0, 10) + " " + iso.substr(11, 5) : iso;
}

void print_prompts(const Context& ctx, const std::vector<store::PromptRecord>& prompts) {
    if (ctx.out.json) {
        nlohmann::ordered_json arr = nlohmann::ordered_json::array();
        for (const auto& p : prompts) {
            arr.push_back(services::prompt_json(p));
        }
        ctx.out.print_json(arr);
        return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "NAME", "FRAMES", "CONTROLS", "CREATED", "TEXT"}};
    for (const auto& p : prompts) {
        rows.push_back({p.id,
                        p.name,
                        std::to_string(p.video.frames),
                        controls_text(p),
                        short_time(p.created_at),
                        ellipsize(p.prompt, 48)});
    }
    print_table(rows);
}

void print_runs(const Context& ctx, const std::vector<store::RunRecord>& runs) {
    if (ctx.out.json) {
        nlohmann::ordered_json arr = nlohmann::ordered_json::array();
        for (const auto& r : runs) {
            arr.push_back(services::run_json(r));
        }
        ctx.out.print_json(arr);
        return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "PROMPT", "KIND", "STATUS", "HOST", "PROGRESS", "RATING", "CREATED", "ERROR"}};
    for (const auto& r : runs) {
        rows.push_back({r.id,
                        r.prompt_id,
                        std::string(core::to_string(r.kind)),
                        std::string(store::to_string(r.status)),
                        r.host.value_or("-"),
                        fmt::format("{:.0f}%", r.progress * 100),
                        r.rating ? fmt::format("{}/5", *r.rating) : std::string("-"),
                        short_time(r.created_at),
                        ellipsize(r.error.value_or(""), 40)});
    }
    print_table(rows);
}

// Preview paths (thumbnail, contact sheet) for `show`, made on first use; a video that can't
// be previewed is a warning, never a failure of `show`.
nlohmann::ordered_json previews_json(
    const core::Result<std::optional<media::PreviewFiles>>& previews) {
    if (!previews) {
        core::log(core::LogLevel::warn, "no previews: {}", previews.error().message);
        return nullptr;
    }
    if (!*previews) {
        return nullptr;
    }
    return {{"thumbnail", (*previews)->thumbnail.string()},
            {"contact_sheet", (*previews)->contact_sheet.string()}};
}

void print_previews(const Context& ctx, const nlohmann::ordered_json& p) {
    if (!p.is_null()) {
        ctx.out.print_line(fmt::format("thumbnail {}\nsheet     {}",
                                       p["thumbnail"].get<std::string>(),
                                       p["contact_sheet"].get<std::string>()));
    }
}

core::Status show_prompt(const Context& ctx, const services::App& app, const std::string& id) {
    COSMOS_TRY(auto p, store::get_prompt(app.db, id));
    if (!p) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", id));
    }
    store::RunQuery q;
    q.prompt_id = id;
    q.limit = 20;
    COSMOS_TRY(auto runs, store::list_runs(app.db, q));
    auto previews = previews_json(services::prompt_previews(app, *p));
    if (ctx.out.json) {
        auto j = services::prompt_json(*p);
        j["previews"] = previews;
        j["runs"] = nlohmann::ordered_json::array();
        for (const auto& r : runs) {
            j["runs"].push_back(services::run_json(r));
        }
        ctx.out.print_json(j);
        return {};
    }
    ctx.out.print_line(fmt::format("prompt    {}\nname      {}\ncreated   {}\nsource    {}",
                                   p->id,
                                   p->name,
                                   p->created_at,
                                   p->source));
    ctx.out.print_line(
        fmt::format("text      {}\nnegative  {}", p->prompt, ellipsize(p->negative_prompt, 100)));
    ctx.out.print_line(fmt::format("input     {}\nvideo     {} ({} frames, {}x{}, {:.3g} fps)",
                                   p->input_dir,
                                   p->input_video.value_or("-"),
                                   p->video.frames,
                                   p->video.width,
                                   p->video.height,
                                   p->video.fps));
    for (const auto& [m, path] : p->controls) {
        ctx.out.print_line(fmt::format("control   {:<9} {}", m, path));
    }
    print_previews(ctx, previews);
    if (p->parent_id) {
        ctx.out.print_line(fmt::format("parent    {}", *p->parent_id));
    }
    ctx.out.print_line(fmt::format("runs      {}", runs.size()));
    for (const auto& r : runs) {
        ctx.out.print_line(fmt::format(
            "  {}  {:<9}  {}", r.id, store::to_string(r.status), short_time(r.created_at)));
    }
    return {};
}

core::Status show_run(const Context& ctx, const services::App& app, const std::string& id) {
    COSMOS_TRY(auto found, store::get_run(app.db, id));
    if (!found) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", id));
    }
    auto r = std::optional<store::RunRecord>(services::with_live_gpu_usage(app, *found));
    COSMOS_TRY(auto events, store::run_events(app.db, id));
    auto previews = previews_json(services::run_previews(app, *r));
    if (ctx.out.json) {
        auto j = services::run_json(*r);
        j["previews"] = previews;
        j["events"] = services::run_events_json(events);
        j["command"] = r->command ? nlohmann::ordered_json::parse(*r->command, nullptr, false)
                                  : nlohmann::ordered_json(nullptr);
        j["spec"] = r->spec ? nlohmann::ordered_json::parse(*r->spec, nullptr, false)
                            : nlohmann::ordered_json(nullptr);
        auto review = services::stored_review(app, r->id);
        j["review"] = review ? *review : nlohmann::ordered_json(nullptr);
        ctx.out.print_json(j);
        return {};
    }
    const auto& p = r->params;
    std::string weights;
    for (const auto& [m, w] : p.weights) {
        weights += fmt::format("{}{}={}", weights.empty() ? "" : " ", m, w);
    }
    ctx.out.print_line(fmt::format(
        "run       {}\nprompt    {}\nkind      {}\nstatus    {} ({:.0f}%)\nhost      {}",
        r->id,
        r->prompt_id,
        r->kind,
        store::to_string(r->status),
        r->progress * 100,
        r->host.value_or("-")));
    ctx.out.print_line(fmt::format(
        "weights   {}\nparams    steps={} guidance={} sigma_max={} seed={} fps={} gpus={}",
        weights,
        p.num_steps,
        p.guidance,
        p.sigma_max,
        p.seed,
        p.fps,
        p.num_gpus));
    for (const auto& e : events) {
        ctx.out.print_line(
            fmt::format("  {}  {:<9} {}", e.at, store::to_string(e.status), e.detail));
    }
    if (r->exit_code) {
        ctx.out.print_line(fmt::format("exit code {}", *r->exit_code));
    }
    if (r->error) {
        ctx.out.print_line(fmt::format("error     {}", *r->error));
    }
    if (r->gpu_util_mean) {
        ctx.out.print_line(
            fmt::format("gpu       {}: utilisation mean {:.0f}%, peak {:.0f}%; "
                        "memory peak {:.0f} MiB{}",
                        r->gpu_ids.value_or("all"),
                        *r->gpu_util_mean,
                        r->gpu_util_peak.value_or(0),
                        r->gpu_mem_peak_mib.value_or(0),
                        r->status == store::RunStatus::running ? " (so far)" : ""));
    }
    if (r->gpu_seconds) {
        ctx.out.print_line(fmt::format(
            "gpu time  {:.3f} GPU-hours{}",
            *r->gpu_seconds / 3600.0,
            r->gpu_price_per_hour
                ? fmt::format(", cost {:.2f}", *r->gpu_seconds / 3600.0 * *r->gpu_price_per_hour)
                : std::string()));
    }
    ctx.out.print_line(fmt::format(
        "output    {}\nlog       {}", r->output_video.value_or("-"), r->log_path.value_or("-")));
    ctx.out.print_line(fmt::format("rating    {}",
                                   r->rating ? fmt::format("{}/5", *r->rating) : std::string("-")));
    if (auto review = services::stored_review(app, r->id)) {
        ctx.out.print_line(
            fmt::format("review    plausibility {} ({}): {}",
                        (*review)["score"].is_null() ? std::string("?") : (*review)["score"].dump(),
                        review->value("host", std::string("?")),
                        review->value("reason", std::string())));
    }
    print_previews(ctx, previews);
    return {};
}

void add_list(CLI::App& parent, Context& ctx) {
    struct Args {
        std::string what, status, prompt, host;
        int limit = 50;
        int offset = 0;
        std::optional<int> rating, min_rating;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = parent.add_subcommand("list", "List prompts or runs, newest first");
    cmd->add_option("WHAT", a->what, "prompts or runs")
        ->required()
        ->check(CLI::IsMember({"prompts", "runs"}));
    cmd->add_option("--status",
                    a->status,
                    "Only runs in this status: pending, queued, running, succeeded, failed, "
                    "cancelled");
    cmd->add_option("--prompt", a->prompt, "Only runs of this prompt");
    cmd->add_option("--host", a->host, "Only runs on this host");
    cmd->add_option("--rating", a->rating, "Only runs rated exactly N stars (1-5; cosmos rate)")
        ->type_name("N")
        ->check(CLI::Range(store::k_min_rating, store::k_max_rating));
    cmd->add_option("--min-rating", a->min_rating, "Only runs rated at least N stars (1-5)")
        ->type_name("N")
        ->check(CLI::Range(store::k_min_rating, store::k_max_rating))
        ->excludes("--rating");
    cmd->footer(
        "Examples:\n"
        "  cosmos list runs --status failed\n"
        "  cosmos list runs --min-rating 4          # the keepers (cosmos rate RUN_ID... N)\n"
        "  cosmos list runs --prompt ps_... --rating 5 --json");
    cmd->add_option("--limit", a->limit, "At most this many (1-10000)")
        ->check(CLI::Range(1, 10000));
    cmd->add_option("--offset", a->offset, "Skip this many first")->check(CLI::NonNegativeNumber);
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                if (a->what == "prompts") {
                    COSMOS_TRY(
                        auto prompts,
                        store::list_prompts(app->db, store::PromptQuery{a->limit, a->offset}));
                    print_prompts(ctx, prompts);
                    return {};
                }
                store::RunQuery q;
                q.limit = a->limit;
                q.offset = a->offset;
                if (!a->status.empty()) {
                    q.status = store::run_status_from(a->status);
                    if (!q.status) {
                        return fail(ErrorCode::invalid_input,
                                    fmt::format("unknown status '{}'", a->status),
                                    "pending, queued, running, succeeded, failed, cancelled");
                    }
                }
                if (!a->prompt.empty()) {
                    q.prompt_id = a->prompt;
                }
                if (!a->host.empty()) {
                    q.host = a->host;
                }
                q.rating = a->rating;
                q.min_rating = a->min_rating;
                COSMOS_TRY(auto runs, store::list_runs(app->db, q));
                print_runs(ctx, runs);
                return {};
            });
        };
    });
}

void add_show(CLI::App& parent, Context& ctx) {
    auto id = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand("show", "Show a prompt (ps_...) or a run (rs_...) in full");
    cmd->add_option("ID", *id, "A prompt or run id")->required();
    cmd->callback([&ctx, id] {
        ctx.action = [&ctx, id] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                core::IdKind kind{};
                if (core::id_kind_of(*id, kind) && kind == core::IdKind::prompt) {
                    return show_prompt(ctx, *app, *id);
                }
                if (core::id_kind_of(*id, kind) && kind == core::IdKind::run) {
                    return show_run(ctx, *app, *id);
                }
                return fail(ErrorCode::invalid_input,
                            fmt::format("'{}' is not a prompt (ps_...) or run (rs_...) id", *id));
            });
        };
    });
}

void add_search(CLI::App& parent, Context& ctx) {
    auto words = std::make_shared<std::vector<std::string>>();
    auto limit = std::make_shared<int>(50);
    auto* cmd = parent.add_subcommand(
        "search",
        "Find prompts whose name or text contain every word (prefixes match), and "
        "their runs");
    cmd->add_option(
           "WORDS", *words, "Words to look for (quoted or not: `cosmos search rainy harbour`)")
        ->required();
    cmd->add_option("--limit", *limit, "At most this many prompts")->check(CLI::Range(1, 1000));
    cmd->callback([&ctx, words, limit] {
        ctx.action = [&ctx, words, limit] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                const std::string text = fmt::format("{}", fmt::join(*words, " "));
                COSMOS_TRY(auto prompts, store::search_prompts(app->db, text, *limit));
                std::vector<std::string> ids;
                for (const auto& p : prompts) {
                    ids.push_back(p.id);
                }
                COSMOS_TRY(auto runs, store::runs_for_prompts(app->db, ids, 200));
                if (ctx.out.json) {
                    nlohmann::ordered_json j;
                    j["prompts"] = nlohmann::ordered_json::array();
                    j["runs"] = nlohmann::ordered_json::array();
                    for (const auto& p : prompts) {
                        j["prompts"].push_back(services::prompt_json(p));
                    }
                    for (const auto& r : runs) {
                        j["runs"].push_back(services::run_json(r));
                    }
                    ctx.out.print_json(j);
                    return {};
                }
                print_prompts(ctx, prompts);
                if (!runs.empty()) {
                    ctx.out.print_line("");
                    print_runs(ctx, runs);
                }
                return {};
            });
        };
    });
}

void add_spec(CLI::App& parent, Context& ctx) {
    auto id = std::make_shared<std::string>();
    auto* cmd = parent.add_subcommand(
        "spec",
        "Print the controlnet spec JSON the model reads for a run: the one sent, once "
        "launched; otherwise the one a local launch would send");
    cmd->add_option("RUN_ID", *id, "A run id")->required();
    cmd->callback([&ctx, id] {
        ctx.action = [&ctx, id] {
            return ctx.guard([&]() -> core::Status {
                COSMOS_TRY(auto* app, ctx.app());
                COSMOS_TRY(auto run, store::get_run(app->db, *id));
                if (!run) {
                    return fail(ErrorCode::not_found, fmt::format("no run {}", *id));
                }
                if (run->spec) {
                    ctx.out.print_line(*run->spec);
                    return {};
                }
                COSMOS_TRY(auto prompt, store::get_prompt(app->db, run->prompt_id));
                if (!prompt) {
                    return fail(ErrorCode::not_found,
                                fmt::format("run {}: prompt {} is gone", *id, run->prompt_id));
                }
                COSMOS_TRY(auto spec, scheduler::local_spec(*prompt, *run));
                ctx.out.print_line(spec.dump(2));
                return {};
            });
        };
    });
}

}  // namespace

void add_read_commands(CLI::App& parent, Context& ctx) {
    add_list(parent, ctx);
    add_show(parent, ctx);
    add_search(parent, ctx);
    add_spec(parent, ctx);
}

}  // namespace cosmos::cli
