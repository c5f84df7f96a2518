// The pooled SSH connection: connect, verify the host key, authenticate, keep alive, reconnect.

#include "transport/ssh_connection.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <libssh/server.h>  // ssh_send_keepalive (a client call despite the header)

#include "core/log.hpp"
#include "transport/known_hosts.hpp"

namespace cosmos::transport::detail {

using core::ErrorCode;
using core::fail;
using Clock = std::chrono::steady_clock;

void ensure_libssh_initialised() {
    static std::once_flag once;
    std::call_once(once, [] { ssh_init(); });
}

void SessionFree::operator()(ssh_session s) const {
    if (ssh_is_connected(s) != 0) {
        ssh_disconnect(s);
    }
    ssh_free(s);
}

LiveSession::~LiveSession() {
    if (sftp != nullptr) {
        sftp_free(sftp);
    }
}

Channel::~Channel() {
    if (m_ch != nullptr) {
        ssh_channel_free(m_ch);  // closes it first when the session is still up
    }
}

std::string host_label(const SshTarget& t) {
    return t.port == 22 ? fmt::format("{} ({})", t.name, t.address)
                        : fmt::format("{} ([{}]:{})", t.name, t.address, t.port);
}

std::string key_type_label(ssh_key key) {
    switch (ssh_key_type(key)) {
        case SSH_KEYTYPE_ED25519:
            return "ED25519";
        case SSH_KEYTYPE_RSA:
            return "RSA";
        case SSH_KEYTYPE_ECDSA_P256:
        case SSH_KEYTYPE_ECDSA_P384:
        case SSH_KEYTYPE_ECDSA_P521:
            return "ECDSA";
        default: {
            const char* name = ssh_key_type_to_char(ssh_key_type(key));
            return name != nullptr ? name : "unknown";
        }
    }
}

std::string key_fingerprint(ssh_key key) {
    unsigned char* hash = nullptr;
    std::size_t len = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != SSH_OK) {
        return "SHA256:?";
    }
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    ssh_clean_pubkey_hash(&hash);
    std::string out = text != nullptr ? text : "SHA256:?";
    ssh_string_free_char(text);
    return out;
}

core::Result<SessionPtr> connect_transport(const SshTarget& t) {
    ensure_libssh_initialised();
    SessionPtr s(ssh_new());
    if (!s) {
        return fail(ErrorCode::internal, "ssh_new failed (out of memory)");
    }
    auto kh = known_hosts_path(t);
    unsigned int port = static_cast<unsigned int>(t.port);
    long timeout = static_cast<long>(t.connect_timeout.count());
    bool process_config = false;  // cosmos.toml is the one source of host settings
    int nodelay = 1;
    const char* home = std::getenv("HOME");
    std::string ssh_dir = home != nullptr ? std::string(home) + "/.ssh" : std::string();
    bool ok = ssh_options_set(s.get(), SSH_OPTIONS_HOST, t.address.c_str()) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &process_config) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_NODELAY, &nodelay) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, kh.c_str()) == 0 &&
              ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") == 0;
    if (ok && !t.user.empty()) {
        ok = ssh_options_set(s.get(), SSH_OPTIONS_USER, t.user.c_str()) == 0;
    }
    // AES-GCM first: with AES-NI it encrypts several times faster than chacha20-poly1305
    // (libssh's and OpenSSH's first choice), and bulk staging is bound by encryption.
    const char* ciphers =
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
        "aes128-ctr,aes192-ctr,aes256-ctr";
    if (ok) {
        ok = ssh_options_set(s.get(), SSH_OPTIONS_CIPHERS_C_S, ciphers) == 0 &&
             ssh_options_set(s.get(), SSH_OPTIONS_CIPHERS_S_C, ciphers) == 0;
    }
    if (ok && !ssh_dir.empty()) {  // libssh would take the passwd entry's home over $HOME
        ok = ssh_options_set(s.get(), SSH_OPTIONS_SSH_DIR, ssh_dir.c_str()) == 0;
    }
    if (!ok) {
        return fail(
            ErrorCode::config,
            fmt::format("invalid ssh settings for host {}: {}", t.name, ssh_get_error(s.get())));
    }
    if (ssh_connect(s.get()) != SSH_OK) {
        return fail(
            ErrorCode::host_unreachable,
            fmt::format("cannot connect to host {}: {}", host_label(t), ssh_get_error(s.get())),
            fmt::format("check that the host is up and that address and port in [hosts.{}] "
                        "are right",
                        t.name));
    }
    return s;
}

