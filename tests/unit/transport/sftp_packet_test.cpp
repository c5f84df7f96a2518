// Cutting the SFTP server's byte stream into packets (src/transport/sftp_packet.hpp); the
// transfers themselves run in ssh_shell_test.cpp against a real sshd.
#include "transport/sftp_packet.hpp"

#include <string>

#include <gtest/gtest.h>

using namespace cosmos::transport::detail;

namespace {

std::string u32(std::uint32_t v) {
    return {static_cast<char>(v >> 24),
            static_cast<char>(v >> 16),
            static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

std::string packet(std::uint8_t type, std::uint32_t id, const std::string& body) {
    return u32(static_cast<std::uint32_t>(body.size() + 5)) + static_cast<char>(type) + u32(id) +
           body;
}

}  // namespace

TEST(SftpPacket, TakesWholePacketsAndWaitsForTheRest) {
    std::string in = packet(103, 7, u32(3) + "abc") + packet(101, 8, u32(0));
    std::size_t pos = 0;
    auto first = take_packet(in, pos);
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->type, 103);
    EXPECT_EQ((*first)->id, 7u);
    Reader r{(*first)->body};
    EXPECT_EQ(r.str(), "abc");
    EXPECT_TRUE(r.ok);
    std::size_t cut = pos;
    auto partial = take_packet(std::string_view(in).substr(0, in.size() - 1), pos);
    ASSERT_TRUE(partial);
    EXPECT_FALSE(*partial);
    EXPECT_EQ(pos, cut);
    auto second = take_packet(in, pos);
    ASSERT_TRUE(second && *second);
    EXPECT_EQ(pos, in.size());
}

TEST(SftpPacket, RefusesLengthsOutOfRangeAndShortFields) {
    std::size_t pos = 0;
    EXPECT_FALSE(take_packet(u32(4) + "abcd", pos));
    EXPECT_FALSE(take_packet(u32(1u << 25) + "x", pos));
    const std::string short_field = u32(10) + "abc";
    Reader r{short_field};
    EXPECT_EQ(r.str(), "");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(version_extensions(u32(4) + "a@b." + u32(1) + "1" + u32(3) + "c@d" + u32(0)),
              std::vector<std::string>({"a@b.", "c@d"}));
}
