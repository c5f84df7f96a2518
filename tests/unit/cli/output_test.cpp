#include <gtest/gtest.h>

#include "cli/terminal_safe.hpp"

using cosmos::cli::terminal_safe;

TEST(TerminalSafe, ControlCharactersAreWrittenAsEscapes) {
    EXPECT_EQ(terminal_safe("a\x1b]0;owned\x07z"), "a\\x1b]0;owned\\x07z");
    EXPECT_EQ(terminal_safe("clear\x1b[2J\x1b[1A"), "clear\\x1b[2J\\x1b[1A");
    EXPECT_EQ(terminal_safe("cr\rdel\x7f"), "cr\\x0ddel\\x7f");
    EXPECT_EQ(terminal_safe("c1 \xc2\x9b"
                            "31m"),
              "c1 \\u009b31m");
}

TEST(TerminalSafe, TextNewlinesTabsUtf8AndColourPass) {
    EXPECT_EQ(terminal_safe("line 1\n\tline 2 — é"), "line 1\n\tline 2 — é");
    EXPECT_EQ(terminal_safe("\x1b[1;31mred\x1b[0m"), "\x1b[1;31mred\x1b[0m");
}
