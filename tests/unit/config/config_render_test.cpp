#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "support/process.hpp"
#include "unit/config/config_test_support.hpp"

namespace fs = std::filesystem;
using cosmos::config::Config;
using cosmos::config::HostConfig;
using cosmos::config::parse_config;
using cosmos::config::render_config;

namespace {

class ConfigRenderTest : public cosmos::test::ConfigFixture {
protected:
    // Parses `text` as <root>/NAME, failing the test on error.
    Config parse_ok(const std::string& text, const std::string& name = "cosmos.toml") {
        auto config = parse_config(text, root() / name);
        EXPECT_TRUE(config.has_value()) << config.error().message << "\n" << text;
        return config.has_value() ? *config : Config{};
    }
};

void expect_same_host(const HostConfig& a, const HostConfig& b) {
    SCOPED_TRACE("host " + a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.runtime, b.runtime);
    EXPECT_EQ(a.gpus, b.gpus);
    EXPECT_EQ(a.cosmos_dir, b.cosmos_dir);
    EXPECT_EQ(a.checkpoint_dir, b.checkpoint_dir);
    EXPECT_EQ(a.work_dir, b.work_dir);
    EXPECT_EQ(a.torchrun, b.torchrun);
    EXPECT_EQ(a.env, b.env);
    EXPECT_EQ(a.ssh.address, b.ssh.address);
    EXPECT_EQ(a.ssh.port, b.ssh.port);
    EXPECT_EQ(a.ssh.user, b.ssh.user);
    EXPECT_EQ(a.ssh.key, b.ssh.key);
    EXPECT_EQ(a.container.image, b.container.image);
    EXPECT_EQ(a.container.shm_size, b.container.shm_size);
    EXPECT_EQ(a.emulated, b.emulated);
}

// Expects `b` (re-parsed from render_config(a)) to hold the same settings as `a`.
void expect_same(const Config& a, const Config& b) {
    EXPECT_EQ(a.paths.data_dir, b.paths.data_dir);
    EXPECT_EQ(a.paths.config_dir, b.paths.config_dir);
    EXPECT_EQ(a.run.num_steps, b.run.num_steps);
    EXPECT_DOUBLE_EQ(a.run.guidance, b.run.guidance);
    EXPECT_DOUBLE_EQ(a.run.sigma_max, b.run.sigma_max);
    EXPECT_EQ(a.run.fps, b.run.fps);
    EXPECT_EQ(a.run.seed, b.run.seed);
    EXPECT_EQ(a.run.blur_strength, b.run.blur_strength);
    EXPECT_EQ(a.run.canny_threshold, b.run.canny_threshold);
    EXPECT_EQ(a.run.weights, b.run.weights);
    EXPECT_EQ(a.run.negative_prompt, b.run.negative_prompt);
    EXPECT_EQ(a.run.num_gpus, b.run.num_gpus);
    EXPECT_EQ(a.run.offload, b.run.offload);
    EXPECT_EQ(a.run.host, b.run.host);
    ASSERT_EQ(a.hosts.size(), b.hosts.size());
    for (const auto& [name, host] : a.hosts) {
        ASSERT_EQ(b.hosts.count(name), 1u) << name;
        expect_same_host(host, b.hosts.at(name));
    }
}

constexpr const char* k_full = R"(
[paths]
data_dir = "data dir"

[run]
num_steps = 50
guidance = 8
sigma_max = 65.5
fps = 30
seed = 4294967295
blur_strength = "low"
canny_threshold = "very_high"
negative_prompt = "blurry, \"cartoon\"\nsecond line \\ tab\t{braces}"
num_gpus = 4
offload = []
host = "gpu.lan"

[run.weights]
vis = 0.0
edge = 1
keypoint = 0.75

[hosts."gpu.lan"]
kind = "ssh"
address = "10.1.2.3"
port = 2222
user = "render"
key = "keys/id"
gpus = 8
runtime = "apptainer"
image = "/shared/images/cosmos.sif"
cosmos_dir = "~/cosmos-transfer1"
env = { CUDA_VISIBLE_DEVICES = "0,1,2,3", EXTRA = "a=b c" }

[hosts.box]
cosmos_dir = "checkout"
torchrun = "/usr/bin/torchrun"
runtime = "docker"
image = "nvcr.io/me/cosmos-transfer1:1.0"
shm_size = "1073741824"
)";

}  // namespace

