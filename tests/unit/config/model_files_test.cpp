// Model files read from text (config::parse_user_model, what load_user_models does per file).
#include "config/model_files.hpp"

#include <gtest/gtest.h>

using cosmos::config::parse_user_model;

TEST(ModelFileText, ReadsAModelNamedAfterTheFile) {
    auto m = parse_user_model(
        "family = \"transfer2.5\"\nexperiment = \"warehouse_v2\"\n"
        "[defaults]\nnum_steps = 30\n",
        "/cfg/models/warehouse.toml");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->name, "warehouse");
    EXPECT_EQ(m->display_name, "warehouse");
    EXPECT_EQ(m->experiment, "warehouse_v2");
    EXPECT_EQ(m->defaults.num_steps, 30);
    EXPECT_EQ(m->sha256.size(), 64u);
}

TEST(ModelFileText, ErrorsNameTheFileAndLine) {
    auto m = parse_user_model("family = \"transfer1\"\ncolour = 3\n", "/cfg/models/w.toml");
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("/cfg/models/w.toml:2"), std::string::npos)
        << m.error().message;
    auto bad = parse_user_model("family = [", "/cfg/models/w.toml");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("/cfg/models/w.toml:1"), std::string::npos);
}
