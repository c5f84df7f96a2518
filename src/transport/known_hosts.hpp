#pragma once
// `cosmos hosts trust` and the host-key check's view of known_hosts: what trusting a key would
// change, recording or replacing it, and refusing a key marked @revoked (see docs/ssh.md).

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::transport {

// A key recorded for the host that is not the one it offers now.
struct OldKey {
    std::size_t line = 0;     // in the known_hosts file
    std::string type;         // "ssh-ed25519"
    std::string fingerprint;  // "SHA256:..."
};

// What trusting a key would do to the target's known_hosts file.
struct TrustPlan {
    enum class State {
        unknown,  // the host has no key there: the key is added
        trusted,  // this key is there already: nothing to do
        changed,  // the host has other keys there (old_keys): only a replacement trusts it
        revoked,  // the key is on a @revoked line (revoked_line): never trusted
    };
    State state = State::unknown;
    std::vector<OldKey> old_keys;
    std::size_t revoked_line = 0;
};

// Reads the target's known_hosts file (missing: empty) and says what trusting `key` means.
core::Result<TrustPlan> plan_trust(const SshTarget& target, const HostKey& key);

// Records `key` in the target's known_hosts file (creating ~/.ssh with mode 0700 and the file
// with 0600 when missing): nothing when it is there already; added when the host has no key
// there; with `replace`, in place of the host's other keys (lines naming the host exactly,
// plain or hashed) when it has some, which fails with auth_failed without `replace`. Every
// other line (comments, other hosts, markers) is kept as it was; the file is replaced
// atomically. A key on a @revoked line fails with auth_failed.
core::Status trust_host_key(const SshTarget& target, const HostKey& key, bool replace);

// Fails with auth_failed when `key_base64` is on a @revoked line of `known_hosts` (OpenSSH
// refuses such a key whatever else the file says); a missing file revokes nothing.
core::Status check_not_revoked(const std::filesystem::path& known_hosts,
                               std::string_view key_base64,
                               std::string_view host_label);

}  // namespace cosmos::transport