namespace {

core::Status check_host_key(const SshTarget& t, ssh_session s) {
    ssh_key raw = nullptr;
    if (ssh_get_server_publickey(s, &raw) != SSH_OK) {
        return fail(ErrorCode::host_unreachable,
                    fmt::format("host {} sent no host key: {}", host_label(t), ssh_get_error(s)));
    }
    KeyPtr key(raw);
    auto kh = known_hosts_path(t).string();
    std::string type = key_type_label(key.get());
    std::string fp = key_fingerprint(key.get());
    std::string hint =
        fmt::format("check the fingerprint, then run: cosmos hosts trust {}", t.name);
    // libssh skips marker lines: a @revoked key is refused here, as OpenSSH does.
    char* b64 = nullptr;
    if (ssh_pki_export_pubkey_base64(key.get(), &b64) != SSH_OK || b64 == nullptr) {
        return fail(ErrorCode::auth_failed,
                    fmt::format("cannot encode the host key of {}", host_label(t)));
    }
    std::string key_b64 = b64;
    ssh_string_free_char(b64);
    COSMOS_CHECK(check_not_revoked(known_hosts_path(t), key_b64, host_label(t)));
    switch (ssh_session_is_known_server(s)) {
        case SSH_KNOWN_HOSTS_OK:
            return {};
        case SSH_KNOWN_HOSTS_CHANGED:
        case SSH_KNOWN_HOSTS_OTHER:
            return fail(ErrorCode::auth_failed,
                        fmt::format("WARNING: host {} offered the {} key {}, which differs from "
                                    "the one recorded in {}: someone may be intercepting the "
                                    "connection (man-in-the-middle), or the host was reinstalled",
                                    host_label(t),
                                    type,
                                    fp,
                                    kh),
                        fmt::format("confirm the new fingerprint with the host's administrator, "
                                    "then run: cosmos hosts trust {} --replace",
                                    t.name));
        case SSH_KNOWN_HOSTS_NOT_FOUND:
        case SSH_KNOWN_HOSTS_UNKNOWN:
            return fail(ErrorCode::auth_failed,
                        fmt::format("host {} offered an unknown {} key {} (not in {})",
                                    host_label(t),
                                    type,
                                    fp,
                                    kh),
                        hint);
        case SSH_KNOWN_HOSTS_ERROR:
        default:
            return fail(ErrorCode::auth_failed,
                        fmt::format("cannot check the host key of {} against {}: {}",
                                    host_label(t),
                                    kh,
                                    ssh_get_error(s)),
                        hint);
    }
}

core::Status authenticate(const SshTarget& t, ssh_session s) {
    int rc = SSH_AUTH_DENIED;
    std::vector<std::string> tried;
    std::string key_problem;
    if (!t.key.empty()) {
        ssh_key raw = nullptr;
        // No passphrase callback: an encrypted key must come through ssh-agent.
        if (ssh_pki_import_privkey_file(t.key.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK) {
            key_problem =
                fmt::format("cannot load the key {} (missing, unreadable or passphrase-protected)",
                            t.key.string());
        } else {
            KeyPtr key(raw);
            rc = ssh_userauth_publickey(s, nullptr, key.get());
        }
        tried.push_back("key " + t.key.string());
    }
    const char* agent = std::getenv("SSH_AUTH_SOCK");
    if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && agent != nullptr && *agent != '\0') {
        rc = ssh_userauth_agent(s, nullptr);
        tried.emplace_back("ssh-agent");
    }
    if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && t.key.empty()) {
        rc = ssh_userauth_publickey_auto(s, nullptr, nullptr);
        tried.emplace_back("the default keys in ~/.ssh");
    }
    if (rc == SSH_AUTH_SUCCESS) {
        return {};
    }
    if (rc == SSH_AUTH_ERROR && ssh_is_connected(s) == 0) {
        return fail(ErrorCode::host_unreachable,
                    fmt::format("lost the connection to host {} while authenticating: {}",
                                host_label(t),
                                ssh_get_error(s)));
    }
    std::string how;
    for (const auto& x : tried) {
        how += (how.empty() ? "" : ", ") + x;
    }
    std::string msg = fmt::format("host {} refused user {} (tried {})",
                                  host_label(t),
                                  t.user,
                                  how.empty() ? "no key: none configured, no ssh-agent" : how);
    if (!key_problem.empty()) {
        msg += "; " + key_problem;
    }
    return fail(ErrorCode::auth_failed,
                msg,
                fmt::format("check user and key in [hosts.{}], and that the public key is in the "
                            "host's ~/.ssh/authorized_keys (passphrase-protected keys: ssh-add "
                            "them to a running ssh-agent)",
                            t.name));
}

}  // namespace

