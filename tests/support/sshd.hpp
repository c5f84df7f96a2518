#pragma once
// A real OpenSSH server on 127.0.0.1 for tests (recipe: docs/testing.md):
// ed25519 host and user keys made with ssh-keygen in a temp dir, a private sshd_config, and
// /usr/sbin/sshd -D as a child process. stop() also kills the per-connection sshd processes,
// so open connections really drop (stopping only the listener would leave them up).

#include <filesystem>
#include <string>

#include <sys/types.h>

#include "support/temp_dir.hpp"

namespace cosmos::test {

class TestSshd {
public:
    // Generates the keys and the config (throws std::runtime_error when ssh-keygen fails).
    TestSshd();
    ~TestSshd();
    TestSshd(const TestSshd&) = delete;
    TestSshd& operator=(const TestSshd&) = delete;

    // True when /usr/sbin/sshd and ssh-keygen exist (tests skip otherwise).
    static bool available();

    // Starts sshd on port() and waits until it accepts connections; throws on failure.
    void start();
    // Kills the listener and every sshd process it forked; start() may be called again.
    void stop();
    // Replaces the host key with a new one (restart to use it).
    void regenerate_host_key();

    int port() const { return m_port; }
    const std::filesystem::path& dir() const { return m_dir.path(); }
    std::filesystem::path user_key() const { return m_dir / "user_ed25519"; }
    std::string user() const;
    // "[127.0.0.1]:PORT ssh-ed25519 AAAA..." for a known_hosts file.
    std::string known_hosts_line() const;
    // Writes known_hosts_line() to `path` (replacing it); returns path.
    std::filesystem::path write_known_hosts(const std::filesystem::path& path) const;

private:
    TempDir m_dir;
    int m_port = 0;
    pid_t m_pid = -1;
};

}  // namespace cosmos::test
