// LocalShell: transport::Shell on this machine (the Slurm login node case).

#include "transport/local_shell.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace cosmos::transport {
namespace {

namespace fs = std::filesystem;

class LocalShellTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("local-shell-" + std::to_string(::getpid()));
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }

    LocalShell shell;
    fs::path m_dir;
};

TEST_F(LocalShellTest, RunSeparatesOutputStreamsAndFeedsStdin) {
    auto r = shell.run({"sh", "-c", "cat; echo err >&2; exit 3"},
                       {"hello $(not run)\n", std::chrono::seconds(10)});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 3);
    EXPECT_EQ(r->out, "hello $(not run)\n");
    EXPECT_EQ(r->err, "err\n");
}

TEST_F(LocalShellTest, RunTimesOutAndMissingProgramIsNotFound) {
    auto slow = shell.run({"sleep", "5"}, {"", std::chrono::milliseconds(200)});
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error().code, core::ErrorCode::timeout);
    auto missing = shell.run({"no-such-program-cosmos"});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
}

TEST_F(LocalShellTest, FilesAreWrittenAtomicallyWithTheirMode) {
    ASSERT_TRUE(shell.make_dirs(path("a/b")));
    ASSERT_TRUE(shell.write_file(path("a/b/secret.env"), "export T=1\n", 0600));
    struct ::stat st {};
    ASSERT_EQ(::stat(path("a/b/secret.env").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto text = shell.read_file(path("a/b/secret.env"));
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "export T=1\n");
    auto info = shell.stat(path("a/b/secret.env"));
    ASSERT_TRUE(info && *info);
    EXPECT_EQ((*info)->size, 11u);
    auto none = shell.stat(path("nothing"));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    auto names = shell.list_dir(path("a/b"));
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, std::vector<std::string>{"secret.env"});
    EXPECT_FALSE(shell.read_file(path("a/b/secret.env"), 4));  // larger than allowed
}