Connection::Connection(SshTarget target) : m_target(std::move(target)) {
    m_last_use = Clock::now();
    if (m_target.keepalive_interval_s > 0) {
        m_keepalive = std::thread([this] { keepalive_loop(); });
    }
}

Connection::~Connection() {
    {
        std::lock_guard<std::mutex> lk(m_ka_mutex);
        m_ka_stop = true;
    }
    m_ka_cv.notify_all();
    if (m_keepalive.joinable()) {
        m_keepalive.join();
    }
    std::lock_guard<std::mutex> lk(m_mutex);
    m_live.reset();
}

std::string Connection::describe() const {
    return fmt::format("{}@{}:{}", m_target.user, m_target.address, m_target.port);
}

// The keepalive runs on its own thread: libssh has no client keepalive, and an idle session
// processes nothing. Every interval, when the connection is idle and not in use, it sends a
// keepalive@openssh.com request and reads the answer, which also answers the server's own
// keepalives and notices a dead peer early (the next operation then reconnects first).
void Connection::keepalive_loop() {
    const auto interval = std::chrono::seconds(m_target.keepalive_interval_s);
    std::unique_lock<std::mutex> ka(m_ka_mutex);
    while (!m_ka_cv.wait_for(ka, interval, [this] { return m_ka_stop; })) {
        std::unique_lock<std::mutex> lk(m_mutex, std::try_to_lock);
        if (!lk.owns_lock() || !m_live || Clock::now() - m_last_use < interval) {
            continue;
        }
        ssh_session s = m_live->session.get();
        if (m_live->alive()) {
            ssh_send_keepalive(s);
            if (ssh_is_connected(s) == 0) {
                core::log(core::LogLevel::debug,
                          "ssh: the connection to {} died while idle",
                          host_label(m_target));
            }
        }
        m_last_use = Clock::now();
    }
}

core::Result<std::shared_ptr<LiveSession>> Connection::connect_once() {
    COSMOS_TRY(SessionPtr s, connect_transport(m_target));
    auto checked = check_host_key(m_target, s.get());
    if (!checked) {
        return fail(std::move(checked).error());
    }
    auto authed = authenticate(m_target, s.get());
    if (!authed) {
        return fail(std::move(authed).error());
    }
    auto live = std::make_shared<LiveSession>();
    live->session = std::move(s);
    core::log(core::LogLevel::debug, "ssh: connected to {}", host_label(m_target));
    return live;
}

