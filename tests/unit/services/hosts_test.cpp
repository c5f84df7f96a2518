// The hosts file `cosmos hosts add|remove` manages: merged with the config file, checked by the
// same parser, and never allowed to shadow a host of the config file.

#include "services/hosts.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "unit/config/config_test_support.hpp"

namespace fs = std::filesystem;
using namespace cosmos;
using core::ErrorCode;

namespace {

class HostsTest : public test::ConfigFixture {
protected:
    config::Config load() {
        auto c = config::load_config({});
        EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
        return c ? *c : config::Config{};
    }

    config::HostConfig ssh_host(const std::string& name) {
        config::HostConfig h;
        h.name = name;
        h.kind = cosmos::core::HostKind::ssh;
        h.ssh.address = "gpu1.example.com";
        h.ssh.port = 2222;
        h.ssh.user = "artist";
        h.cosmos_dir = "~/cosmos-transfer1";
        h.work_dir = "/data/work dir";
        h.gpus = 4;
        h.env = {{"HF_TOKEN", "hf_secret_value_123"}, {"COSMOS_EMULATOR_TIME_SCALE", "0"}};
        return h;
    }
};

TEST(ParseAddress, HostPortAndIpv6) {
    auto a = services::parse_address("gpu1.example.com");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->first, "gpu1.example.com");
    EXPECT_FALSE(a->second);
    auto b = services::parse_address("127.0.0.1:2222");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->first, "127.0.0.1");
    EXPECT_EQ(b->second, 2222);
    auto c = services::parse_address("[::1]:22");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->first, "::1");
    EXPECT_EQ(c->second, 22);
    auto d = services::parse_address("fe80::1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->first, "fe80::1");
    EXPECT_FALSE(d->second);
    for (const char* bad : {"host:", "host:0", "host:70000", "host:22x", ":22", "[::1", "[::1]x"}) {
        auto r = services::parse_address(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, ErrorCode::invalid_input) << bad;
        }
    }
}

TEST_F(HostsTest, AddedHostLoadsBackWithTheEmbeddedLocalHost) {
    auto cfg = load();
    EXPECT_EQ(cfg.hosts_file, home() / ".config/cosmos/hosts.toml");
    auto added = services::add_host(cfg, ssh_host("gpu1"), false);
    ASSERT_TRUE(added) << added.error().message;
    EXPECT_TRUE(added->managed);

    struct stat st {};
    ASSERT_EQ(::stat(cfg.hosts_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);  // it may hold secrets

    auto again = load();
    ASSERT_EQ(again.hosts.count("gpu1"), 1u);
    ASSERT_EQ(again.hosts.count("local"), 1u);  // the emulator host stays
    const auto& h = again.hosts.at("gpu1");
    EXPECT_EQ(h.ssh.address, "gpu1.example.com");
    EXPECT_EQ(h.ssh.port, 2222);
    EXPECT_EQ(h.gpus, 4);
    EXPECT_EQ(h.work_dir, "/data/work dir");
    EXPECT_EQ(h.cosmos_dir, "~/cosmos-transfer1");  // remote paths are kept as written
    EXPECT_EQ(h.env.at("HF_TOKEN"), "hf_secret_value_123");
    EXPECT_EQ(services::host_origin(h), "hosts file");
    EXPECT_EQ(services::host_json(h)["env"]["HF_TOKEN"], "***");

    // The same name again needs --replace.
    auto dup = services::add_host(again, ssh_host("gpu1"), false);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, ErrorCode::conflict);
    auto h2 = ssh_host("gpu1");
    h2.gpus = 8;
    ASSERT_TRUE(services::add_host(again, h2, true));
    EXPECT_EQ(load().hosts.at("gpu1").gpus, 8);

    ASSERT_TRUE(services::remove_host(load(), "gpu1"));
    EXPECT_EQ(load().hosts.count("gpu1"), 0u);
}

TEST_F(HostsTest, InvalidHostIsRefusedBeforeWriting) {
    auto cfg = load();
    auto h = ssh_host("gpu1");
    h.ssh.user = "-oProxyCommand=evil";
    auto r = services::add_host(cfg, h, false);
    ASSERT_FALSE(r);
    EXPECT_FALSE(fs::exists(cfg.hosts_file));
    auto docker = ssh_host("gpu2");
    docker.runtime = cosmos::core::RuntimeKind::docker;  // without an image
    EXPECT_FALSE(services::add_host(cfg, docker, false));
}

TEST_F(HostsTest, ConfigFileHostsAreNeitherShadowedNorRemoved) {
    write("work/cosmos.toml",
          "[hosts.gpu1]\nkind = \"ssh\"\naddress = \"a.example.com\"\nuser = \"me\"\n");
    auto cfg = load();
    auto r = services::add_host(cfg, ssh_host("gpu1"), true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::conflict);
    auto rm = services::remove_host(cfg, "gpu1");
    ASSERT_FALSE(rm);
    EXPECT_EQ(rm.error().code, ErrorCode::conflict);
    EXPECT_FALSE(services::remove_host(cfg, "nope"));

    // A hand-edited hosts file that repeats a config-file host is a config error with its line.
    write("home/.config/cosmos/hosts.toml",
          "\n[hosts.gpu1]\nkind = \"ssh\"\naddress = \"b.example.com\"\nuser = \"me\"\n");
    auto bad = config::load_config({});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::config);
    EXPECT_NE(bad.error().message.find("hosts.toml:2"), std::string::npos) << bad.error().message;
}

TEST_F(HostsTest, HostsFileErrorsNameFileAndLine) {
    write("home/.config/cosmos/hosts.toml", "[hosts.gpu1]\nkind = \"ssh\"\nadress = \"x\"\n");
    auto bad = config::load_config({});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("hosts.toml:3"), std::string::npos) << bad.error().message;
    write("home/.config/cosmos/hosts.toml", "[run]\nseed = 3\n");
    auto bad2 = config::load_config({});
    ASSERT_FALSE(bad2);
    EXPECT_NE(bad2.error().message.find("run"), std::string::npos) << bad2.error().message;
}

}  // namespace
