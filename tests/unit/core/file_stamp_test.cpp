// core/file_stamp (the stat-keyed hash cache) and core::Sha256Stream.

#include "core/file_stamp.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "support/temp_dir.hpp"

namespace cosmos::core {
namespace {

namespace fs = std::filesystem;

TEST(Sha256Stream, PiecesAndResumedOffsetsGiveTheWholeHash) {
    Sha256Stream s;
    std::string data = "hello, hashing while sending";
    s.update(data.data(), 5);
    EXPECT_EQ(s.hex(), sha256_hex("hello"));             // a peek; feeding goes on
    EXPECT_TRUE(s.update_at(3, data.data() + 3, 6));     // bytes 3..5 already fed: skipped
    EXPECT_FALSE(s.update_at(20, data.data() + 20, 2));  // a gap is refused
    EXPECT_TRUE(s.update_at(9, data.data() + 9, data.size() - 9));
    EXPECT_EQ(s.bytes(), data.size());
    EXPECT_EQ(s.finish(), sha256_hex(data));
    EXPECT_EQ(s.bytes(), 0u);
}

TEST(Sha256Stream, FeedsAFilePrefix) {
    test::TempDir tmp;
    auto path = tmp.write("f.bin", "0123456789");
    Sha256Stream s;
    ASSERT_TRUE(sha256_feed_file(s, path, 4));
    EXPECT_EQ(s.hex(), sha256_hex("0123"));
    ASSERT_TRUE(sha256_feed_file(s, path, 10));
    EXPECT_EQ(s.finish(), sha256_hex("0123456789"));
    EXPECT_FALSE(sha256_feed_file(s, path, 11));  // the file is shorter
}

TEST(HashCacheFile, ReusesAHashOnlyWhileTheStampHolds) {
    test::TempDir tmp;
    auto path = tmp.write("in.mp4", "abc");
    auto stamp = *stamp_file(path);
    fs::path store = tmp / "data" / "hashes.json";
    {
        HashCacheFile cache(store);
        EXPECT_FALSE(cache.lookup(path.string(), stamp));
        ASSERT_TRUE(cache.remember(path.string(), stamp, sha256_hex("abc")));
    }
    HashCacheFile again(store);  // another process
    EXPECT_EQ(again.lookup(path.string(), stamp), sha256_hex("abc"));
    auto changed = stamp;
    changed.ctime_ns += 1;  // rewritten in place, size and mtime put back
    EXPECT_FALSE(again.lookup(path.string(), changed));
    changed = stamp;
    changed.inode += 1;
    EXPECT_FALSE(again.lookup(path.string(), changed));
}

TEST(HashCacheFile, ADamagedOrOversizedFileIsIgnored) {
    test::TempDir tmp;
    auto store = tmp.write("hashes.json", "{not json");
    FileStamp st{3, 1, 2, 3, 4};
    HashCacheFile damaged(store);
    EXPECT_FALSE(damaged.lookup("/x", st));
    ASSERT_TRUE(damaged.remember("/x", st, std::string(64, 'a')));  // rewritten whole
    EXPECT_EQ(HashCacheFile(store).lookup("/x", st), std::string(64, 'a'));

    {
        std::ofstream big(store, std::ios::trunc);
        big << R"({"version":1,"files":{"/x":)";
        big << std::string(HashCacheFile::k_max_file_bytes, ' ');
        big << R"({"size":3,"mtime_ns":1,"ctime_ns":2,"inode":3,"device":4,"sha256":"b"}}})";
    }
    EXPECT_FALSE(HashCacheFile(store).lookup("/x", st));  // not read past the cap
}

}  // namespace
}  // namespace cosmos::core
