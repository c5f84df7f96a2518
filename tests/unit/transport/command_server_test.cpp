// The SSH command server's reply header (src/transport/ssh_command_server.cpp); the server
// itself runs in ssh_shell_test.cpp against a real sshd.
#include <gtest/gtest.h>

#include "transport/ssh_command_server.hpp"

using cosmos::transport::detail::parse_command_header;

TEST(CommandServerHeader, ReadsExitCodeAndStreamSizes) {
    auto h = parse_command_header("cosmos-cmd 3 12 0", 100);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->exit_code, 3);
    EXPECT_EQ(h->out_bytes, 12u);
    EXPECT_EQ(h->err_bytes, 0u);
}

TEST(CommandServerHeader, RefusesOtherLinesAndSizesOverTheCap) {
    EXPECT_FALSE(parse_command_header("cosmos-cmd-ready", 100));
    EXPECT_FALSE(parse_command_header("cosmos-cmd 0 12", 100));
    EXPECT_FALSE(parse_command_header("Last login: yesterday", 100));
    EXPECT_FALSE(parse_command_header("cosmos-cmd 0 101 0", 100));
    EXPECT_FALSE(parse_command_header("cosmos-cmd 0 0 101", 100));
}
