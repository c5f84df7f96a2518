// The content-addressed input cache over a real SSH shell (loopback sshd).

#include "transport/staging.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "support/sshd.hpp"
#include "support/temp_dir.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::transport {
namespace {

namespace fs = std::filesystem;

// The SSH shell, counting the commands run on the host (everything else passes through).
class CountingShell final : public Shell {
public:
    explicit CountingShell(std::shared_ptr<Shell> inner) : m_inner(std::move(inner)) {}
    int commands = 0;

    std::string describe() const override { return m_inner->describe(); }
    core::Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const CommandOptions& options) override {
        ++commands;
        return m_inner->run(argv, options);
    }
    core::Result<int> stream(const std::vector<std::string>& argv,
                             const OutputLineFn& on_line,
                             const std::atomic<bool>* stop) override {
        ++commands;
        return m_inner->stream(argv, on_line, stop);
    }
    core::Result<std::optional<FileInfo>> stat(const std::string& path) override {
        return m_inner->stat(path);
    }
    core::Status make_dirs(const std::string& path) override { return m_inner->make_dirs(path); }
    core::Result<std::uint64_t> upload(const fs::path& local,
                                       const std::string& remote,
                                       const ProgressFn& progress) override {
        return m_inner->upload(local, remote, progress);
    }
    core::Result<std::uint64_t> upload_hashed(const fs::path& local,
                                              const std::string& remote,
                                              UploadDigest& digest,
                                              const ProgressFn& progress) override {
        return m_inner->upload_hashed(local, remote, digest, progress);
    }
    core::Result<std::uint64_t> download(const std::string& remote,
                                         const fs::path& local,
                                         const ProgressFn& progress) override {
        return m_inner->download(remote, local, progress);
    }
    core::Status write_file(const std::string& remote,
                            std::string_view content,
                            int mode) override {
        return m_inner->write_file(remote, content, mode);
    }
    core::Result<std::string> read_file(const std::string& remote,
                                        std::uint64_t max_bytes) override {
        return m_inner->read_file(remote, max_bytes);
    }
    core::Result<std::vector<std::string>> list_dir(const std::string& remote) override {
        return m_inner->list_dir(remote);
    }
    core::Result<std::vector<DirEntry>> list_dir_info(const std::string& remote) override {
        return m_inner->list_dir_info(remote);
    }
    core::Status replace_file(const std::string& from, const std::string& to) override {
        return m_inner->replace_file(from, to);
    }
    core::Status set_mtime(const std::string& path, std::int64_t seconds) override {
        return m_inner->set_mtime(path, seconds);
    }

private:
    std::shared_ptr<Shell> m_inner;
};

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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

// A file the host has never seen is probed, sent, committed and stamped over SFTP alone: no
// command, so no login shell on the host (its rc files cost 0.1-3 s).
TEST_F(StagingTest, FreshFilesNeedNoCommandOnTheHost) {
    CountingShell shell(m_shell);
    auto a = make_file("a.mp4", 1 << 20);
    auto b = make_file("b.mp4", (1 << 20) + 7);  // a cache that is no longer empty
    auto first = stage_file(shell, a, m_cache);
    ASSERT_TRUE(first) << first.error().message;
    auto second = stage_file(shell, b, m_cache);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(shell.commands, 0);
    EXPECT_EQ(second->proof, "sent");
    EXPECT_EQ(second->read_bytes, (1u << 20) + 7);  // one read: hashed while sent
    EXPECT_EQ(*core::sha256_file(second->remote_path), *core::sha256_file(b));

    // The stamp: size and mtime, the file's mtime a second before the stamp was written.
    const std::string name = second->sha256 + ".mp4";
    std::istringstream stamp(read_text(m_cache + ".stamps/" + name));
    std::uint64_t size = 0;
    std::int64_t mtime = 0;
    stamp >> size >> mtime;
    EXPECT_EQ(size, (1u << 20) + 7);
    auto file_mtime = fs::last_write_time(m_cache + "/" + name);
    auto stamp_mtime = fs::last_write_time(m_cache + ".stamps/" + name);
    EXPECT_LT(file_mtime, stamp_mtime);
    auto info = *m_shell->stat(m_cache + "/" + name);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->mtime, mtime);

    auto again = stage_file(shell, b, m_cache);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->proof, "stamp");
    EXPECT_EQ(shell.commands, 0);
}

// A file of the same size as a cached one may be that one: it is hashed locally first, and
// when it is not there it is sent, still without a command.
TEST_F(StagingTest, ASameSizeFileIsHashedFirstAndSentWithoutACommand) {
    CountingShell shell(m_shell);
    auto a = make_file("one.mp4", 1 << 20);
    auto b = m_tmp.write("local/two.mp4", std::string(1 << 20, 'z'));
    ASSERT_TRUE(stage_file(shell, a, m_cache));
    auto r = stage_file(shell, b, m_cache);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->uploaded_bytes, 1u << 20);
    EXPECT_EQ(r->read_bytes, 2u << 20);  // the hash first (it might have been there), then sent
    EXPECT_EQ(shell.commands, 0);
}

// The host side's check cannot match an SFTP stamp (no inode, no ns): asked about such an
// entry, it hashes it once and writes its own stamp. A changed entry is found bad and repaired.
TEST_F(StagingTest, AnSftpStampIsCheckedByTheHostWhenTheQuickCheckFails) {
    CountingShell shell(m_shell);
    auto local = make_file("checked.mp4", 1 << 20);
    auto first = stage_file(shell, local, m_cache);
    ASSERT_TRUE(first) << first.error().message;
    const std::string cached = first->remote_path;
    fs::last_write_time(cached, fs::last_write_time(cached) + std::chrono::hours(1));
    auto rehashed = stage_file(shell, local, m_cache);
    ASSERT_TRUE(rehashed) << rehashed.error().message;
    EXPECT_EQ(rehashed->proof, "host-hash");
    EXPECT_EQ(shell.commands, 1);
    std::istringstream fields(read_text(m_cache + ".stamps/" + first->sha256 + ".mp4"));
    std::vector<std::string> words;
    for (std::string w; fields >> w;) {
        words.push_back(w);
    }
    EXPECT_GT(words.size(), 2u);  // the host's full stamp now

    {
        std::fstream f(cached, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f << "corrupt";
    }
    fs::last_write_time(cached, fs::last_write_time(cached) + std::chrono::hours(1));
    auto repaired = stage_file(shell, local, m_cache);
    ASSERT_TRUE(repaired) << repaired.error().message;
    EXPECT_TRUE(repaired->repaired);
    EXPECT_EQ(repaired->uploaded_bytes, 1u << 20);
    EXPECT_EQ(*core::sha256_file(cached), first->sha256);
}

TEST_F(StagingTest, MissingLocalFileIsNotFound) {
    auto r = stage_file(*m_shell, m_tmp / "nope.mp4", m_cache);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::ErrorCode::not_found);
}

}  // namespace
}  // namespace cosmos::transport
