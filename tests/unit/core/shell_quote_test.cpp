#include "core/shell_quote.hpp"

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

using cosmos::core::shell_join;
using cosmos::core::shell_quote;

namespace {
// Runs `printf '%s\n' <quoted>` through /bin/sh and returns what the shell saw as the argument.
std::string round_trip(const std::string& arg) {
    std::string cmd = "printf '%s' " + shell_quote(arg);
    std::FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 256> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
        out.append(buf.data(), n);
    }
    pclose(p);
    return out;
}
}  // namespace

TEST(ShellQuote, LeavesPlainWordsAlone) {
    EXPECT_EQ(shell_quote("cosmos_transfer1/diffusion/inference/transfer.py"),
              "cosmos_transfer1/diffusion/inference/transfer.py");
    EXPECT_EQ(shell_quote("--num_gpus"), "--num_gpus");
}

TEST(ShellQuote, QuotesEmptyString) {
    EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, HostileStringsReachTheShellUnchanged) {
    const std::array<std::string, 12> hostile = {"a;rm -rf ~",
                                                 "$(id)",
                                                 "`id`",
                                                 "it's",
                                                 "'",
                                                 "''",
                                                 "a\nb",
                                                 "*",
                                                 "~",
                                                 "a b\tc",
                                                 "$HOME ${PATH} $((1+1))",
                                                 "\\'\"!#&|<>(){}[]"};
    for (const auto& s : hostile) {
        EXPECT_EQ(round_trip(s), s) << "for " << s;
    }
}

TEST(ShellQuote, JoinQuotesEachElement) {
    EXPECT_EQ(shell_join({"echo", "a b", "$(id)"}), "echo 'a b' '$(id)'");
}