// replace_file, set_mtime, list_dir_info and free_bytes: LocalShell's own, and Shell's defaults
// (which run mv, touch and stat through run()) on a shell that only forwards the basics.
TEST_F(LocalShellTest, RenamesSetsTimesAndListsWithSizes) {
    struct Basic final : Shell {
        LocalShell& inner;
        explicit Basic(LocalShell& s) : inner(s) {}
        std::string describe() const override { return "basic"; }
        core::Result<CommandResult> run(const std::vector<std::string>& argv,
                                        const CommandOptions& options) override {
            return inner.run(argv, options);
        }
        core::Result<int> stream(const std::vector<std::string>& argv,
                                 const OutputLineFn& on_line,
                                 const std::atomic<bool>* stop) override {
            return inner.stream(argv, on_line, stop);
        }
        core::Result<std::optional<FileInfo>> stat(const std::string& p) override {
            return inner.stat(p);
        }
        core::Status make_dirs(const std::string& p) override { return inner.make_dirs(p); }
        core::Result<std::uint64_t> upload(const fs::path& l,
                                           const std::string& r,
                                           const ProgressFn& pr) override {
            return inner.upload(l, r, pr);
        }
        core::Result<std::uint64_t> download(const std::string& r,
                                             const fs::path& l,
                                             const ProgressFn& pr) override {
            return inner.download(r, l, pr);
        }
        core::Status write_file(const std::string& r, std::string_view c, int m) override {
            return inner.write_file(r, c, m);
        }
        core::Result<std::string> read_file(const std::string& r, std::uint64_t max) override {
            return inner.read_file(r, max);
        }
        core::Result<std::vector<std::string>> list_dir(const std::string& r) override {
            return inner.list_dir(r);
        }
    };
    Basic basic(shell);
    for (Shell* s : std::vector<Shell*>{&shell, &basic}) {
        SCOPED_TRACE(s->describe());
        ASSERT_TRUE(s->make_dirs(path("d")));
        ASSERT_TRUE(s->write_file(path("d/-from"), "12345"));
        ASSERT_TRUE(s->write_file(path("d/to"), "old"));
        ASSERT_TRUE(s->replace_file(path("d/-from"), path("d/to")));
        EXPECT_EQ(*s->read_file(path("d/to")), "12345");
        auto gone = s->replace_file(path("d/-from"), path("d/to"));
        ASSERT_FALSE(gone);
        EXPECT_EQ(gone.error().code, core::ErrorCode::not_found);
        ASSERT_TRUE(s->set_mtime(path("d/to"), 1'000'000'000));
        EXPECT_EQ((*s->stat(path("d/to")))->mtime, 1'000'000'000);
        ASSERT_TRUE(s->make_dirs(path("d/sub")));
        auto entries = s->list_dir_info(path("d"));
        ASSERT_TRUE(entries);
        ASSERT_EQ(entries->size(), 2u);
        EXPECT_EQ((*entries)[0].name, "sub");
        EXPECT_TRUE((*entries)[0].info.is_dir);
        EXPECT_EQ((*entries)[1].name, "to");
        EXPECT_EQ((*entries)[1].info.size, 5u);
        EXPECT_FALSE(s->list_dir_info(path("none")));
        auto free = s->free_bytes(path("d"));
        ASSERT_TRUE(free) << free.error().message;
        ASSERT_TRUE(*free);
        EXPECT_GT(**free, 0u);
        fs::remove_all(path("d"));
    }
}

TEST_F(LocalShellTest, ThreadsWritingOneFileAtOnceAllSucceedAndLeaveNoTemporaries) {
    // A worker's jobs write the same script into one server folder at once: each write's
    // temporary must be its own, or one rename takes the other's file away.
    ASSERT_TRUE(shell.make_dirs(path("srv")));
    std::vector<std::thread> threads;
    std::vector<int> ok(16, 0);
    for (std::size_t t = 0; t < ok.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                auto st = shell.write_file(path("srv/model-server.sh"), "#!/bin/sh\n", 0700);
                ok[t] += st ? 1 : 0;
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (int n : ok) {
        EXPECT_EQ(n, 20);
    }
    auto names = shell.list_dir(path("srv"));
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, std::vector<std::string>{"model-server.sh"});
}

TEST_F(LocalShellTest, UploadCopiesThroughPartAndResumes) {
    std::string data(3 << 20, 'x');
    { std::ofstream(path("src.bin"), std::ios::binary) << data; }
    { std::ofstream(path("dst.bin.part"), std::ios::binary) << data.substr(0, 1 << 20); }
    std::uint64_t last = 0;
    auto sent = shell.upload(
        path("src.bin"), path("dst.bin"), [&](const TransferProgress& p) { last = p.done; });
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, 2u << 20);  // the first MiB was there already
    EXPECT_EQ(last, 3u << 20);
    EXPECT_FALSE(fs::exists(path("dst.bin.part")));
    EXPECT_EQ(fs::file_size(path("dst.bin")), data.size());
}

TEST_F(LocalShellTest, HashedUploadResumesOnlyTheTrustedPartAndHashesEverything) {
    std::string data(3 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 7 + i / 4099);
    }
    { std::ofstream(path("src.bin"), std::ios::binary) << data; }
    std::string part = data.substr(0, 2 << 20);
    part[(1 << 20) + 5] ^= 1;  // wrong after the first MiB
    { std::ofstream(path("dst.bin.part"), std::ios::binary) << part; }
    UploadDigest digest;
    digest.trusted_part = 1 << 20;
    auto sent = shell.upload_hashed(path("src.bin"), path("dst.bin"), digest);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, 2u << 20);  // the untrusted second MiB was copied again
    EXPECT_EQ(digest.sha.bytes(), data.size());
    EXPECT_EQ(digest.sha.finish(), core::sha256_hex(data));
    std::ifstream in(path("dst.bin"), std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(got == data);
}

TEST_F(LocalShellTest, StreamDeliversLinesAndExitCode) {
    std::vector<std::string> lines;
    auto code = shell.stream({"sh", "-c", "echo one; echo two; exit 4"},
                             [&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 4);
    EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
}

}  // namespace
}  // namespace cosmos::transport
