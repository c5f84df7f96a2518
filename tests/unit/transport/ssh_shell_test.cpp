// SshShell against a real OpenSSH server on loopback (tests/support/sshd.hpp): commands, streams,
// quoting, host-key checking, SFTP transfers with resume and reconnection.

#include "transport/ssh_shell.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "support/sshd.hpp"
#include "support/temp_dir.hpp"

namespace cosmos::transport {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
        std::uint64_t v = rng();
        std::memcpy(s.data() + i, &v, 8);
    }
    return s;
}

fs::path write_random(const fs::path& p, std::size_t n, unsigned seed) {
    std::ofstream(p, std::ios::binary) << random_bytes(n, seed);
    return p;
}

class SshShellTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (test::TestSshd::available()) {
            s_sshd = new test::TestSshd();
            s_sshd->start();
        }
    }
    static void TearDownTestSuite() {
        delete s_sshd;
        s_sshd = nullptr;
    }
    void SetUp() override {
        if (s_sshd == nullptr) {
            GTEST_SKIP() << "sshd not installed";
        }
        s_sshd->start();  // a test may have stopped it
        m_target.name = "testhost";
        m_target.address = "127.0.0.1";
        m_target.port = s_sshd->port();
        m_target.user = s_sshd->user();
        m_target.key = s_sshd->user_key();
        m_target.known_hosts = s_sshd->write_known_hosts(m_tmp / "known_hosts");
        m_target.reconnect_budget = std::chrono::seconds(20);
    }
    std::shared_ptr<Shell> shell() { return ssh_shell(m_target); }

    static test::TestSshd* s_sshd;
    test::TempDir m_tmp;
    SshTarget m_target;
};
test::TestSshd* SshShellTest::s_sshd = nullptr;

TEST_F(SshShellTest, RunReturnsExitCodeAndBothStreams) {
    auto r = shell()->run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 3);
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
    auto killed = shell()->run({"sh", "-c", "kill -TERM $$"});
    ASSERT_TRUE(killed) << killed.error().message;
    EXPECT_EQ(killed->exit_code, 128 + 15);
}

TEST_F(SshShellTest, LargeOutputOnBothStreamsAtOnceDoesNotDeadlock) {
    auto r = shell()->run({"sh",
                           "-c",
                           "head -c 6000000 /dev/zero | tr '\\0' e >&2 & "
                           "head -c 6000000 /dev/zero | tr '\\0' o; wait"},
                          {.stdin_data = {}, .timeout = std::chrono::seconds(60)});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->out.size(), 6000000u);
    EXPECT_EQ(r->err.size(), 6000000u);
    EXPECT_EQ(r->out.find_first_not_of('o'), std::string::npos);
    EXPECT_EQ(r->err.find_first_not_of('e'), std::string::npos);
}

TEST_F(SshShellTest, StdinIsWrittenThenClosed) {
    std::string data = random_bytes(3 << 20, 7);
    auto r = shell()->run({"sha256sum"}, {.stdin_data = data, .timeout = std::chrono::seconds(60)});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out.substr(0, 64), core::sha256_hex(data));
}

TEST_F(SshShellTest, TimeoutIsReported) {
    auto start = std::chrono::steady_clock::now();
    auto r = shell()->run({"sleep", "10"},
                          {.stdin_data = {}, .timeout = std::chrono::milliseconds(400)});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    auto after = shell()->run({"true"});  // the connection is still usable
    ASSERT_TRUE(after) << after.error().message;
}

