// Host and Origin checks: every Host header variant a DNS-rebinding page or a malformed client
// could send, and the origin of state-changing requests.

#include "web/origin.hpp"

#include <gtest/gtest.h>

#include "web/http_util.hpp"

using namespace cosmos::web;

TEST(WebHost, ParsesNamesAddressesAndPorts) {
    EXPECT_EQ(parse_host_header("127.0.0.1:8765"), (Authority{"127.0.0.1", 8765}));
    EXPECT_EQ(parse_host_header("LocalHost:8765"), (Authority{"localhost", 8765}));
    EXPECT_EQ(parse_host_header("[::1]:8765"), (Authority{"[::1]", 8765}));
    EXPECT_EQ(parse_host_header("[::1]"), (Authority{"[::1]", 80}));
    EXPECT_EQ(parse_host_header("cosmos.lan"), (Authority{"cosmos.lan", 80}));
    for (const char* bad : {"",
                            "127.0.0.1:8765@evil",
                            "[::1].evil:8765",
                            "[::1]evil",
                            "[::1",
                            "[evil]:80",
                            "localhost..:8765",
                            ".localhost",
                            "a..b",
                            "127.0.0.1:",
                            "127.0.0.1:0",
                            "127.0.0.1:65536",
                            "127.0.0.1:+80",
                            "127.0.0.1:80:80",
                            "127.0.0.1 :80",
                            "local host",
                            "user@localhost"}) {
        EXPECT_FALSE(parse_host_header(bad)) << bad;
    }
}

TEST(WebHost, LoopbackServersAnswerOnlyLoopbackNamesWithTheirPort) {
    auto allowed = [](const char* header, const char* bound = "127.0.0.1", int port = 8765) {
        auto host = parse_host_header(header);
        return host && is_allowed_loopback_host(*host, bound, port);
    };
    EXPECT_TRUE(allowed("127.0.0.1:8765"));
    EXPECT_TRUE(allowed("localhost:8765"));
    EXPECT_TRUE(allowed("LOCALHOST:8765"));
    EXPECT_TRUE(allowed("[::1]:8765"));
    EXPECT_TRUE(allowed("127.0.0.2:8765", "127.0.0.2"));
    EXPECT_TRUE(allowed("[::1]:8765", "::1"));
    EXPECT_TRUE(allowed("localhost", "127.0.0.1", 80));
    EXPECT_FALSE(allowed("127.0.0.1.evil.example:8765"));
    EXPECT_FALSE(allowed("localhost.evil:8765"));
    EXPECT_FALSE(allowed("localhost.:8765"));
    EXPECT_FALSE(allowed("127.0.0.1.:8765"));
    EXPECT_FALSE(allowed("127.0.0.1:8766"));
    EXPECT_FALSE(allowed("127.0.0.1"));  // port 80 is not ours
    EXPECT_FALSE(allowed("127.0.0.2:8765"));
    EXPECT_FALSE(allowed("127.1:8765"));
    EXPECT_FALSE(allowed("evil.example:8765"));
}

TEST(WebHost, LoopbackBindAddressesAreExact) {
    EXPECT_TRUE(is_loopback_address("127.0.0.1"));
    EXPECT_TRUE(is_loopback_address("127.10.0.1"));
    EXPECT_TRUE(is_loopback_address("::1"));
    EXPECT_TRUE(is_loopback_address("[::1]"));
    EXPECT_TRUE(is_loopback_address("localhost"));
    EXPECT_FALSE(is_loopback_address("127.0.0.1.evil.example"));
    EXPECT_FALSE(is_loopback_address("127.0.0"));
    EXPECT_FALSE(is_loopback_address("127.0.0.1."));
    EXPECT_FALSE(is_loopback_address("127.0.0.256"));
    EXPECT_FALSE(is_loopback_address("128.0.0.1"));
    EXPECT_FALSE(is_loopback_address("0.0.0.0"));
}

TEST(WebOrigin, OnlyTheServersOwnOriginMayChangeState) {
    Authority host{"127.0.0.1", 8765};
    EXPECT_EQ(cross_origin_refusal(host, "http://127.0.0.1:8765", "", ""), "");
    EXPECT_EQ(cross_origin_refusal(host, "HTTP://127.0.0.1:8765", "", ""), "");
    EXPECT_EQ(cross_origin_refusal(host, "", "", ""), "");  // curl, scripts
    EXPECT_EQ(cross_origin_refusal(host, "", "http://127.0.0.1:8765/runs?x=1", "same-origin"), "");
    for (const char* origin : {"null",
                               "http://evil.example",
                               "http://127.0.0.1:8766",
                               "http://localhost:8765",
                               "https://127.0.0.1:8765",
                               "http://127.0.0.1:8765/",
                               "http://127.0.0.1:8765@evil",
                               "http://127.0.0.1.evil.example:8765"}) {
        EXPECT_NE(cross_origin_refusal(host, origin, "", ""), "") << origin;
    }
    EXPECT_NE(cross_origin_refusal(host, "", "", "cross-site"), "");
    EXPECT_NE(cross_origin_refusal(host, "", "", "same-site"), "");
    EXPECT_NE(cross_origin_refusal(host, "", "http://evil.example/x", ""), "");
    EXPECT_NE(cross_origin_refusal(host, "", "garbage", ""), "");
}
