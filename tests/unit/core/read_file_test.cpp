#include "core/read_file.hpp"

#include <filesystem>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using namespace cosmos::core;
using cosmos::test::TempDir;

TEST(ReadFile, ReadsARegularFileUpToTheCap) {
    TempDir dir;
    auto path = dir.write("a.txt", "hello");
    auto text = read_file(path, 5, "test file");
    ASSERT_TRUE(text.has_value()) << text.error().message;
    EXPECT_EQ(*text, "hello");
    auto head = read_file_head(path, 3, "test file");
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(*head, "hel");
}

TEST(ReadFile, RefusesAFileOverTheCapNamingFileSizeAndCap) {
    TempDir dir;
    auto path = dir.write("a.txt", "hello!");
    auto text = read_file(path, 5, "test file");
    ASSERT_FALSE(text.has_value());
    EXPECT_EQ(text.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(text.error().message,
              "test file " + path.string() + " is too large: 6 bytes (the limit is 5 bytes)");
}

TEST(ReadFile, RefusesWhatIsNotARegularFileWithoutBlocking) {
    TempDir dir;
    auto fifo = dir / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto f = read_file(fifo, kConfigFileMax, "configuration file");
    ASSERT_FALSE(f.has_value());
    EXPECT_NE(f.error().message.find("is not a regular file (a FIFO)"), std::string::npos);
    EXPECT_FALSE(read_file_head(fifo, 16, "import file").has_value());

    auto zero = read_file("/dev/zero", kConfigFileMax, "configuration file");
    ASSERT_FALSE(zero.has_value());
    EXPECT_EQ(zero.error().message,
              "configuration file /dev/zero is not a regular file (a character device)");
    auto folder = read_file(dir.path(), kConfigFileMax, "configuration file");
    ASSERT_FALSE(folder.has_value());
    EXPECT_NE(folder.error().message.find("(a directory)"), std::string::npos);

    auto missing = read_file(dir / "nope", kConfigFileMax, "configuration file");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST(ReadFile, SizesAreWrittenInTheLargestExactUnit) {
    EXPECT_EQ(format_size(kMiB), "1 MiB");
    EXPECT_EQ(format_size(64 * kKiB), "64 KiB");
    EXPECT_EQ(format_size(kMiB + 1), "1048577 bytes");
}
