#pragma once
// `cosmos sweep`: the cartesian product of prompts x weight grids x seeds as submit entries
// (services/submit validates and queues them), and the parsers of --weights-grid and --seeds.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "services/submit.hpp"

namespace cosmos::services {

// One axis of a weight grid: --weights-grid depth=0.2,0.4,0.6.
struct WeightAxis {
    std::string modality;
    std::vector<double> values;
};

struct SweepRequest {
    std::vector<std::string> prompts;
    RunOptions base;                  // applied to every run (the grid overrides weights / seed)
    std::vector<WeightAxis> weights;  // one axis per modality
    std::vector<std::int64_t> seeds;  // empty: the base seed
    QueueOptions queue;
    std::optional<double> upscale;
};

inline constexpr std::size_t k_default_max_sweep_runs = 1000;

// Parses MODALITY=V1,V2,... (numbers; the model checks run in plan_runs). Fails with
// invalid_input naming the text.
core::Result<WeightAxis> parse_weight_axis(std::string_view text);

// Parses a list of integers: "1,2,3", a range "1-8" (both ends included) or both ("1-3,10").
// Fails with invalid_input for an empty item, a non-number, a range whose end is below its
// start, or more than `limit` values.
core::Result<std::vector<std::int64_t>> parse_int_list(std::string_view flag,
                                                       std::string_view text,
                                                       std::size_t limit = 100000);

// The number of runs a sweep creates: prompts × values of each axis × seeds (saturating).
std::size_t sweep_size(const SweepRequest& req);

// Expands the sweep into entries, prompt-major, then weight axes in the order given, then
// seeds. Fails with invalid_input when a modality appears on two axes, when --seeds is combined
// with a base seed, or when the sweep has more than `max_runs` runs (0: no limit).
core::Result<std::vector<SubmitEntry>> expand_sweep(const SweepRequest& req, std::size_t max_runs);

}  // namespace cosmos::services
