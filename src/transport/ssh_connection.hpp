#pragma once
// Internal to the SSH transport: RAII over libssh handles and the pooled, reconnecting
// connection that SshShell runs its channels on. Not included outside src/transport/ssh_*.cpp
// and sftp_*.cpp.
//
// Locking: every libssh call on a connection's session, its channels and its SFTP session is
// made with Connection::mutex() held. Channels keep the session generation they were opened on
// alive (shared_ptr), so a reconnect made by another thread never frees a session under a
// channel; such a channel just fails (its session is disconnected) and its owner sees the loss.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "core/result.hpp"
#include "transport/ssh_shell.hpp"

// Returns the error of the Status `expr` from the enclosing function (Status or Result<T>).
#define COSMOS_SSH_CHECK(expr)                                              \
    do {                                                                    \
        auto cosmos_ssh_st_ = (expr);                                       \
        if (!cosmos_ssh_st_) {                                              \
            return ::cosmos::core::fail(std::move(cosmos_ssh_st_).error()); \
        }                                                                   \
    } while (0)

namespace cosmos::transport::detail {

// Calls ssh_init() once per process, thread-safely.
void ensure_libssh_initialised();

struct KeyFree {
    void operator()(ssh_key k) const { ssh_key_free(k); }
};
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyFree>;

struct SftpAttrFree {
    void operator()(sftp_attributes a) const { sftp_attributes_free(a); }
};
using SftpAttrPtr = std::unique_ptr<sftp_attributes_struct, SftpAttrFree>;

struct SftpFileClose {
    void operator()(sftp_file f) const { sftp_close(f); }
};
using SftpFilePtr = std::unique_ptr<sftp_file_struct, SftpFileClose>;

struct SftpDirClose {
    void operator()(sftp_dir d) const { sftp_closedir(d); }
};
using SftpDirPtr = std::unique_ptr<sftp_dir_struct, SftpDirClose>;

struct SessionFree {
    void operator()(ssh_session s) const;  // disconnects, then frees
};
using SessionPtr = std::unique_ptr<ssh_session_struct, SessionFree>;

// One connected, authenticated session (one generation of a Connection) and its lazily opened
// SFTP session. Freed when the connection has moved on and no channel still refers to it.
struct LiveSession {
    SessionPtr session;
    sftp_session sftp = nullptr;
    // Set when an operation gave up on this session (a stalled peer libssh still thinks is
    // connected); the connection then opens a new one. ssh_disconnect is never called while
    // channels exist: it frees them.
    bool broken = false;
    bool alive() const { return !broken && ssh_is_connected(session.get()) != 0; }
    ~LiveSession();
    LiveSession() = default;
    LiveSession(const LiveSession&) = delete;
    LiveSession& operator=(const LiveSession&) = delete;
};

// An open channel; frees itself before its session. Destroy it with the connection's mutex held.
class Channel {
public:
    Channel(std::shared_ptr<LiveSession> owner, ssh_channel ch)
        : m_owner(std::move(owner)), m_ch(ch) {}
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    ssh_channel get() const { return m_ch; }
    ssh_session session() const { return m_owner->session.get(); }
    // True while the session this channel lives on is still connected.
    bool session_alive() const { return m_owner->alive(); }
    // Gives up on the session (see LiveSession::broken).
    void mark_broken() { m_owner->broken = true; }

private:
    std::shared_ptr<LiveSession> m_owner;
    ssh_channel m_ch;
};

class Connection {
public:
    explicit Connection(SshTarget target);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    const SshTarget& target() const { return m_target; }
    std::mutex& mutex() { return m_mutex; }
    // "user@address:port".
    std::string describe() const;

    // [lock held] Returns the live session, connecting on first use; a session that was
    // connected and died is reopened with exponential backoff (0.25 s doubling to 8 s) within
    // the reconnect budget, or until `deadline` when it is earlier. Host-key and authentication
    // refusals are never retried.
    core::Result<std::shared_ptr<LiveSession>> session(
        std::chrono::steady_clock::time_point deadline =
            std::chrono::steady_clock::time_point::max());

    // [lock held] Opens an exec-capable session channel.
    core::Result<std::unique_ptr<Channel>> open_channel();

    // [lock held] The SFTP session of the live session, started on first use.
    core::Result<sftp_session> sftp();

    // [lock held] True when the session in use is gone (never connected, or disconnected).
    bool lost() const;

    // [lock held] The error for a failed libssh call `what` on this connection:
    // host_unreachable "lost the connection to ..." when the session died, else remote_failed.
    core::Error error(std::string_view what) const;
    // [lock held] The error for a failed SFTP call on `path`: not_found for missing files,
    // remote_failed (permission denied...) or host_unreachable when the connection died.
    core::Error sftp_error(std::string_view what, std::string_view path) const;

    // [lock held] Notes activity, so the keepalive stays quiet.
    void touch() { m_last_use = std::chrono::steady_clock::now(); }

private:
    core::Result<std::shared_ptr<LiveSession>> connect_once();
    void keepalive_loop();

    SshTarget m_target;
    std::mutex m_mutex;
    std::shared_ptr<LiveSession> m_live;
    bool m_ever_connected = false;
    std::chrono::steady_clock::time_point m_last_use;

    std::mutex m_ka_mutex;
    std::condition_variable m_ka_cv;
    bool m_ka_stop = false;
    std::thread m_keepalive;
};

// Opens an unauthenticated session to `target` and completes the key exchange (no host-key
// check): used by fetch_host_key and by Connection before its own check.
core::Result<SessionPtr> connect_transport(const SshTarget& target);

// The type as OpenSSH prints it ("ED25519") and the "SHA256:..." fingerprint of `key`.
std::string key_type_label(ssh_key key);
std::string key_fingerprint(ssh_key key);

// "NAME ([addr]:port)" or "NAME (addr)" for messages.
std::string host_label(const SshTarget& target);

}  // namespace cosmos::transport::detail