TEST_F(SshShellTest, HostileArgumentsRoundTripExactly) {
    std::vector<std::string> args = {"it's",
                                     "\"double\"",
                                     "$(touch /tmp/cosmos_pwned)",
                                     "`id`",
                                     "a; rm -rf /tmp/x",
                                     "line1\nline2",
                                     "  spaces  ",
                                     "",
                                     "ünïcødé ✓",
                                     "*",
                                     "$HOME",
                                     "-n"};
    std::vector<std::string> argv = {"printf", "%s\\0"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = shell()->run(argv);
    ASSERT_TRUE(r) << r.error().message;
    std::vector<std::string> got;
    std::size_t start = 0;
    for (std::size_t i = 0; i < r->out.size(); ++i) {
        if (r->out[i] == '\0') {
            got.push_back(r->out.substr(start, i - start));
            start = i + 1;
        }
    }
    EXPECT_EQ(got, args);
    EXPECT_FALSE(fs::exists("/tmp/cosmos_pwned"));
}

TEST_F(SshShellTest, ShortCommandsShareOneCommandServer) {
    // Commands of every shell of the host run in one long-lived server shell (no login shell,
    // no rc files per command); a command's exit or a shell builtin does not end the server.
    auto sh = shell();
    auto first = sh->run({"sh", "-c", "echo \"$COSMOS_COMMAND_SERVER\""});
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_NE(first->out, "\n");
    auto exited = shell()->run({"exit", "5"});
    ASSERT_TRUE(exited) << exited.error().message;
    EXPECT_EQ(exited->exit_code, 5);
    auto again = shell()->run({"sh", "-c", "echo \"$COSMOS_COMMAND_SERVER\""});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->out, first->out);
    // stdin goes to an exec channel of its own: it is not the server's.
    auto fed = sh->run({"sh", "-c", "cat; echo \"[$COSMOS_COMMAND_SERVER]\""},
                       {.stdin_data = "in\n", .timeout = std::chrono::seconds(30)});
    ASSERT_TRUE(fed) << fed.error().message;
    EXPECT_EQ(fed->out, "in\n[]\n");
    // After a timeout the server is dropped; the next command gets a new one.
    auto slow =
        sh->run({"sleep", "5"}, {.stdin_data = {}, .timeout = std::chrono::milliseconds(300)});
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error().code, ErrorCode::timeout);
    auto fresh = sh->run({"sh", "-c", "echo \"$COSMOS_COMMAND_SERVER\""});
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_NE(fresh->out, first->out);
    EXPECT_NE(fresh->out, "\n");
}

TEST_F(SshShellTest, StreamDeliversLinesOfBothStreams) {
    std::vector<std::string> lines;
    auto r =
        shell()->stream({"sh", "-c", "echo a; echo b >&2; printf 'p1\\rp2\\r'; echo; printf tail"},
                        [&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, 0);
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "p1", "p2", "tail"}));
}

TEST_F(SshShellTest, StreamStopsWhenAsked) {
    std::atomic<bool> stop{false};
    int count = 0;
    auto r = shell()->stream(
        {"sh", "-c", "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.02; done"},
        [&](std::string_view) {
            if (++count == 5) {
                stop = true;
            }
        },
        &stop);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::interrupted);
    EXPECT_GE(count, 5);
}

