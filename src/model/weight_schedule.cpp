#include "model/weight_schedule.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/text.hpp"

namespace cosmos::model {

namespace {

constexpr std::string_view k_blanks = " \t";  // around keyframes and their parts

core::Unexpected bad(std::string message) {
    return core::fail(core::ErrorCode::invalid_input,
                      "weight schedule: " + std::move(message),
                      "write FRAME:WEIGHT,FRAME:WEIGHT,... with frames increasing from 0 and "
                      "weights >= 0 (e.g. 0:0.8,48:0.3), or one number for a constant");
}

// A whole-text double ("0.5", "1e-2"); from_chars takes no sign '+' and no spaces.
bool parse_double(std::string_view text, double& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

core::Result<double> parse_weight(std::string_view text, std::string_view piece) {
    double w = 0;
    if (text.empty() || !parse_double(text, w)) {
        return bad(fmt::format("weight '{}' in '{}' is not a number", text, piece));
    }
    if (!std::isfinite(w)) {
        return bad(fmt::format("weight '{}' in '{}' is not finite", text, piece));
    }
    if (w < 0) {
        return bad(fmt::format("weight '{}' in '{}' is negative", text, piece));
    }
    return w == 0 ? 0.0 : w;  // -0 reads as 0
}

core::Result<std::int64_t> parse_frame(std::string_view text, std::string_view piece) {
    std::int64_t f = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, f);
    if (text.empty() || ptr != end || ec == std::errc::invalid_argument) {
        return bad(fmt::format("frame '{}' in '{}' is not a whole number", text, piece));
    }
    if (ec == std::errc::result_out_of_range || f > k_max_schedule_frames) {
        return bad(fmt::format(
            "frame '{}' in '{}' is above the limit of {}", text, piece, k_max_schedule_frames));
    }
    if (f < 0) {
        return bad(fmt::format("frame '{}' in '{}' is negative", text, piece));
    }
    return f;
}

}  // namespace

core::Result<Interpolation> parse_interpolation(std::string_view text) {
    if (text == "linear") {
        return Interpolation::linear;
    }
    if (text == "step") {
        return Interpolation::step;
    }
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("weight schedule: unknown interpolation '{}'", text),
                      "use linear or step");
}

std::string_view interpolation_name(Interpolation interpolation) {
    return interpolation == Interpolation::step ? "step" : "linear";
}

core::Result<WeightSchedule> parse_weight_schedule(std::string_view text,
                                                   Interpolation interpolation) {
    WeightSchedule schedule;
    schedule.interpolation = interpolation;
    std::string_view all = core::trim(text, k_blanks);
    if (all.empty()) {
        return bad("empty; give keyframes or a number");
    }
    if (all.find(':') == std::string_view::npos && all.find(',') == std::string_view::npos) {
        COSMOS_TRY(double w, parse_weight(all, all));
        schedule.keyframes.push_back({0, w});
        return schedule;
    }
    std::size_t start = 0;
    while (start <= all.size()) {
        std::size_t comma = all.find(',', start);
        std::size_t stop = comma == std::string_view::npos ? all.size() : comma;
        std::string_view piece = core::trim(all.substr(start, stop - start), k_blanks);
        if (piece.empty()) {
            return bad(fmt::format("empty keyframe at character {} of '{}'", start + 1, all));
        }
        std::size_t colon = piece.find(':');
        if (colon == std::string_view::npos) {
            return bad(fmt::format("keyframe '{}' is not FRAME:WEIGHT", piece));
        }
        COSMOS_TRY(std::int64_t frame,
                   parse_frame(core::trim(piece.substr(0, colon), k_blanks), piece));
        COSMOS_TRY(double weight,
                   parse_weight(core::trim(piece.substr(colon + 1), k_blanks), piece));
        if (!schedule.keyframes.empty()) {
            std::int64_t previous = schedule.keyframes.back().frame;
            if (frame == previous) {
                return bad(fmt::format("keyframe '{}' repeats frame {}", piece, frame));
            }
            if (frame < previous) {
                return bad(fmt::format(
                    "keyframe '{}' comes after frame {}: frames must increase", piece, previous));
            }
        }
        schedule.keyframes.push_back({frame, weight});
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return schedule;
}

core::Result<std::vector<double>> expand_schedule(const WeightSchedule& schedule,
                                                  std::int64_t frames) {
    if (frames < 1 || frames > k_max_schedule_frames) {
        return core::fail(
            core::ErrorCode::invalid_input,
            fmt::format(
                "weight schedule: a clip of {} frames (1 to {})", frames, k_max_schedule_frames));
    }
    const auto& keys = schedule.keyframes;
    if (keys.empty()) {
        return bad("no keyframe");
    }
    std::vector<double> out(static_cast<std::size_t>(frames));
    std::size_t next = 0;  // the first keyframe after frame f
    for (std::int64_t f = 0; f < frames; ++f) {
        while (next < keys.size() && keys[next].frame <= f) {
            ++next;
        }
        double w = 0;
        if (next == 0) {
            w = keys.front().weight;
        } else if (next == keys.size()) {
            w = keys.back().weight;
        } else {
            const Keyframe& a = keys[next - 1];
            const Keyframe& b = keys[next];
            if (schedule.interpolation == Interpolation::step) {
                w = a.weight;
            } else {
                double t =
                    static_cast<double>(f - a.frame) / static_cast<double>(b.frame - a.frame);
                w = a.weight + (b.weight - a.weight) * t;
            }
        }
        out[static_cast<std::size_t>(f)] = w;
    }
    return out;
}

std::string format_weight_schedule(const WeightSchedule& schedule) {
    if (schedule.keyframes.size() == 1 && schedule.keyframes.front().frame == 0) {
        return fmt::format("{}", schedule.keyframes.front().weight);
    }
    std::string out;
    for (const Keyframe& k : schedule.keyframes) {
        out += fmt::format("{}{}:{}", out.empty() ? "" : ",", k.frame, k.weight);
    }
    return out;
}

}  // namespace cosmos::model
