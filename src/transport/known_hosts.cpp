// Host keys for `cosmos hosts trust`: fetching the key a host offers, and recording it in an
// OpenSSH known_hosts file that both cosmos and OpenSSH's ssh read.

#include "transport/known_hosts.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "core/temp_name.hpp"
#include "transport/known_hosts_file.hpp"
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

namespace {

// The host field of a key's known_hosts line: "addr" or "[addr]:port".
std::string host_field(const HostKey& key) {
    return key.known_hosts_line.substr(0, key.known_hosts_line.find(' '));
}

// The key of a key's known_hosts line ("HOST TYPE BASE64"), base64 as the file has it.
std::string key_base64(const HostKey& key) {
    auto entries = known_hosts::parse(key.known_hosts_line);
    return entries.empty() ? std::string() : entries.front().key;
}

core::Result<std::string> read_known_hosts(const fs::path& file) {
    auto text = core::read_file(file, core::kKnownHostsMax, "known_hosts file");
    if (!text && text.error().code == ErrorCode::not_found) {
        return std::string();
    }
    return text;
}

core::Status ensure_ssh_dir(const fs::path& dir) {
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
    return {};
}

// Replaces `file` by `text` atomically (a temporary file in the same folder, fsynced, renamed
// over it), keeping the file's mode (0600 for a new one).
core::Status write_atomically(const fs::path& file, const std::string& text) {
    struct stat st {};
    mode_t mode = ::stat(file.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0600;
    fs::path tmp = core::temp_sibling(file.string());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    }
    bool ok = ::fchmod(fd, mode) == 0 &&
              ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", file.string(), std::strerror(err)));
    }
    return {};
}

}  // namespace

core::Status check_not_revoked(const fs::path& known_hosts,
                               std::string_view key_base64,
                               std::string_view host_label) {
    COSMOS_TRY(std::string text, read_known_hosts(known_hosts));
    auto entries = known_hosts::parse(text);
    if (const auto* revoked = known_hosts::find_revoked(entries, key_base64)) {
        return fail(ErrorCode::auth_failed,
                    fmt::format("host {} offered the key {}, which line {} of {} marks "
                                "@revoked: refusing to connect",
                                host_label,
                                known_hosts::fingerprint(key_base64),
                                revoked->line,
                                known_hosts.string()),
                    "the key was revoked on purpose: ask the host's administrator for its "
                    "new key");
    }
    return {};
}

core::Result<TrustPlan> plan_trust(const SshTarget& target, const HostKey& key) {
    fs::path file = known_hosts_path(target);
    COSMOS_TRY(std::string text, read_known_hosts(file));
    auto entries = known_hosts::parse(text);
    TrustPlan plan;
    if (const auto* revoked = known_hosts::find_revoked(entries, key_base64(key))) {
        plan.state = TrustPlan::State::revoked;
        plan.revoked_line = revoked->line;
        return plan;
    }
    for (auto& e : known_hosts::keys_for_host(entries, host_field(key))) {
        if (e.key == key_base64(key)) {
            plan.state = TrustPlan::State::trusted;
            return plan;
        }
        plan.old_keys.push_back(OldKey{e.line, e.type, known_hosts::fingerprint(e.key)});
    }
    plan.state = plan.old_keys.empty() ? TrustPlan::State::unknown : TrustPlan::State::changed;
    return plan;
}

core::Status trust_host_key(const SshTarget& target, const HostKey& key, bool replace) {
    const std::string& line = key.known_hosts_line;
    if (line.empty() || line.find_first_of("\r\n") != std::string::npos) {
        return fail(ErrorCode::invalid_input, "not a known_hosts line");
    }
    COSMOS_TRY(auto plan, plan_trust(target, key));
    fs::path file = known_hosts_path(target);
    switch (plan.state) {
        case TrustPlan::State::trusted:
            return {};
        case TrustPlan::State::revoked:
            return fail(ErrorCode::auth_failed,
                        fmt::format("the key {} is marked @revoked on line {} of {}: it is "
                                    "never trusted",
                                    key.fingerprint,
                                    plan.revoked_line,
                                    file.string()));
        case TrustPlan::State::changed:
            if (!replace) {
                return fail(ErrorCode::auth_failed,
                            fmt::format("{} already has another key in {}: replacing it needs "
                                        "--replace",
                                        target.name,
                                        file.string()));
            }
            break;
        case TrustPlan::State::unknown:
            break;
    }
    COSMOS_CHECK(ensure_ssh_dir(file.parent_path()));
    COSMOS_TRY(std::string text, read_known_hosts(file));
    if (!text.empty() && text.back() != '\n') {
        text += '\n';
    }
    COSMOS_TRY(std::string updated, known_hosts::replace_host(text, host_field(key), line));
    return write_atomically(file, updated);
}

core::Status trust_host_key(const SshTarget& target, const HostKey& key) {
    return trust_host_key(target, key, false);
}

}  // namespace cosmos::transport
