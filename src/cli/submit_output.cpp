// Output shared by the commands that queue many runs (see submit_output.hpp).

#include "cli/submit_output.hpp"

#include <fmt/format.h>

#include "core/decimal.hpp"
#include "model/upscale_command.hpp"

namespace cosmos::cli {

using core::ErrorCode;
using core::fail;

namespace {

// "vis=0.5 depth=0.6 seed=7 steps=35": the weights that reach the spec and the usual knobs.
std::string summary(const model::RunParams& p, core::RunKind kind) {
    std::string s;
    for (const auto& [m, w] : p.weights) {
        if (w > 0) {
            s += fmt::format("{}{}={}", s.empty() ? "" : " ", m, w);
        }
    }
    if (kind == core::RunKind::upscale) {
        return s;
    }
    return s + fmt::format(" seed={} steps={} guidance={}", p.seed, p.num_steps, p.guidance);
}

}  // namespace

core::Result<std::optional<double>> upscale_weight(const std::vector<std::string>& given,
                                                   bool present) {
    if (!present) {
        return std::optional<double>();
    }
    if (given.empty() || given.front().empty()) {
        return std::optional<double>(model::k_default_upscale_weight);
    }
    if (auto w = core::parse_decimal(given.front(), "--upscale")) {
        return std::optional<double>(*w);
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("--upscale '{}' is not a number", given.front()),
                "--upscale takes an optional weight, e.g. --upscale 0.5");
}

void print_queued(const Context& ctx, const std::vector<services::QueuedRun>& queued) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    std::size_t upscales = 0;
    for (const auto& q : queued) {
        upscales += q.run.kind == core::RunKind::upscale ? 1 : 0;
        if (ctx.out.json) {
            arr.push_back(services::queued_json(q));
            continue;
        }
        std::string after = q.job.depends_on ? " after " + *q.job.depends_on : std::string();
        ctx.out.print_line(fmt::format("{}\t{}\t{}\t{}\t{}{}",
                                       q.run.id,
                                       q.job.id,
                                       q.run.kind,
                                       q.run.prompt_id,
                                       summary(q.run.params, q.run.kind),
                                       after));
    }
    if (ctx.out.json) {
        ctx.out.print_json(arr);
    }
    ctx.out.note(
        fmt::format("queued {} run(s){}; `cosmos worker` works the queue, `cosmos queue` "
                    "shows it",
                    queued.size(),
                    upscales > 0 ? fmt::format(" ({} upscale)", upscales) : ""));
}

void print_planned(const Context& ctx,
                   const std::vector<services::PlannedRun>& plan,
                   const services::PlanEstimate& estimate) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    std::size_t upscales = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& p = plan[i];
        upscales += p.entry.upscale ? 1 : 0;
        if (ctx.out.json) {
            auto j = services::planned_json(p);
            auto gpu_s = i < estimate.per_run.size() ? estimate.per_run[i] : std::nullopt;
            j["estimated_gpu_seconds"] = gpu_s ? nlohmann::ordered_json(*gpu_s) : nullptr;
            j["estimated_cost"] = gpu_s && estimate.price
                                      ? nlohmann::ordered_json(*gpu_s / 3600.0 * *estimate.price)
                                      : nullptr;
            arr.push_back(std::move(j));
            continue;
        }
        std::string up =
            p.entry.upscale ? fmt::format(" +upscale={}", *p.entry.upscale) : std::string();
        ctx.out.print_line(fmt::format("-\t-\ttransfer\t{}\t{}{}",
                                       p.prompt_id,
                                       summary(p.params, core::RunKind::transfer),
                                       up));
    }
    if (ctx.out.json) {
        ctx.out.print_json(arr);
    }
    ctx.out.note(fmt::format("dry run: would queue {} run(s){}; nothing was created",
                             plan.size() + upscales,
                             upscales > 0 ? fmt::format(" ({} upscale)", upscales) : ""));
    if (estimate.known == 0) {
        ctx.out.note(
            "estimate: no finished run like these yet (same model, GPUs, steps and "
            "frames): no estimate");
        return;
    }
    std::string money = estimate.price
                            ? fmt::format(", about {:.2f} at {} per GPU-hour",
                                          estimate.gpu_seconds / 3600.0 * *estimate.price,
                                          *estimate.price)
                            : std::string(" (no single price per GPU-hour for these hosts)");
    ctx.out.note(
        fmt::format("estimate: {:.3f} GPU-hours for {} of the {} transfer run(s){}, from "
                    "the history of similar runs{}",
                    estimate.gpu_seconds / 3600.0,
                    estimate.known,
                    plan.size(),
                    money,
                    estimate.unknown > 0 ? fmt::format("; {} without history", estimate.unknown)
                                         : std::string()));
}

}  // namespace cosmos::cli
