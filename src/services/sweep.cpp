// Sweep expansion and the parsers of its flags (see sweep.hpp).

#include "services/sweep.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/decimal.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

core::Result<double> parse_number(std::string_view what, const std::string& text) {
    return core::parse_decimal(text, what);
}

core::Result<std::int64_t> parse_int(std::string_view flag, std::string_view text) {
    std::int64_t v = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (text.empty() || ec != std::errc() || ptr != last) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{}: '{}' is not an integer", flag, text),
                    fmt::format("{} takes integers and ranges, e.g. 1,2,3 or 1-8", flag));
    }
    return v;
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        auto pos = text.find(sep, start);
        std::string_view part =
            text.substr(start, pos == std::string_view::npos ? pos : pos - start);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        while (!part.empty() && part.back() == ' ') {
            part.remove_suffix(1);
        }
        parts.emplace_back(part);
        if (pos == std::string_view::npos) {
            return parts;
        }
        start = pos + 1;
    }
}

}  // namespace

core::Result<WeightAxis> parse_weight_axis(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("--weights-grid '{}' must look like MODALITY=W1,W2,...", text),
                    "e.g. --weights-grid depth=0.2,0.4,0.6");
    }
    WeightAxis axis;
    axis.modality = std::string(text.substr(0, eq));
    for (const auto& item : split(text.substr(eq + 1), ',')) {
        COSMOS_TRY(double w, parse_number(fmt::format("--weights-grid '{}'", text), item));
        axis.values.push_back(w);
    }
    return axis;
}

core::Result<std::vector<std::int64_t>> parse_int_list(std::string_view flag,
                                                       std::string_view text,
                                                       std::size_t limit) {
    std::vector<std::int64_t> values;
    for (const auto& item : split(text, ',')) {
        if (item.empty()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} '{}' has an empty item", flag, text),
                        fmt::format("{} takes integers and ranges, e.g. 1,2,3 or 1-8", flag));
        }
        auto dash = item.find('-', 1);  // a leading '-' is a sign
        if (dash == std::string::npos) {
            COSMOS_TRY(auto v, parse_int(flag, item));
            values.push_back(v);
        } else {
            COSMOS_TRY(auto from, parse_int(flag, std::string_view(item).substr(0, dash)));
            COSMOS_TRY(auto to, parse_int(flag, std::string_view(item).substr(dash + 1)));
            if (to < from) {
                return fail(ErrorCode::invalid_input,
                            fmt::format("{} range '{}' ends before it starts", flag, item));
            }
            if (static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from) >=
                limit - values.size()) {
                return fail(ErrorCode::invalid_input,
                            fmt::format("{} '{}' has more than {} values", flag, text, limit));
            }
            for (std::int64_t v = from; v <= to; ++v) {
                values.push_back(v);
            }
        }
        if (values.size() > limit) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} '{}' has more than {} values", flag, text, limit));
        }
    }
    return values;
}

std::size_t sweep_size(const SweepRequest& req) {
    constexpr std::size_t k_max = std::numeric_limits<std::size_t>::max();
    std::size_t n = req.prompts.size();
    auto times = [&n](std::size_t k) { n = (k != 0 && n > k_max / k) ? k_max : n * k; };
    for (const auto& axis : req.weights) {
        times(axis.values.size());
    }
    if (!req.seeds.empty()) {
        times(req.seeds.size());
    }
    return n;
}

core::Result<std::vector<SubmitEntry>> expand_sweep(const SweepRequest& req, std::size_t max_runs) {
    if (req.prompts.empty()) {
        return fail(ErrorCode::invalid_input, "a sweep needs at least one prompt");
    }
    std::set<std::string> seen;
    for (const auto& axis : req.weights) {
        if (!seen.insert(axis.modality).second) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--weights-grid names {} twice", axis.modality),
                        "give each modality's values in one --weights-grid MOD=W1,W2,...");
        }
        if (axis.values.empty()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("--weights-grid {} has no values", axis.modality));
        }
    }
    if (!req.seeds.empty() && req.base.seed) {
        return fail(ErrorCode::invalid_input,
                    "--seed and --seeds cannot be combined",
                    "use --seeds for a list (--seeds 7 for one seed)");
    }
    std::size_t n = sweep_size(req);
    if (max_runs != 0 && n > max_runs) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("the sweep would create {} runs, more than the limit of {}",
                        n == std::numeric_limits<std::size_t>::max() ? std::string("too many")
                                                                     : std::to_string(n),
                        max_runs),
            "narrow the grid, or allow it with --max N (--yes: no limit)");
    }
    // Dimensions: each weight axis, then seeds (one empty-valued dimension when none).
    std::vector<std::size_t> sizes;
    for (const auto& axis : req.weights) {
        sizes.push_back(axis.values.size());
    }
    sizes.push_back(req.seeds.empty() ? 1 : req.seeds.size());
    std::size_t per_prompt = 1;
    for (auto k : sizes) {
        per_prompt *= k;
    }
    std::vector<SubmitEntry> entries;
    entries.reserve(n);
    std::vector<std::size_t> at(sizes.size(), 0);
    for (const auto& prompt : req.prompts) {
        for (std::size_t k = 0; k < per_prompt; ++k) {
            std::size_t rest = k;  // the last dimension (seeds) varies fastest
            for (std::size_t d = sizes.size(); d-- > 0;) {
                at[d] = rest % sizes[d];
                rest /= sizes[d];
            }
            SubmitEntry e;
            e.prompt = prompt;
            e.options = req.base;
            e.queue = req.queue;
            e.upscale = req.upscale;
            e.origin = prompt;
            for (std::size_t i = 0; i < req.weights.size(); ++i) {
                double w = req.weights[i].values[at[i]];
                e.options.weight[req.weights[i].modality] = w;
                e.origin += fmt::format(" {}={}", req.weights[i].modality, w);
            }
            if (!req.seeds.empty()) {
                e.options.seed = req.seeds[at.back()];
                e.origin += fmt::format(" seed={}", *e.options.seed);
            }
            entries.push_back(std::move(e));
        }
    }
    return entries;
}

}  // namespace cosmos::services
