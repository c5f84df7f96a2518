#pragma once
// The text of an OpenSSH known_hosts file, as `cosmos hosts trust` and the host-key check read
// and edit it: entries with their host patterns (plain, wildcard, negated, or hashed "|1|"),
// the @revoked and @cert-authority markers, and a replacement of one host's keys that leaves
// every other line (comments, hashed entries, markers) byte for byte as it was. Pure: no I/O.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::transport::known_hosts {

struct Entry {
    std::size_t line = 0;  // 1-based line number in the file
    std::string marker;    // "@revoked", "@cert-authority" or ""
    std::string hosts;     // the host patterns field
    std::string type;      // "ssh-ed25519", ...
    std::string key;       // the key, base64 as in the file
};

// The entries of `text` (comments, blank and malformed lines are no entries).
std::vector<Entry> parse(std::string_view text);

// How `patterns` (a known_hosts host field) names `host` ("addr", or "[addr]:port" for a port
// other than 22): not at all, through a wildcard pattern only, or literally (a plain or a hashed
// pattern). A negated pattern that matches makes it `none`.
enum class Match { none, wildcard, exact };
Match match_host(std::string_view patterns, std::string_view host);

// "SHA256:..." of a base64 key blob, as `ssh-keygen -l` prints it ("SHA256:?" when it does not
// decode).
std::string fingerprint(std::string_view key_base64);

// The @revoked entry for the key `key_base64`, whatever hosts it names (a revoked key is refused
// for every host); nullptr when there is none.
const Entry* find_revoked(const std::vector<Entry>& entries, std::string_view key_base64);

// The entries without a marker that name `host` (exactly or through a wildcard).
std::vector<Entry> keys_for_host(const std::vector<Entry>& entries, std::string_view host);

// Returns `text` with every unmarked entry naming `host` exactly removed and `new_line` in the
// place of the first of them (at the end when there is none). Fails with conflict when an entry
// names `host` only through a wildcard pattern (it names other hosts too: edit it by hand).
core::Result<std::string> replace_host(std::string_view text,
                                       std::string_view host,
                                       std::string_view new_line);

}  // namespace cosmos::transport::known_hosts
