#include "transport/known_hosts_file.hpp"

#include <gtest/gtest.h>

using namespace cosmos::transport::known_hosts;

namespace {

const std::string k_key_a = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const std::string k_key_b = "AAAAC3NzaC1lZDI1NTE5AAAAIBh0ZWdbc7rHVK8nTO4BlCzFmJUMQhYtC0YKbYiVZ3Ls";

}  // namespace

TEST(KnownHostsFile, ParsesMarkersAndSkipsComments) {
    auto entries = parse("# c\n\n@revoked * ssh-ed25519 " + k_key_a + "\nh1,h2 ssh-ed25519 " +
                         k_key_b + " comment\nbroken\n");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].marker, "@revoked");
    EXPECT_EQ(entries[0].line, 3u);
    EXPECT_EQ(entries[1].hosts, "h1,h2");
    EXPECT_EQ(entries[1].key, k_key_b);
}

TEST(KnownHostsFile, MatchesPlainWildcardNegatedAndHashedPatterns) {
    EXPECT_EQ(match_host("gpu1,10.0.0.5", "10.0.0.5"), Match::exact);
    EXPECT_EQ(match_host("*.example.com", "gpu1.example.com"), Match::wildcard);
    EXPECT_EQ(match_host("*.example.com,!gpu1.example.com", "gpu1.example.com"), Match::none);
    EXPECT_EQ(match_host("[127.0.0.1]:2222", "[127.0.0.1]:2223"), Match::none);
    // |1|base64(salt)|base64(HMAC-SHA1(salt, "[127.0.0.1]:2222")), OpenSSH's hashed form.
    const std::string hashed = "|1|MDEyMzQ1Njc4OWFiY2RlZmdoaWo=|kjl9J932vxVxCmU2IfKMefPFSKM=";
    EXPECT_EQ(match_host(hashed, "[127.0.0.1]:2222"), Match::exact);
    EXPECT_EQ(match_host(hashed, "[127.0.0.1]:2223"), Match::none);
}

TEST(KnownHostsFile, FingerprintIsOpenSshsSha256Form) {
    // ssh-keygen -lf of this key prints SHA256:0XPDT//8F+Co8HOb8r1MwY6H1QM8crIgWeP4h2hB6GE.
    EXPECT_EQ(fingerprint("AAAAC3NzaC1lZDI1NTE5AAAAIJjA4lKbZADrHIRFFg1fBFIB3jxhRq5AcXpQ1a4pUeDz"),
              "SHA256:0XPDT//8F+Co8HOb8r1MwY6H1QM8crIgWeP4h2hB6GE");
    EXPECT_EQ(fingerprint(k_key_a).rfind("SHA256:", 0), 0u);
    EXPECT_EQ(fingerprint(k_key_a).size(), 7u + 43u);
    EXPECT_NE(fingerprint(k_key_a), fingerprint(k_key_b));
    EXPECT_EQ(fingerprint("not base64!"), "SHA256:?");
}

TEST(KnownHostsFile, ReplaceKeepsEveryOtherLineAndRefusesWildcards) {
    std::string text = "# mine\nother ssh-ed25519 " + k_key_a + "\n[h]:22 ssh-ed25519 " + k_key_a +
                       "\n@revoked [h]:22 ssh-ed25519 " + k_key_b + "\n[h]:22 ssh-rsa AAAA\n";
    auto out = replace_host(text, "[h]:22", "[h]:22 ssh-ed25519 NEW");
    ASSERT_TRUE(out.has_value()) << out.error().message;
    EXPECT_EQ(*out,
              "# mine\nother ssh-ed25519 " + k_key_a +
                  "\n[h]:22 ssh-ed25519 NEW\n@revoked [h]:22 "
                  "ssh-ed25519 " +
                  k_key_b + "\n");
    EXPECT_NE(find_revoked(parse(text), k_key_b), nullptr);
    EXPECT_EQ(find_revoked(parse(text), k_key_a), nullptr);
    auto wild = replace_host("*.x ssh-ed25519 " + k_key_a + "\n", "a.x", "a.x ssh-ed25519 NEW");
    ASSERT_FALSE(wild.has_value());
    EXPECT_NE(wild.error().message.find("names other hosts too"), std::string::npos);
}
