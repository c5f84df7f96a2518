#include "config/templates.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/template_text.hpp"
#include "unit/config/config_test_support.hpp"

namespace fs = std::filesystem;
using cosmos::config::find_template;
using cosmos::config::list_templates;
using cosmos::config::PromptTemplate;
using cosmos::config::render_template;
using cosmos::core::ErrorCode;

namespace {

class TemplatesTest : public cosmos::test::ConfigFixture {
protected:
    fs::path dir() const { return root() / "templates"; }

    // Lists templates with one user file NAME.toml holding `text`; returns the error message.
    std::string error_of(const std::string& name, const std::string& text) {
        write(dir() / (name + ".toml"), text);
        auto all = list_templates(dir());
        EXPECT_FALSE(all.has_value()) << "listed without error:\n" << text;
        return all.has_value() ? std::string() : all.error().message;
    }

    std::string at(const std::string& name, int line) const {
        return (dir() / (name + ".toml")).string() + ":" + std::to_string(line) + ": ";
    }
};

PromptTemplate make(std::string text, std::map<std::string, std::string> defaults = {}) {
    PromptTemplate t;
    t.name = "t";
    t.text = std::move(text);
    t.defaults = std::move(defaults);
    return t;
}

}  // namespace

TEST_F(TemplatesTest, BuiltInsAreListedSortedByName) {
    auto all = list_templates(dir());  // the directory does not exist: built-ins only
    ASSERT_TRUE(all.has_value()) << all.error().message;
    std::vector<std::string> names;
    for (const auto& t : *all) {
        names.push_back(t.name);
        EXPECT_EQ(t.origin, "built-in");
        EXPECT_FALSE(t.description.empty()) << t.name;
        // Every built-in is well formed and its defaults name placeholders of its text.
        auto pieces = cosmos::config::split_template_text(t.text);
        ASSERT_TRUE(pieces.has_value()) << t.name;
        auto placeholders = cosmos::config::placeholder_names(*pieces);
        for (const auto& [key, value] : t.defaults) {
            EXPECT_NE(std::find(placeholders.begin(), placeholders.end(), key), placeholders.end())
                << t.name << ": " << key;
        }
    }
    EXPECT_EQ(names, (std::vector<std::string>{"driving", "photoreal", "product", "weather"}));
}

TEST_F(TemplatesTest, BuiltInRendersWithDefaultsAndValues) {
    auto photoreal = find_template(dir(), "photoreal");
    ASSERT_TRUE(photoreal.has_value()) << photoreal.error().message;
    auto text = render_template(*photoreal, {{"subject", "A red vintage car"}});
    ASSERT_TRUE(text.has_value()) << text.error().message;
    EXPECT_EQ(text->rfind("A red vintage car, photorealistic, natural lighting, soft morning "
                          "light.",
                          0),
              0u)
        << *text;
    auto dusk = render_template(*photoreal, {{"subject", "A barn"}, {"time_of_day", "dusk"}});
    ASSERT_TRUE(dusk.has_value());
    EXPECT_NE(dusk->find("natural lighting, dusk."), std::string::npos) << *dusk;

    auto driving = find_template(dir(), "driving");
    ASSERT_TRUE(driving.has_value());
    auto road = render_template(*driving, {});
    ASSERT_TRUE(road.has_value()) << road.error().message;
    EXPECT_NE(road->find("car-mounted camera driving through a busy city street at midday"),
              std::string::npos)
        << *road;
}

TEST_F(TemplatesTest, BracesEscapeAndPlaceholdersRepeat) {
    auto text = render_template(make("{{literal}} {x} and {x}}} {{"), {{"x", "X"}});
    ASSERT_TRUE(text.has_value()) << text.error().message;
    EXPECT_EQ(*text, "{literal} X and X} {");
}

