#include "transport/known_hosts_file.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace cosmos::transport::known_hosts {

using core::ErrorCode;
using core::fail;

namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        if (i > start) {
            out.push_back(line.substr(start, i - start));
        }
    }
    return out;
}

// The lines of `text` without their '\n' (a last line without one included).
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0) {
        return {};
    }
    std::string out(in.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0) {
        return {};
    }
    std::size_t pad = in.size() - in.find_last_not_of('=') - 1;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

std::string base64_encode(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// OpenSSH's hashed host: |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
bool hashed_matches(std::string_view pattern, std::string_view host) {
    std::string_view rest = pattern.substr(3);
    std::size_t bar = rest.find('|');
    if (bar == std::string_view::npos) {
        return false;
    }
    std::string salt = base64_decode(rest.substr(0, bar));
    std::string want = base64_decode(rest.substr(bar + 1));
    if (salt.empty() || want.empty()) {
        return false;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    if (HMAC(EVP_sha1(),
             salt.data(),
             static_cast<int>(salt.size()),
             reinterpret_cast<const unsigned char*>(host.data()),
             host.size(),
             mac.data(),
             &len) == nullptr) {
        return false;
    }
    return want.size() == len && want == std::string_view(reinterpret_cast<char*>(mac.data()), len);
}

// Glob match with '*' and '?' (OpenSSH's host patterns).
bool glob(std::string_view pattern, std::string_view text) {
    if (pattern.empty()) {
        return text.empty();
    }
    if (pattern.front() == '*') {
        for (std::size_t i = 0; i <= text.size(); ++i) {
            if (glob(pattern.substr(1), text.substr(i))) {
                return true;
            }
        }
        return false;
    }
    if (text.empty()) {
        return false;
    }
    return (pattern.front() == '?' || pattern.front() == text.front()) &&
           glob(pattern.substr(1), text.substr(1));
}

}  // namespace

std::vector<Entry> parse(std::string_view text) {
    std::vector<Entry> out;
    auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto f = fields_of(lines[i]);
        if (f.empty() || f[0].front() == '#') {
            continue;
        }
        Entry e;
        e.line = i + 1;
        std::size_t at = 0;
        if (f[0].front() == '@') {
            e.marker = std::string(f[0]);
            at = 1;
        }
        if (f.size() < at + 3) {
            continue;
        }
        e.hosts = std::string(f[at]);
        e.type = std::string(f[at + 1]);
        e.key = std::string(f[at + 2]);
        out.push_back(std::move(e));
    }
    return out;
}

Match match_host(std::string_view patterns, std::string_view host) {
    if (patterns.rfind("|1|", 0) == 0) {
        return hashed_matches(patterns, host) ? Match::exact : Match::none;
    }
    Match found = Match::none;
    std::size_t start = 0;
    while (start <= patterns.size()) {
        std::size_t end = patterns.find(',', start);
        if (end == std::string_view::npos) {
            end = patterns.size();
        }
        std::string_view p = patterns.substr(start, end - start);
        bool negated = !p.empty() && p.front() == '!';
        if (negated) {
            p.remove_prefix(1);
        }
        if (!p.empty() && glob(p, host)) {
            if (negated) {
                return Match::none;
            }
            bool wild = p.find_first_of("*?") != std::string_view::npos;
            if (!wild || found == Match::none) {
                found = wild ? Match::wildcard : Match::exact;
            }
        }
        start = end + 1;
    }
    return found;
}

std::string fingerprint(std::string_view key_base64) {
    std::string blob = base64_decode(key_base64);
    if (blob.empty()) {
        return "SHA256:?";
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(blob.data(), blob.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        return "SHA256:?";
    }
    std::string b64 = base64_encode(std::string_view(reinterpret_cast<char*>(md.data()), len));
    while (!b64.empty() && b64.back() == '=') {
        b64.pop_back();
    }
    return "SHA256:" + b64;
}

const Entry* find_revoked(const std::vector<Entry>& entries, std::string_view key_base64) {
    for (const auto& e : entries) {
        if (e.marker == "@revoked" && e.key == key_base64) {
            return &e;
        }
    }
    return nullptr;
}

std::vector<Entry> keys_for_host(const std::vector<Entry>& entries, std::string_view host) {
    std::vector<Entry> out;
    for (const auto& e : entries) {
        if (e.marker.empty() && match_host(e.hosts, host) != Match::none) {
            out.push_back(e);
        }
    }
    return out;
}

core::Result<std::string> replace_host(std::string_view text,
                                       std::string_view host,
                                       std::string_view new_line) {
    std::vector<bool> drop;
    for (const auto& e : parse(text)) {
        if (!e.marker.empty()) {
            continue;
        }
        Match m = match_host(e.hosts, host);
        if (m == Match::wildcard) {
            return fail(ErrorCode::conflict,
                        fmt::format("line {} of known_hosts names {} through the pattern '{}', "
                                    "which names other hosts too: it is not replaced",
                                    e.line,
                                    host,
                                    e.hosts),
                        "edit that line by hand (ssh-keygen -R removes only exact names)");
        }
        if (m == Match::exact) {
            drop.resize(std::max(drop.size(), e.line), false);
            drop[e.line - 1] = true;
        }
    }
    std::string out;
    bool placed = false;
    auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i < drop.size() && drop[i]) {
            if (!placed) {
                out.append(new_line).push_back('\n');
                placed = true;
            }
            continue;
        }
        out.append(lines[i]).push_back('\n');
    }
    if (!placed) {
        out.append(new_line).push_back('\n');
    }
    return out;
}

}  // namespace cosmos::transport::known_hosts