TEST_F(SshShellTest, UnknownHostKeyIsRefusedWithFingerprintAndHint) {
    m_target.known_hosts = m_tmp / "empty_known_hosts";
    auto r = shell()->run({"true"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::auth_failed);
    EXPECT_NE(r.error().message.find("offered an unknown ED25519 key SHA256:"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("testhost ([127.0.0.1]:"), std::string::npos);
    EXPECT_EQ(r.error().hint, "check the fingerprint, then run: cosmos hosts trust testhost");
    EXPECT_FALSE(fs::exists(m_target.known_hosts));  // nothing auto-accepted
}

TEST_F(SshShellTest, ChangedHostKeyIsRefused) {
    // A known_hosts line for this host and port with another key (the user key's).
    std::ifstream pub(s_sshd->user_key().string() + ".pub");
    std::string type, key;
    pub >> type >> key;
    m_target.known_hosts = m_tmp / "other_known_hosts";
    std::ofstream(m_target.known_hosts)
        << "[127.0.0.1]:" << s_sshd->port() << " " << type << " " << key << "\n";
    auto r = shell()->run({"true"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::auth_failed);
    EXPECT_NE(r.error().message.find("man-in-the-middle"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().hint.find("cosmos hosts trust testhost"), std::string::npos);
}

TEST_F(SshShellTest, TrustThenConnect) {
    m_target.known_hosts = m_tmp / "home" / ".ssh" / "known_hosts";
    auto key = fetch_host_key(m_target);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->type, "ED25519");
    // The same fingerprint as OpenSSH's ssh-keygen prints.
    std::string cmd = "ssh-keygen -lf " + (s_sshd->dir() / "host_ed25519.pub").string();
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[512];
        while (fgets(buf, sizeof buf, p) != nullptr) {
            out += buf;
        }
        pclose(p);
    }
    EXPECT_NE(out.find(key->fingerprint), std::string::npos) << out << " vs " << key->fingerprint;
    EXPECT_EQ(key->known_hosts_line, s_sshd->known_hosts_line());
    ASSERT_FALSE(shell()->run({"true"}));
    ASSERT_TRUE(trust_host_key(m_target, *key));
    ASSERT_TRUE(trust_host_key(m_target, *key));  // no duplicate line
    struct stat st {};
    ASSERT_EQ(::stat(m_target.known_hosts.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat(m_target.known_hosts.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream in(m_target.known_hosts);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(all, key->known_hosts_line + "\n");
    auto r = shell()->run({"echo", "ok"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "ok\n");
}

TEST_F(SshShellTest, UnreachableAndRefusedAuthAreReported) {
    SshTarget dead = m_target;
    dead.port = 1;  // nothing listens there
    auto r = ssh_shell(dead)->run({"true"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::host_unreachable);
    EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;

    m_target.key = s_sshd->dir() / "host_ed25519";  // not an authorized key
    auto a = shell()->run({"true"});
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, ErrorCode::auth_failed);
    EXPECT_NE(a.error().message.find("refused user " + s_sshd->user()), std::string::npos)
        << a.error().message;
    EXPECT_NE(a.error().message.find("host_ed25519"), std::string::npos);
}

TEST_F(SshShellTest, UploadDownloadRoundTrip) {
    auto sh = shell();
    auto local = write_random(m_tmp / "in.bin", (5 << 20) + 123, 1);
    auto remote_dir = (m_tmp / "remote" / "a" / "b").string();
    ASSERT_TRUE(sh->make_dirs(remote_dir));
    std::string remote = remote_dir + "/in.bin";
    std::vector<TransferProgress> seen;
    auto sent = sh->upload(local, remote, [&](const TransferProgress& p) { seen.push_back(p); });
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, fs::file_size(local));
    EXPECT_EQ(*core::sha256_file(remote), *core::sha256_file(local));
    EXPECT_FALSE(fs::exists(remote + ".part"));
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().done, seen.back().total);

    auto back = m_tmp / "back" / "out.bin";
    auto got = sh->download(remote, back);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, fs::file_size(local));
    EXPECT_EQ(*core::sha256_file(back), *core::sha256_file(local));
    EXPECT_FALSE(fs::exists(back.string() + ".part"));

    auto empty = m_tmp / "empty";
    std::ofstream(empty).close();
    ASSERT_TRUE(sh->upload(empty, remote_dir + "/empty"));
    EXPECT_EQ(fs::file_size(remote_dir + "/empty"), 0u);
    auto missing = sh->download(remote_dir + "/nope", m_tmp / "nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(SshShellTest, UploadResumesAPartialPart) {
    auto local = write_random(m_tmp / "big.bin", 4 << 20, 2);
    std::string remote = (m_tmp / "dest.bin").string();
    {
        std::ifstream in(local, std::ios::binary);
        std::string head(3 << 20, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        std::ofstream(remote + ".part", std::ios::binary) << head;
    }
    auto sent = shell()->upload(local, remote);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, 1u << 20);  // only the rest
    EXPECT_EQ(*core::sha256_file(remote), *core::sha256_file(local));

    // A download resumes the same way from a local .part.
    auto back = m_tmp / "back.bin";
    {
        std::ifstream in(local, std::ios::binary);
        std::string head(1 << 20, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        std::ofstream(back.string() + ".part", std::ios::binary) << head;
    }
    auto got = shell()->download(remote, back);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, 3u << 20);
    EXPECT_EQ(*core::sha256_file(back), *core::sha256_file(local));
}

TEST_F(SshShellTest, CancelledUploadKeepsItsPartAndResumes) {
    auto local = write_random(m_tmp / "c.bin", 24 << 20, 5);
    std::string remote = (m_tmp / "c.remote").string();
    std::atomic<bool> cancel{false};
    auto sh = shell();
    sh->set_cancel_flag(&cancel);
    auto r = sh->upload(local, remote, [&](const TransferProgress& p) {
        if (p.done > 0) {
            cancel = true;
        }
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::interrupted);
    EXPECT_FALSE(fs::exists(remote));
    ASSERT_TRUE(fs::exists(remote + ".part"));
    auto kept = fs::file_size(remote + ".part");
    EXPECT_GT(kept, 0u);
    cancel = false;
    auto again = sh->upload(local, remote);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, fs::file_size(local) - kept);
    EXPECT_EQ(*core::sha256_file(remote), *core::sha256_file(local));
}

TEST_F(SshShellTest, UploadSurvivesSshdRestart) {
    auto local = m_tmp / "huge.bin";
    {
        // 200 MiB: random blocks, so nothing compresses and the transfer takes a while.
        std::ofstream out(local, std::ios::binary);
        std::string block = random_bytes(1 << 20, 3);
        for (int i = 0; i < 200; ++i) {
            block[0] = static_cast<char>(i);
            out << block;
        }
    }
    std::string remote = (m_tmp / "huge.remote").string();
    std::atomic<bool> triggered{false};
    std::thread restarter;
    auto sent = shell()->upload(local, remote, [&](const TransferProgress& p) {
        if (!triggered && p.done > p.total / 10) {
            triggered = true;
            restarter = std::thread([] {
                s_sshd->stop();
                std::this_thread::sleep_for(std::chrono::seconds(1));
                s_sshd->start();
            });
        }
    });
    if (restarter.joinable()) {
        restarter.join();
    }
    ASSERT_TRUE(triggered);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*core::sha256_file(remote), *core::sha256_file(local));
    EXPECT_FALSE(fs::exists(remote + ".part"));
}

TEST_F(SshShellTest, RunReconnectsAfterTheServerRestarted) {
    auto sh = shell();
    ASSERT_TRUE(sh->run({"true"}));
    s_sshd->stop();
    std::thread starter([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        s_sshd->start();
    });
    auto r = sh->run({"echo", "back"});
    starter.join();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "back\n");
}

TEST_F(SshShellTest, WriteReadStatListAndMakeDirs) {
    auto sh = shell();
    std::string dir = (m_tmp / "w" / "x").string();
    ASSERT_TRUE(sh->make_dirs(dir));
    ASSERT_TRUE(sh->make_dirs(dir));  // idempotent
    std::string file = dir + "/env file's \"name\".sh";
    ASSERT_TRUE(sh->write_file(file, "SECRET=1\n", 0600));
    ASSERT_TRUE(sh->write_file(file, "SECRET=2\n", 0600));  // replaces
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_TRUE(sh->write_file(dir + "/run.sh", "#!/bin/sh\n", 0755));
    ASSERT_EQ(::stat((dir + "/run.sh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u);

    auto content = sh->read_file(file);
    ASSERT_TRUE(content) << content.error().message;
    EXPECT_EQ(*content, "SECRET=2\n");
    auto too_big = sh->read_file(file, 4);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, ErrorCode::invalid_input);
    auto missing = sh->read_file(dir + "/missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);

    auto names = sh->list_dir(dir);
    ASSERT_TRUE(names) << names.error().message;
    EXPECT_EQ(*names, (std::vector<std::string>{"env file's \"name\".sh", "run.sh"}));
    auto no_dir = sh->list_dir(dir + "/nope");
    ASSERT_FALSE(no_dir);
    EXPECT_EQ(no_dir.error().code, ErrorCode::not_found);

    auto info = sh->stat(file);
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_TRUE(info->has_value());
    EXPECT_EQ((*info)->size, 9u);
    EXPECT_FALSE((*info)->is_dir);
    EXPECT_GT((*info)->mtime, 0);
    auto d = sh->stat(dir);
    ASSERT_TRUE(d && d->has_value());
    EXPECT_TRUE((*d)->is_dir);
    auto none = sh->stat(dir + "/nothing");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
}

TEST_F(SshShellTest, ShellsOfOneHostShareAConnectionAcrossThreads) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            auto sh = shell();
            for (int j = 0; j < 5; ++j) {
                auto r = sh->run({"echo", std::to_string(i * 10 + j)});
                if (r && r->out == std::to_string(i * 10 + j) + "\n") {
                    ++ok;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 20);
}

}  // namespace
}  // namespace cosmos::transport
