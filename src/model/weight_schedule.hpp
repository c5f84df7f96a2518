#pragma once
// Control strength schedules: a modality's control weight that changes over the clip, written as
// keyframes "FRAME:WEIGHT,FRAME:WEIGHT,..." ("0:0.8,48:0.3") and expanded to one weight per
// frame (docs/models/transfer1.md, "Weight tensors"). Between keyframes the weight is
// interpolated linearly (default) or held until the next keyframe (step); before the first
// keyframe it is the first one's weight, after the last the last one's. A single number ("0.5")
// is a constant schedule.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::model {

enum class Interpolation { linear, step };

struct Keyframe {
    std::int64_t frame = 0;
    double weight = 0;
};

struct WeightSchedule {
    std::vector<Keyframe> keyframes;  // at least one, frames strictly increasing
    Interpolation interpolation = Interpolation::linear;
};

// The highest keyframe frame and the longest clip a schedule expands to (the model reads at
// most 5000 frames; the margin keeps a per-frame table small either way).
inline constexpr std::int64_t k_max_schedule_frames = 100'000;

// "linear" or "step"; anything else is invalid_input naming it.
core::Result<Interpolation> parse_interpolation(std::string_view text);
std::string_view interpolation_name(Interpolation interpolation);

// Parses "FRAME:WEIGHT,..." or a single number. Fails with invalid_input naming the bad piece:
// empty text or piece, a frame that is not an integer or is < 0 (or above
// k_max_schedule_frames), a weight that is not a finite number >= 0, frames not strictly
// increasing (unsorted or duplicate).
core::Result<WeightSchedule> parse_weight_schedule(
    std::string_view text, Interpolation interpolation = Interpolation::linear);

// The weight at each of `frames` frames (0 .. frames-1). Fails with invalid_input when `frames`
// is < 1 or above k_max_schedule_frames, or the schedule has no keyframe.
core::Result<std::vector<double>> expand_schedule(const WeightSchedule& schedule,
                                                  std::int64_t frames);

// The schedule written back in the parsed form ("0:0.8,48:0.3"; a constant as its number).
std::string format_weight_schedule(const WeightSchedule& schedule);

}  // namespace cosmos::model