TEST_F(TemplatesTest, MissingValueNamesThePlaceholderAndTheFlag) {
    auto photoreal = find_template(dir(), "photoreal");
    ASSERT_TRUE(photoreal.has_value());
    auto text = render_template(*photoreal, {});
    ASSERT_FALSE(text.has_value());
    EXPECT_EQ(text.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(text.error().message,
              "template 'photoreal' needs a value for {subject}: add --set subject=...");

    auto own = render_template(make("{subject} at {time_of_day}", {{"subject", "a"}}), {});
    ASSERT_FALSE(own.has_value());
    EXPECT_EQ(own.error().message,
              "template 't' needs a value for {time_of_day}: add --set time_of_day=...");
}

TEST_F(TemplatesTest, UnknownSetKeyIsNamedWithThePlaceholders) {
    auto text = render_template(make("{subject} at {time_of_day}"),
                                {{"subject", "a"}, {"time_of_dya", "noon"}});
    ASSERT_FALSE(text.has_value());
    EXPECT_EQ(text.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(text.error().message,
              "template 't' has no placeholder {time_of_dya} (placeholders: {subject}, "
              "{time_of_day})");
}

TEST_F(TemplatesTest, MalformedTextIsRefused) {
    for (const char* bad : {"a {subject", "a } b", "a {} b", "a {two words} b"}) {
        auto text = render_template(make(bad), {});
        ASSERT_FALSE(text.has_value()) << bad;
        EXPECT_EQ(text.error().code, ErrorCode::invalid_input) << bad;
    }
}

TEST_F(TemplatesTest, UserTemplateOverridesBuiltInAndAddsNewOnes) {
    write(dir() / "photoreal.toml",
          "description = \"Our studio look\"\n"
          "text = \"{subject}, shot on our stage\"\n"
          "negative = \"cartoon\"\n");
    write(dir() / "night_city.toml",
          "name = \"night_city\"\n"
          "text = \"{place} at night, neon {color} reflections\"\n"
          "[defaults]\ncolor = \"pink\"\n");
    write(dir() / "notes.txt", "not a template");
    auto all = list_templates(dir());
    ASSERT_TRUE(all.has_value()) << all.error().message;
    ASSERT_EQ(all->size(), 5u);

    auto photoreal = find_template(dir(), "photoreal");
    ASSERT_TRUE(photoreal.has_value());
    EXPECT_EQ(photoreal->origin, (dir() / "photoreal.toml").string());
    EXPECT_EQ(photoreal->negative, "cartoon");
    EXPECT_EQ(*render_template(*photoreal, {{"subject", "A robot"}}), "A robot, shot on our stage");

    auto night = find_template(dir(), "night_city");
    ASSERT_TRUE(night.has_value());
    EXPECT_EQ(*render_template(*night, {{"place", "Tokyo"}}),
              "Tokyo at night, neon pink reflections");
}

TEST_F(TemplatesTest, UnknownTemplateListsTheAvailableOnes) {
    auto t = find_template(dir(), "sunset");
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, ErrorCode::not_found);
    EXPECT_EQ(t.error().message,
              "unknown template 'sunset' (available: driving, photoreal, product, weather)");
}

TEST_F(TemplatesTest, MalformedUserTemplateNamesFileAndLine) {
    std::string syntax = error_of("broken", "description = \"x\"\ntext = \"unterminated\n");
    EXPECT_EQ(syntax.rfind((dir() / "broken.toml").string() + ":2:", 0), 0u) << syntax;
    fs::remove(dir() / "broken.toml");

    EXPECT_EQ(error_of("typo", "description = \"x\"\n\ntxt = \"{a}\"\n"),
              at("typo", 3) + "unknown key 'txt' in the template");
    fs::remove(dir() / "typo.toml");

    EXPECT_EQ(error_of("typed", "text = 42\n"),
              at("typed", 1) + "template text must be a string, got integer");
    fs::remove(dir() / "typed.toml");

    std::string braces = error_of("braces", "description = \"x\"\ntext = \"a {b c\"\n");
    EXPECT_EQ(braces.rfind(at("braces", 2), 0), 0u) << braces;
    fs::remove(dir() / "braces.toml");

    EXPECT_EQ(error_of("extra", "text = \"{a}\"\n[defaults]\na = \"1\"\nb = \"2\"\n"),
              at("extra", 4) + "[defaults] b is not a placeholder of text");
    fs::remove(dir() / "extra.toml");

    EXPECT_EQ(error_of("named", "name = \"other\"\ntext = \"{a}\"\n"),
              at("named", 1) + "name 'other' differs from the file name 'named'");
}

TEST_F(TemplatesTest, DocumentedUserTemplateWorksAsDescribed) {
    write(dir() / "night_city.toml",
          "# ~/.config/cosmos/templates/night_city.toml\n"
          "description = \"A city street at night after rain\"\n"
          "text = \"{place} at night, wet asphalt with neon {color} reflections, photorealistic "
          "footage\"\n"
          "negative = \"cartoon, painting, low detail\"\n\n"
          "[defaults]\ncolor = \"pink and blue\"\n");
    auto t = find_template(dir(), "night_city");
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(*render_template(*t, {{"place", "A narrow street in Tokyo"}}),
              "A narrow street in Tokyo at night, wet asphalt with neon pink and blue reflections, "
              "photorealistic footage");
    EXPECT_EQ(render_template(*t, {}).error().message,
              "template 'night_city' needs a value for {place}: add --set place=...");
    EXPECT_EQ(render_template(*t, {{"place", "x"}, {"colour", "red"}}).error().message,
              "template 'night_city' has no placeholder {colour} (placeholders: {place}, {color})");
}
