// The content-addressed input cache over a real SSH shell (loopback sshd).

#include "transport/staging.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "support/sshd.hpp"
#include "support/temp_dir.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::transport {
namespace {

namespace fs = std::filesystem;

TEST(CacheExtension, KeepsOnlyPlainExtensions) {
    EXPECT_EQ(cache_extension("a/b/color.mp4"), ".mp4");
    EXPECT_EQ(cache_extension("$(touch x).mp4"), ".mp4");
    EXPECT_EQ(cache_extension("shot.$(id)"), "");
    EXPECT_EQ(cache_extension("noext"), "");
    EXPECT_EQ(cache_extension("x.tar gz"), "");
    EXPECT_EQ(cache_extension(".hidden"), "");
}

class StagingTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::TestSshd::available()) {
            GTEST_SKIP() << "sshd not installed";
        }
        m_sshd = std::make_unique<test::TestSshd>();
        m_sshd->start();
        SshTarget t;
        t.name = "stagehost";
        t.address = "127.0.0.1";
        t.port = m_sshd->port();
        t.user = m_sshd->user();
        t.key = m_sshd->user_key();
        t.known_hosts = m_sshd->write_known_hosts(m_tmp / "known_hosts");
        m_shell = ssh_shell(t);
        m_cache = (m_tmp / "remote" / "cache").string();
    }
    fs::path make_file(const std::string& name, std::size_t size) {
        std::string data(size, '\0');
        for (std::size_t i = 0; i < size; ++i) {
            data[i] = static_cast<char>((i * 131 + i / 977) & 0xff);
        }
        return m_tmp.write("local/" + name, data);
    }

    test::TempDir m_tmp;
    std::unique_ptr<test::TestSshd> m_sshd;
    std::shared_ptr<Shell> m_shell;
    std::string m_cache;
};

TEST_F(StagingTest, SendsOnceThenNothing) {
    auto local = make_file("color.mp4", 3 << 20);
    std::string sha = *core::sha256_file(local);
    auto first = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->sha256, sha);
    EXPECT_EQ(first->remote_path, m_cache + "/" + sha + ".mp4");
    EXPECT_EQ(first->size, 3u << 20);
    EXPECT_EQ(first->uploaded_bytes, 3u << 20);
    EXPECT_EQ(*core::sha256_file(first->remote_path), sha);

    std::uint64_t last_done = 0;
    auto second = stage_file(
        *m_shell, local, m_cache, [&](const TransferProgress& p) { last_done = p.done; });
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->uploaded_bytes, 0u);
    EXPECT_EQ(second->remote_path, first->remote_path);
    EXPECT_EQ(last_done, 3u << 20);
}

TEST_F(StagingTest, ResumesAProvenPartialCopyAndReplacesAWrongSize) {
    auto local = make_file("depth.mp4", 2 << 20);
    std::string sha = *core::sha256_file(local);
    fs::create_directories(m_cache);
    std::string target = m_cache + "/" + sha + ".mp4";
    std::string part = m_cache + "/" + incoming_name(local) + ".part";
    {
        std::ifstream in(local, std::ios::binary);
        std::string head(1 << 20, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        std::ofstream(part, std::ios::binary) << head;
    }
    auto r = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->uploaded_bytes, 1u << 20);
    EXPECT_EQ(r->read_bytes, 2u << 20);  // the prefix for its proof, the rest for sending
    EXPECT_FALSE(r->repaired);
    EXPECT_EQ(*core::sha256_file(target), sha);

    std::ofstream(target, std::ios::trunc) << "short";  // damaged: wrong size
    auto again = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->uploaded_bytes, 2u << 20);
    EXPECT_TRUE(again->repaired);
    EXPECT_EQ(*core::sha256_file(target), sha);
}

TEST_F(StagingTest, AWrongPartIsSentAfresh) {
    auto local = make_file("wrong.mp4", 1 << 20);
    std::string sha = *core::sha256_file(local);
    fs::create_directories(m_cache);
    std::string part = m_cache + "/" + incoming_name(local) + ".part";
    std::ofstream(part, std::ios::binary) << std::string(1 << 20, 'x');  // full length, wrong
    auto r = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->uploaded_bytes, 1u << 20);
    EXPECT_TRUE(r->repaired);
    EXPECT_EQ(r->proof, "sent");
    EXPECT_EQ(*core::sha256_file(m_cache + "/" + sha + ".mp4"), sha);
    EXPECT_FALSE(fs::exists(part));
}

TEST_F(StagingTest, ACachedCopyIsProvenByItsStampThenByTheHost) {
    auto local = make_file("stamp.mp4", 1 << 20);
    std::string sha = *core::sha256_file(local);
    ASSERT_TRUE(stage_file(*m_shell, local, m_cache));
    auto hit = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(hit) << hit.error().message;
    EXPECT_EQ(hit->proof, "stamp");
    EXPECT_EQ(hit->read_bytes, 0u);  // the hash came from the local hash cache
    fs::remove(m_cache + ".stamps/" + sha + ".mp4");
    auto rehashed = stage_file(*m_shell, local, m_cache);
    ASSERT_TRUE(rehashed) << rehashed.error().message;
    EXPECT_EQ(rehashed->proof, "host-hash");
    EXPECT_EQ(rehashed->uploaded_bytes, 0u);
}

TEST_F(StagingTest, MissingLocalFileIsNotFound) {
    auto r = stage_file(*m_shell, m_tmp / "nope.mp4", m_cache);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::ErrorCode::not_found);
}

}  // namespace
}  // namespace cosmos::transport
