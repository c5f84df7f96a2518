// Control strength schedules (docs/models/transfer1.md, "Weight tensors"): keyframes parsed with
// errors naming the bad piece, expanded to known per-frame weights.

#include "model/weight_schedule.hpp"

#include <gtest/gtest.h>

using namespace cosmos::model;

namespace {

struct ExpandCase {
    const char* text;
    Interpolation interpolation;
    std::int64_t frames;
    std::vector<double> expected;
};

struct ErrorCase {
    const char* text;
    const char* names;  // a piece of the message naming what is wrong
};

}  // namespace

TEST(WeightSchedule, ExpandsToKnownPerFrameWeights) {
    const auto lin = Interpolation::linear;
    const auto step = Interpolation::step;
    const std::vector<ExpandCase> cases = {
        {"0.5", lin, 3, {0.5, 0.5, 0.5}},
        {"0", step, 2, {0, 0}},
        {"0:0.8,4:0.4", lin, 6, {0.8, 0.7, 0.6, 0.5, 0.4, 0.4}},
        {"0:0.8,4:0.4", step, 6, {0.8, 0.8, 0.8, 0.8, 0.4, 0.4}},
        // Before the first keyframe: its weight; after the last: the last's.
        {"2:1,4:0", lin, 7, {1, 1, 1, 0.5, 0, 0, 0}},
        {"2:1,4:0", step, 7, {1, 1, 1, 1, 0, 0, 0}},
        // One keyframe anywhere is a constant.
        {"5:0.25", lin, 3, {0.25, 0.25, 0.25}},
        // Three keyframes, rising then falling; a clip shorter than the schedule.
        {"0:0,2:1,6:0", lin, 8, {0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0}},
        {"0:0,2:1,6:0", lin, 3, {0, 0.5, 1}},
        {"0:0,2:1,6:0", step, 8, {0, 0, 1, 1, 1, 1, 0, 0}},
        // Spaces around pieces, exponents, a keyframe past the clip's end.
        {" 0 : 0.5 , 10 : 1.5e0 ", lin, 3, {0.5, 0.6, 0.7}},
        {"0:1", lin, 1, {1}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto schedule = parse_weight_schedule(c.text, c.interpolation);
        ASSERT_TRUE(schedule) << schedule.error().message;
        auto weights = expand_schedule(*schedule, c.frames);
        ASSERT_TRUE(weights) << weights.error().message;
        ASSERT_EQ(weights->size(), c.expected.size());
        for (std::size_t i = 0; i < c.expected.size(); ++i) {
            EXPECT_NEAR((*weights)[i], c.expected[i], 1e-12) << "frame " << i;
        }
    }
}

TEST(WeightSchedule, RefusesBadTextNamingThePiece) {
    const std::vector<ErrorCase> cases = {
        {"", "empty"},
        {"   ", "empty"},
        {"0:0.5,", "empty keyframe"},
        {"0:0.5,,4:1", "empty keyframe"},
        {"0:0.8,48", "'48' is not FRAME:WEIGHT"},
        {"48:0.3,0:0.8", "'0:0.8' comes after frame 48"},
        {"0:0.8,0:0.3", "'0:0.3' repeats frame 0"},
        {"-1:0.5", "frame '-1' in '-1:0.5' is negative"},
        {"0:-0.5", "weight '-0.5' in '0:-0.5' is negative"},
        {"-0.5", "weight '-0.5'"},
        {"0:nan", "'nan' in '0:nan' is not finite"},
        {"0:inf,3:1", "not finite"},
        {"inf", "not finite"},
        {"0:x", "weight 'x' in '0:x' is not a number"},
        {"a:1", "frame 'a' in 'a:1' is not a whole number"},
        {"1.5:1", "frame '1.5'"},
        {"0:", "weight '' in '0:'"},
        {"99999999999999999999:1", "above the limit"},
        {"0:1,200000:1", "above the limit"},
        {"0.5x", "weight '0.5x'"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto schedule = parse_weight_schedule(c.text);
        ASSERT_FALSE(schedule);
        EXPECT_EQ(schedule.error().code, cosmos::core::ErrorCode::invalid_input);
        EXPECT_NE(schedule.error().message.find(c.names), std::string::npos)
            << schedule.error().message;
        EXPECT_FALSE(schedule.error().hint.empty());
    }
}

TEST(WeightSchedule, InterpolationNamesAndClipLengths) {
    EXPECT_EQ(*parse_interpolation("linear"), Interpolation::linear);
    EXPECT_EQ(*parse_interpolation("step"), Interpolation::step);
    auto bad = parse_interpolation("cubic");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("'cubic'"), std::string::npos);
    EXPECT_EQ(interpolation_name(Interpolation::step), "step");

    auto s = *parse_weight_schedule("0:0.8,48:0.3");
    EXPECT_EQ(s.interpolation, Interpolation::linear);
    EXPECT_EQ(format_weight_schedule(s), "0:0.8,48:0.3");
    EXPECT_EQ(format_weight_schedule(*parse_weight_schedule("0.5")), "0.5");
    EXPECT_FALSE(expand_schedule(s, 0));
    EXPECT_FALSE(expand_schedule(s, k_max_schedule_frames + 1));
    EXPECT_EQ(expand_schedule(s, 121)->size(), 121U);
    EXPECT_FALSE(expand_schedule(WeightSchedule{}, 3));
}
