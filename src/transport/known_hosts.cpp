// Host keys for `cosmos hosts trust`: fetching the key a host offers, and recording it in an
// OpenSSH known_hosts file that both cosmos and OpenSSH's ssh read.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "transport/ssh_connection.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::transport {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

fs::path known_hosts_path(const SshTarget& target) {
    if (!target.known_hosts.empty()) {
        return target.known_hosts;
    }
    const char* home = std::getenv("HOME");
    std::string dir = home != nullptr && *home != '\0' ? home : "";
    if (dir.empty()) {
        if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
            dir = pw->pw_dir;
        }
    }
    return fs::path(dir) / ".ssh" / "known_hosts";
}

core::Result<HostKey> fetch_host_key(const SshTarget& target) {
    COSMOS_TRY(detail::SessionPtr s, detail::connect_transport(target));
    ssh_key raw = nullptr;
    if (ssh_get_server_publickey(s.get(), &raw) != SSH_OK) {
        return fail(ErrorCode::host_unreachable,
                    fmt::format("host {} sent no host key: {}",
                                detail::host_label(target),
                                ssh_get_error(s.get())));
    }
    detail::KeyPtr key(raw);
    HostKey out;
    out.type = detail::key_type_label(key.get());
    out.fingerprint = detail::key_fingerprint(key.get());
    char* entry = nullptr;
    if (ssh_session_export_known_hosts_entry(s.get(), &entry) != SSH_OK || entry == nullptr) {
        return fail(ErrorCode::internal,
                    fmt::format("cannot format the known_hosts line of {}: {}",
                                detail::host_label(target),
                                ssh_get_error(s.get())));
    }
    out.known_hosts_line = entry;
    ssh_string_free_char(entry);
    while (!out.known_hosts_line.empty() &&
           (out.known_hosts_line.back() == '\n' || out.known_hosts_line.back() == '\r')) {
        out.known_hosts_line.pop_back();
    }
    return out;
}

core::Status trust_host_key(const SshTarget& target, const HostKey& key) {
    const std::string& line = key.known_hosts_line;
    if (line.empty() || line.find_first_of("\r\n") != std::string::npos) {
        return fail(ErrorCode::invalid_input, "not a known_hosts line");
    }
    fs::path file = known_hosts_path(target);
    fs::path dir = file.parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec || ::chmod(dir.c_str(), 0700) != 0) {
            return fail(ErrorCode::io,
                        fmt::format("cannot create {}: {}",
                                    dir.string(),
                                    ec ? ec.message() : std::strerror(errno)));
        }
    }
    std::string existing;
    {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        existing = ss.str();
    }
    std::istringstream lines(existing);
    for (std::string l; std::getline(lines, l);) {
        if (l == line) {
            return {};
        }
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
    std::string add = (!existing.empty() && existing.back() != '\n' ? "\n" : "") + line + "\n";
    bool ok = ::write(fd, add.data(), add.size()) == static_cast<ssize_t>(add.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) {
        return fail(ErrorCode::io, fmt::format("cannot write {}", file.string()));
    }
    return {};
}

}  // namespace cosmos::transport