TEST_F(ConfigRenderTest, ExampleFixtureParses) {
    fs::path example = fs::path(COSMOS_FIXTURES_DIR) / "config/example.toml";
    auto config = parse_config(cosmos::test::read_file(example), example);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->paths.data_dir, home() / "cosmos-data");
    EXPECT_EQ(config->run.host, "workstation");
    EXPECT_EQ(config->run.weights.at("depth"), 0.5);
    ASSERT_EQ(config->hosts.size(), 2u);
    const HostConfig& ws = config->hosts.at("workstation");
    EXPECT_EQ(ws.cosmos_dir, home() / "src/cosmos-transfer1");
    EXPECT_EQ(ws.work_dir, home() / "cosmos-data/work");
    EXPECT_EQ(ws.env.at("HF_HOME"), "/data/hf-cache");
    const HostConfig& gpu1 = config->hosts.at("gpu1");
    EXPECT_EQ(gpu1.kind, cosmos::core::HostKind::ssh);
    EXPECT_EQ(gpu1.runtime, cosmos::core::RuntimeKind::docker);
    EXPECT_EQ(gpu1.ssh.key, home() / ".ssh/id_ed25519");
    EXPECT_EQ(gpu1.work_dir, fs::path("/scratch/cosmos"));
    EXPECT_EQ(gpu1.container.shm_size, "16g");
    EXPECT_GT(gpu1.line, 0);
}

TEST_F(ConfigRenderTest, RenderedConfigParsesBackToTheSameSettings) {
    Config original = parse_ok(k_full);
    std::string rendered = render_config(original);
    Config again = parse_ok(rendered, "rendered.toml");
    expect_same(original, again);
    EXPECT_NE(rendered.find("# Source: " + (root() / "cosmos.toml").string()), std::string::npos)
        << rendered;
    EXPECT_NE(rendered.find("guidance = 8.0\n"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("[hosts.\"gpu.lan\"]"), std::string::npos) << rendered;
}

TEST_F(ConfigRenderTest, EmbeddedDefaultsRenderAndParseBack) {
    Config defaults = parse_ok("", "unused.toml");
    defaults.source.clear();
    std::string rendered = render_config(defaults);
    EXPECT_EQ(rendered.find("# Effective cosmos configuration"), 0u) << rendered;
    EXPECT_NE(rendered.find("# Source: embedded defaults"), std::string::npos) << rendered;
    Config again = parse_ok(rendered, "rendered.toml");
    expect_same(defaults, again);
    EXPECT_TRUE(again.hosts.at("local").emulated);
}

TEST_F(ConfigRenderTest, SecretsAreRedacted) {
    Config config = parse_ok(R"(
[hosts.box.env]
HF_TOKEN = "hf_AbCdEfGh12345678"
MY_API_KEY = "k3y-v4lue-unlikely"
DB_PASSWORD = "correct horse battery"
aws_secret = "s3cr3t-s3cr3t"
HF_HOME = "/data/hf-cache"
)");
    std::string rendered = render_config(config);
    for (const char* secret :
         {"hf_AbCdEfGh12345678", "k3y-v4lue-unlikely", "correct horse battery", "s3cr3t-s3cr3t"}) {
        EXPECT_EQ(rendered.find(secret), std::string::npos) << secret << " in\n" << rendered;
    }
    EXPECT_NE(rendered.find("HF_TOKEN = \"***\""), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("aws_secret = \"***\""), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("HF_HOME = \"/data/hf-cache\""), std::string::npos) << rendered;
    // Still valid TOML.
    Config again = parse_ok(rendered, "rendered.toml");
    EXPECT_EQ(again.hosts.at("box").env.at("HF_TOKEN"), "***");
}

TEST_F(ConfigRenderTest, SecretEnvValuesAreMaskedEvenWhenNeverRegistered) {
    Config config = parse_ok("");
    HostConfig& local = config.hosts.at("local");
    local.env["SERVICE_TOKEN"] = "built-in-memory-value";  // not seen by parse_config
    local.env["Api_Key"] = "another-in-memory-value";
    std::string rendered = render_config(config);
    EXPECT_EQ(rendered.find("built-in-memory-value"), std::string::npos) << rendered;
    EXPECT_EQ(rendered.find("another-in-memory-value"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("SERVICE_TOKEN = \"***\""), std::string::npos) << rendered;
}

TEST_F(ConfigRenderTest, ExampleRendersWithItsTokenHidden) {
    fs::path example = fs::path(COSMOS_FIXTURES_DIR) / "config/example.toml";
    Config config = parse_ok(cosmos::test::read_file(example), "example.toml");
    std::string rendered = render_config(config);
    EXPECT_EQ(rendered.find("hf_replace_with_your_token"), std::string::npos) << rendered;
    Config again = parse_ok(rendered, "rendered.toml");
    config.hosts.at("gpu1").env.at("HF_TOKEN") = "***";
    expect_same(config, again);
}

TEST_F(ConfigRenderTest, DocumentedExampleIsTheFixture) {
    std::string doc =
        cosmos::test::read_file(fs::path(COSMOS_SOURCE_DIR) / "docs/configuration.md");
    auto section = doc.find("\n## Example\n");
    ASSERT_NE(section, std::string::npos);
    auto begin = doc.find("```toml\n", section);
    ASSERT_NE(begin, std::string::npos);
    begin += 8;
    auto end = doc.find("```\n", begin);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(doc.substr(begin, end - begin),
              cosmos::test::read_file(fs::path(COSMOS_FIXTURES_DIR) / "config/example.toml"));
}
