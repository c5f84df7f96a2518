// Local checkpoint hashing: hashes match sha256sum's, unchanged files are not read again, and
// find/sha256sum output (what the host side returns) is parsed exactly.

#include "backends/checkpoint_hash.hpp"

#include <cstdlib>
#include <fstream>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
namespace fs = std::filesystem;

TEST(CheckpointHash, ParsesFindAndSha256sumOutput) {
    std::string find_out(
        "12 1700000000.5 a/b c\0"
        "0 1700000001 d\n\0",
        38);
    auto listed = backends::parse_find_listing(find_out);
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].path, "a/b c");
    EXPECT_EQ((*listed)[0].size, 12u);
    EXPECT_EQ((*listed)[0].mtime_ns, 1'700'000'000'500'000'000);
    EXPECT_EQ((*listed)[1].path, "d\n");  // a newline in a name survives
    EXPECT_FALSE(backends::parse_find_listing(std::string("x y", 3)));
    // Found by fuzz_remote_outputs: seconds whose nanoseconds overflow int64 (signed overflow,
    // undefined) are refused, either sign.
    EXPECT_FALSE(backends::parse_find_listing(std::string("1 1000000100000000.5 a\0", 23)));
    EXPECT_FALSE(backends::parse_find_listing(std::string("1 -1000000100000000 a\0", 22)));

    std::string sums = std::string(64, 'a') + "  a/b c" + std::string(1, '\0') +
                       std::string(64, 'b') + "  d\n" + std::string(1, '\0');
    auto parsed = backends::parse_sha256sum(sums);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->at("a/b c"), std::string(64, 'a'));
    EXPECT_EQ(parsed->at("d\n"), std::string(64, 'b'));
    EXPECT_FALSE(backends::parse_sha256sum("garbage"));
}

TEST(CheckpointHash, HashesLocallyAndReadsOnlyChangedFiles) {
    test::TempDir dir;
    dir.write("nvidia/Cosmos-Transfer1-7B/base_model.pt", std::string(100000, 'x'));
    dir.write("nvidia/Cosmos-Transfer1-7B/vis_control.pt", "vis");
    dir.write("t5/config.json", "{}");
    dir.write(".cache/huggingface/meta", "ignored");
    auto first = backends::hash_local_tree(dir.path(), {}, 3);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->files.size(), 3u);
    EXPECT_EQ(first->files_read, 3u);
    EXPECT_EQ(first->files[0].path, "nvidia/Cosmos-Transfer1-7B/base_model.pt");
    EXPECT_EQ(first->files[0].sha256, core::sha256_hex(std::string(100000, 'x')));
    EXPECT_EQ(first->files[2].sha256, core::sha256_hex("{}"));

    backends::HashCache cache;
    for (const auto& f : first->files) {
        cache[f.path] = f;
    }
    auto again = backends::hash_local_tree(dir.path(), cache, 3);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->files_read, 0u);
    EXPECT_EQ(again->bytes_read, 0u);

    // A changed file (new size and mtime) is read again, and only it.
    dir.write("nvidia/Cosmos-Transfer1-7B/vis_control.pt", "vis2");
    auto third = backends::hash_local_tree(dir.path(), cache, 3);
    ASSERT_TRUE(third);
    EXPECT_EQ(third->files_read, 1u);
    EXPECT_EQ(third->files[1].sha256, core::sha256_hex("vis2"));

    // A poisoned cache entry with the right size and mtime is trusted: that is the contract.
    EXPECT_FALSE(backends::hash_local_tree(dir / "absent", {}, 2));
}

TEST(CheckpointHash, AgreesWithSha256sum) {
    test::TempDir dir;
    auto file = dir.write("f.bin", std::string(3 << 20, '\x7f'));
    auto report = backends::hash_local_tree(dir.path(), {}, 1);
    ASSERT_TRUE(report);
    std::string cmd = "sha256sum " + file.string() + " > " + (dir / "out.txt").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(dir / "out.txt");
    std::string expected;
    in >> expected;
    EXPECT_EQ(report->files[0].sha256, expected);
}
