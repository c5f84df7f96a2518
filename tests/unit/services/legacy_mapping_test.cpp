#include "services/legacy_mapping.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using cosmos::store::RunStatus;
using nlohmann::json;
namespace legacy = cosmos::services::legacy;

TEST(LegacyMapping, TurnsWindowsBackslashesIntoSlashes) {
    EXPECT_EQ(legacy::forward_slashes(R"(inputs\videos\scene1\color.mp4)"),
              "inputs/videos/scene1/color.mp4");
    EXPECT_EQ(legacy::forward_slashes("C:\\Users\\me\\a.mp4"), "C:/Users/me/a.mp4");
    EXPECT_EQ(legacy::forward_slashes("already/fine.mp4"), "already/fine.mp4");
}

TEST(LegacyMapping, NormalisesPythonAndSqlalchemyTimestamps) {
    EXPECT_EQ(legacy::normalise_timestamp("2025-01-31T10:15:30.123456"),
              "2025-01-31T10:15:30.123Z");
    EXPECT_EQ(legacy::normalise_timestamp("2025-01-31 10:15:30"), "2025-01-31T10:15:30.000Z");
    EXPECT_EQ(legacy::normalise_timestamp("2025-01-31T12:15:30+02:00"), "2025-01-31T10:15:30.000Z");
    EXPECT_EQ(legacy::normalise_timestamp("yesterday"), std::nullopt);
}

TEST(LegacyMapping, UsesTheImportTimeWhenTheTimestampIsMissingOrUnreadable) {
    std::vector<std::string> notes;
    auto at = legacy::created_at_from(std::string("not a date"), notes);
    EXPECT_EQ(at.size(), std::string("2026-01-01T00:00:00.000Z").size());
    EXPECT_EQ(at.back(), 'Z');
    ASSERT_EQ(notes.size(), 1U);
    EXPECT_NE(notes[0].find("not a date"), std::string::npos);
    legacy::created_at_from(std::nullopt, notes);
    EXPECT_EQ(notes.size(), 2U);
}

TEST(LegacyMapping, KeepsValidNamesAndSanitisesOthersWithANote) {
    std::vector<std::string> notes;
    EXPECT_EQ(legacy::choose_name(std::string("city_sunset"), "text", notes), "city_sunset");
    EXPECT_TRUE(notes.empty());
    EXPECT_EQ(legacy::choose_name(std::string("City Sunset!"), "text", notes), "city_sunset");
    ASSERT_EQ(notes.size(), 1U);
    EXPECT_NE(notes[0].find("sanitised to 'city_sunset'"), std::string::npos);
    EXPECT_EQ(legacy::choose_name(std::string("$$$"), "A futuristic city at sunset", notes),
              "futuristic_city");
    EXPECT_EQ(legacy::choose_name(std::nullopt, "A futuristic city at sunset", notes),
              "futuristic_city");
    EXPECT_EQ(notes.size(), 3U);
}

TEST(LegacyMapping, MapsControlKeysOntoModalities) {
    EXPECT_EQ(legacy::control_modality("segmentation"), "seg");
    EXPECT_EQ(legacy::control_modality("seg"), "seg");
    EXPECT_EQ(legacy::control_modality("depth"), "depth");
    EXPECT_EQ(legacy::control_modality("color"), std::nullopt);
    std::map<std::string, std::string> controls;
    EXPECT_TRUE(legacy::add_control(controls, "segmentation", R"(a\seg.mp4)").has_value());
    EXPECT_EQ(controls.at("seg"), "a/seg.mp4");
    EXPECT_TRUE(legacy::add_control(controls, "seg", "a/seg.mp4").has_value());
    EXPECT_FALSE(legacy::add_control(controls, "seg", "b/seg.mp4").has_value());
    auto unknown = legacy::add_control(controls, "normals", "n.mp4");
    ASSERT_FALSE(unknown.has_value());
    EXPECT_NE(unknown.error().message.find("'normals'"), std::string::npos);
}

TEST(LegacyMapping, MapsStatuses) {
    struct Case {
        const char* legacy;
        RunStatus ours;
        bool has_error;
    };
    for (const Case& c : {Case{"pending", RunStatus::pending, false},
                          Case{"queued", RunStatus::pending, false},
                          Case{"running", RunStatus::failed, true},
                          Case{"uploading", RunStatus::failed, true},
                          Case{"downloading", RunStatus::failed, true},
                          Case{"success", RunStatus::succeeded, false},
                          Case{"completed", RunStatus::succeeded, false},
                          Case{"failed", RunStatus::failed, false},
                          Case{"cancelled", RunStatus::cancelled, false}}) {
        auto m = legacy::map_status(c.legacy);
        ASSERT_TRUE(m.has_value()) << c.legacy;
        EXPECT_EQ(m->status, c.ours) << c.legacy;
        EXPECT_EQ(m->error.has_value(), c.has_error) << c.legacy;
    }
    EXPECT_EQ(legacy::map_status("running")->error, std::string(legacy::k_running_error));
    EXPECT_FALSE(legacy::map_status("exploded").has_value());
}

TEST(LegacyMapping, ReadsRunParametersWithTheToolsAliases) {
    auto p = legacy::run_params_from(json{{"vis", 0.2}, {"segmentation", 0.4}},
                                     json{{"num_steps", 35.0},
                                          {"guidance_scale", 6.5},
                                          {"seed", 4294967295ULL},
                                          {"blur_strength", "low"},
                                          {"unrelated", true}},
                                     "w",
                                     "p");
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->weights.at("vis"), 0.2);
    EXPECT_EQ(p->weights.at("seg"), 0.4);
    EXPECT_EQ(p->num_steps, 35);
    EXPECT_EQ(p->guidance, 6.5);
    EXPECT_EQ(p->seed, 4294967295ULL);
    EXPECT_EQ(p->blur_strength, "low");
    EXPECT_EQ(p->fps, 24);  // the tool's default and ours
}

TEST(LegacyMapping, RefusesParametersOfTheWrongTypeOrOutOfRange) {
    auto wrong_type =
        legacy::run_params_from(json::object(), json{{"num_steps", "35"}}, "w", "parameters");
    ASSERT_FALSE(wrong_type.has_value());
    EXPECT_NE(wrong_type.error().message.find("parameters.num_steps"), std::string::npos);
    auto fractional = legacy::run_params_from(json::object(), json{{"fps", 23.5}}, "w", "p");
    EXPECT_FALSE(fractional.has_value());
    auto huge_seed = legacy::run_params_from(json::object(), json{{"seed", 1ULL << 40}}, "w", "p");
    ASSERT_FALSE(huge_seed.has_value());
    EXPECT_NE(huge_seed.error().message.find("seed"), std::string::npos);
    auto bad_weight = legacy::run_params_from(json{{"edge", -0.1}}, json::object(), "weights", "p");
    ASSERT_FALSE(bad_weight.has_value());
    EXPECT_NE(bad_weight.error().message.find("edge"), std::string::npos);
    auto bad_strength =
        legacy::run_params_from(json::object(), json{{"canny_threshold", "extreme"}}, "w", "p");
    EXPECT_FALSE(bad_strength.has_value());
}
