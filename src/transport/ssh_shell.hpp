#pragma once
// The Shell of an SSH host, over libssh: commands on exec channels, files over SFTP, strict
// host-key checking against an OpenSSH known_hosts file, key-file and ssh-agent authentication,
// keepalive, and reconnection with backoff. See docs/ssh.md for the user-facing behaviour.
//
// Thread safety: ssh_shell() hands out Shells that share one pooled connection per
// (user, address, port) in the process; every call on any of them may come from any thread.
// libssh calls on that connection are serialised by its mutex, held per step (a poll, a batch of
// SFTP requests), so a long transfer or a `tail -f` stream does not block the other channels.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "transport/shell.hpp"

namespace cosmos::transport {

struct SshTarget {
    std::string name;     // the cosmos host name, for messages and hints
    std::string address;  // host name or IP address
    int port = 22;
    std::string user;
    std::filesystem::path key;          // private key file; empty: ssh-agent, then default keys
    std::filesystem::path known_hosts;  // empty: ~/.ssh/known_hosts
    std::chrono::seconds connect_timeout{10};
    int keepalive_interval_s = 15;  // an idle connection gets an SSH_MSG_IGNORE this often; 0: off
    std::chrono::seconds reconnect_budget{90};  // total time spent reconnecting with backoff
};

// Returns the Shell of `target`. Shells of the same (user, address, port) share one connection,
// opened on first use (so this never fails) and reopened with backoff when found dead; while
// that connection lives (as long as one of its Shells does) the settings it was made with are
// used (key, known_hosts, timeouts), so give one host one SshTarget.
std::shared_ptr<Shell> ssh_shell(const SshTarget& target);

struct HostKey {
    std::string type;              // as OpenSSH prints it: "ED25519", "RSA", "ECDSA"
    std::string fingerprint;       // "SHA256:..." as `ssh-keygen -lf` prints it
    std::string known_hosts_line;  // "[addr]:port ssh-ed25519 AAAA..." (plain addr for port 22)
};

// Connects to `target` and returns the key it offers, without authenticating or checking it
// against known_hosts (for `cosmos hosts trust`). Fails with host_unreachable.
core::Result<HostKey> fetch_host_key(const SshTarget& target);

// As trust_host_key(target, key, false) (transport/known_hosts.hpp): records a new key, refuses
// (auth_failed) a changed or @revoked one. The line uses the "[addr]:port" form for ports other
// than 22 (plain addr on 22), so OpenSSH's ssh accepts the same file.
core::Status trust_host_key(const SshTarget& target, const HostKey& key);

// The known_hosts file used for `target` (its known_hosts, or $HOME/.ssh/known_hosts).
std::filesystem::path known_hosts_path(const SshTarget& target);

}  // namespace cosmos::transport
