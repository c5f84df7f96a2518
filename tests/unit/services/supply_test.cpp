// Supply-chain rules: image pinning (config), and the Hugging Face token file's mode.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/redact.hpp"
#include "services/hf_token.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;

TEST(ImagePinning, AcceptsVersionTagsAndDigests) {
    EXPECT_FALSE(config::image_pin_problem("cosmos-transfer1:v1.2.3", "[docker]"));
    EXPECT_FALSE(config::image_pin_problem("registry:5000/team/cosmos:2025-11-01", "[docker]"));
    EXPECT_FALSE(config::image_pin_problem("cosmos@sha256:" + std::string(64, 'a'), "[docker]"));
    EXPECT_FALSE(config::image_pin_problem("cosmos:v1@sha256:" + std::string(64, '0'), "[docker]"));
}

TEST(ImagePinning, RefusesLatestAndMissingTagsWithAHint) {
    for (std::string image : {"cosmos-transfer1:latest",
                              "cosmos-transfer1",
                              "registry:5000/team/cosmos",
                              "cosmos@sha256:abc"}) {
        auto e = config::image_pin_problem(image, "[hosts.gpu1]");
        ASSERT_TRUE(e) << image;
        EXPECT_EQ(e->code, core::ErrorCode::config);
        EXPECT_NE(e->message.find("[hosts.gpu1]"), std::string::npos);
        EXPECT_NE(e->message.find(image), std::string::npos);
        EXPECT_NE(e->hint.find(":v1.2.3"), std::string::npos) << e->hint;
        EXPECT_NE(e->hint.find("@sha256:"), std::string::npos);
    }
    auto e = config::image_pin_problem("registry:5000/team/cosmos", "x");
    EXPECT_NE(e->hint.find("registry:5000/team/cosmos:v1.2.3"), std::string::npos) << e->hint;
}

TEST(ImagePinning, ConfigDefaultsAndPerHostImages) {
    test::TempDir dir;
    auto path =
        dir.write("c.toml",
                  "[run]\nhost = \"a\"\n[docker]\nimage = \"cosmos:latest\"\n"
                  "[hosts.a]\nruntime = \"docker\"\ncosmos_dir = \"/x\"\n"
                  "[hosts.b]\nruntime = \"docker\"\ncosmos_dir = \"/x\"\nimage = \"cosmos:v2\"\n");
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto c = config::parse_config(text, path);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->hosts.at("a").container.image, "cosmos:latest");
    EXPECT_EQ(c->hosts.at("b").container.image, "cosmos:v2");
    auto problems = config::unpinned_images(*c);
    ASSERT_EQ(problems.size(), 1u);
    // Named FILE:LINE as every config error is: the line of the image key.
    EXPECT_EQ(problems[0].message.rfind(path.string() + ":4: [docker]: image 'cosmos:latest'", 0),
              0u)
        << problems[0].message;
    const std::string host_text =
        "[hosts.a]\nruntime = \"docker\"\ncosmos_dir = \"/x\"\nimage = \"cosmos\"\n";
    auto host_path = dir.write("h.toml", host_text);
    auto host = config::parse_config(host_text, host_path);
    ASSERT_TRUE(host) << host.error().message;
    auto host_problems = config::unpinned_images(*host);
    ASSERT_EQ(host_problems.size(), 1u);
    EXPECT_EQ(host_problems[0].message.rfind(host_path.string() + ":4: [hosts.a]", 0), 0u)
        << host_problems[0].message;

    auto bad = config::parse_config("[docker]\nimage = \"x:v1\"\nmystery = 1\n", path);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("c.toml:3"), std::string::npos) << bad.error().message;
    auto bad_hf = config::parse_config("[huggingface]\ntoken = \"x\"\n", path);
    ASSERT_FALSE(bad_hf);
    EXPECT_NE(bad_hf.error().message.find("c.toml:2"), std::string::npos);
}

TEST(TokenFile, RequiresMode0600) {
    test::TempDir dir;
    auto file = dir.write("token", "hf_unit_test_token_4242\n");
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    auto refused = services::read_token_file(file);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::ErrorCode::invalid_input);
    EXPECT_NE(refused.error().message.find("0644"), std::string::npos);
    EXPECT_NE(refused.error().hint.find("chmod 600"), std::string::npos);
    EXPECT_EQ(refused.error().message.find("hf_unit_test_token_4242"), std::string::npos);

    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    auto token = services::read_token_file(file);
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(*token, "hf_unit_test_token_4242");
    EXPECT_EQ(core::redact("value hf_unit_test_token_4242 end").find("4242"), std::string::npos);
    EXPECT_FALSE(services::read_token_file(dir / "absent"));
}
