#include "support/sshd.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cosmos::test {

namespace fs = std::filesystem;

namespace {

int run_quiet(std::vector<std::string> argv) {
    std::vector<char*> c;
    for (auto& a : argv) {
        c.push_back(a.data());
    }
    c.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, c[0], &fa, nullptr, c.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        return -1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void keygen(const fs::path& key) {
    fs::remove(key);
    fs::remove(fs::path(key.string() + ".pub"));
    if (run_quiet({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string()}) !=
        0) {
        throw std::runtime_error("ssh-keygen failed for " + key.string());
    }
}

int free_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        close(s);
        throw std::runtime_error("no free port");
    }
    close(s);
    return ntohs(a.sin_port);
}

bool port_open(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    return ok;
}

// Every process whose ancestry leads to `root` (from /proc).
std::set<pid_t> descendants(pid_t root) {
    std::map<pid_t, pid_t> parent;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(e.path() / "stat");
        std::string line;
        std::getline(in, line);
        auto close_paren = line.rfind(')');
        if (close_paren == std::string::npos) {
            continue;
        }
        std::istringstream rest(line.substr(close_paren + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        parent[std::stoi(name)] = ppid;
    }
    std::set<pid_t> out;
    bool grew = true;
    while (grew) {
        grew = false;
        for (const auto& [pid, ppid] : parent) {
            if ((ppid == root || out.count(ppid) != 0) && out.insert(pid).second) {
                grew = true;
            }
        }
    }
    return out;
}

}  // namespace

bool TestSshd::available() {
    return fs::exists("/usr/sbin/sshd") && fs::exists("/usr/bin/ssh-keygen");
}

TestSshd::TestSshd() {
    keygen(m_dir / "host_ed25519");
    keygen(m_dir / "user_ed25519");
    fs::copy_file(m_dir / "user_ed25519.pub", m_dir / "authorized_keys");
    m_port = free_port();
    std::ofstream cfg(m_dir / "sshd_config");
    cfg << "Port " << m_port << "\n"
        << "ListenAddress 127.0.0.1\n"
        << "HostKey " << (m_dir / "host_ed25519").string() << "\n"
        << "PidFile " << (m_dir / "sshd.pid").string() << "\n"
        << "AuthorizedKeysFile " << (m_dir / "authorized_keys").string() << "\n"
        << "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        << "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nMaxSessions 64\n"
        << "Subsystem sftp internal-sftp\nLogLevel VERBOSE\n";
}

TestSshd::~TestSshd() {
    stop();
}

std::string TestSshd::user() const {
    const passwd* pw = getpwuid(getuid());
    return pw != nullptr ? pw->pw_name : "root";
}

void TestSshd::start() {
    if (m_pid > 0) {
        return;
    }
    fs::create_directories("/run/sshd");
    std::vector<std::string> argv = {"/usr/sbin/sshd",
                                     "-D",
                                     "-f",
                                     (m_dir / "sshd_config").string(),
                                     "-E",
                                     (m_dir / "sshd.log").string()};
    std::vector<char*> c;
    for (auto& a : argv) {
        c.push_back(a.data());
    }
    c.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&m_pid, c[0], &fa, nullptr, c.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        m_pid = -1;
        throw std::runtime_error("cannot start sshd");
    }
    for (int i = 0; i < 250; ++i) {
        if (port_open(m_port)) {
            return;
        }
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            throw std::runtime_error("sshd exited at start; see " + (m_dir / "sshd.log").string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("sshd did not open its port");
}

void TestSshd::stop() {
    if (m_pid <= 0) {
        return;
    }
    kill(m_pid, SIGTERM);
    for (pid_t child : descendants(m_pid)) {
        kill(child, SIGKILL);
    }
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
}

void TestSshd::regenerate_host_key() {
    keygen(m_dir / "host_ed25519");
}

std::string TestSshd::known_hosts_line() const {
    std::ifstream in(m_dir / "host_ed25519.pub");
    std::string type, key;
    in >> type >> key;
    return "[127.0.0.1]:" + std::to_string(m_port) + " " + type + " " + key;
}

fs::path TestSshd::write_known_hosts(const fs::path& path) const {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << known_hosts_line() << "\n";
    return path;
}

}  // namespace cosmos::test