core::Result<std::shared_ptr<LiveSession>> Connection::session(Clock::time_point deadline) {
    if (m_live && m_live->alive()) {
        touch();
        return m_live;
    }
    m_live.reset();
    if (!m_ever_connected) {
        COSMOS_TRY(auto live, connect_once());
        m_ever_connected = true;
        m_live = live;
        touch();
        return live;
    }
    const auto give_up = std::min(Clock::now() + m_target.reconnect_budget, deadline);
    auto delay = std::chrono::milliseconds(250);
    for (int attempt = 1;; ++attempt) {
        auto r = connect_once();
        if (r) {
            core::log(core::LogLevel::info,
                      "ssh: reconnected to {} (attempt {})",
                      host_label(m_target),
                      attempt);
            m_live = *r;
            touch();
            return r;
        }
        if (r.error().code != ErrorCode::host_unreachable || Clock::now() + delay > give_up) {
            auto e = std::move(r).error();
            if (e.code == ErrorCode::host_unreachable) {
                e.message = fmt::format(
                    "lost the connection to host {} and could not reconnect "
                    "within {} s: {}",
                    host_label(m_target),
                    m_target.reconnect_budget.count(),
                    e.message);
            }
            return fail(std::move(e));
        }
        core::log(core::LogLevel::warn,
                  "ssh: connection to {} lost; retrying in {} ms",
                  host_label(m_target),
                  delay.count());
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(8000));
    }
}

bool Connection::lost() const {
    return !m_live || !m_live->alive();
}

core::Result<std::unique_ptr<Channel>> Connection::open_channel() {
    COSMOS_TRY(auto live, session());
    ssh_channel ch = ssh_channel_new(live->session.get());
    if (ch == nullptr) {
        return fail(error("opening a channel"));
    }
    auto channel = std::make_unique<Channel>(live, ch);
    if (ssh_channel_open_session(ch) != SSH_OK) {
        return fail(error("opening a channel"));
    }
    return channel;
}

core::Result<sftp_session> Connection::sftp() {
    COSMOS_TRY(auto live, session());
    if (live->sftp != nullptr) {
        return live->sftp;
    }
    sftp_session sftp = sftp_new(live->session.get());
    if (sftp == nullptr) {
        return fail(error("starting SFTP"));
    }
    if (sftp_init(sftp) != SSH_OK) {
        auto e = error("starting SFTP (is the sftp subsystem enabled in sshd_config?)");
        sftp_free(sftp);
        return fail(std::move(e));
    }
    live->sftp = sftp;
    return sftp;
}

core::Error Connection::error(std::string_view what) const {
    const char* detail = m_live ? ssh_get_error(m_live->session.get()) : "not connected";
    if (lost()) {
        return core::make_error(
            ErrorCode::host_unreachable,
            fmt::format(
                "lost the connection to host {} while {}: {}", host_label(m_target), what, detail),
            "the host or the network went away; retry when it is back");
    }
    return core::make_error(ErrorCode::remote_failed,
                            fmt::format("{} on host {} failed: {}", what, m_target.name, detail));
}

core::Error Connection::sftp_error(std::string_view what, std::string_view path) const {
    if (lost()) {
        return error(fmt::format("{} {}", what, path));
    }
    int code = m_live->sftp != nullptr ? sftp_get_error(m_live->sftp) : -1;
    switch (code) {
        case SSH_FX_NO_SUCH_FILE:
        case SSH_FX_NO_SUCH_PATH:
            return core::make_error(
                ErrorCode::not_found,
                fmt::format("{} {} on host {}: no such file", what, path, m_target.name));
        case SSH_FX_PERMISSION_DENIED:
            return core::make_error(
                ErrorCode::remote_failed,
                fmt::format("{} {} on host {}: permission denied", what, path, m_target.name));
        default:
            return core::make_error(ErrorCode::remote_failed,
                                    fmt::format("{} {} on host {} failed: {} (sftp status {})",
                                                what,
                                                path,
                                                m_target.name,
                                                ssh_get_error(m_live->session.get()),
                                                code));
    }
}

}  // namespace cosmos::transport::detail
