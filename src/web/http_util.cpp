// The pure pieces of the HTTP layer (http_util.hpp).

#include "web/http_util.hpp"

#include <charconv>
#include <system_error>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "core/text.hpp"

namespace cosmos::web {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

std::string_view trim(std::string_view s) {
    return core::trim(s, " \t");
}

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool inside(const fs::path& base, const fs::path& p) {
    auto b = base.begin();
    auto q = p.begin();
    for (; b != base.end(); ++b, ++q) {
        if (b->empty() && std::next(b) == base.end()) {
            break;  // trailing separator
        }
        if (q == p.end() || *b != *q) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_safe_relative_path(std::string_view rel) {
    if (rel.empty() || rel.front() == '/' || rel.size() > 4096) {
        return false;
    }
    std::size_t start = 0;
    while (start <= rel.size()) {
        std::size_t end = rel.find('/', start);
        if (end == std::string_view::npos) {
            end = rel.size();
        }
        std::string_view seg = rel.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") {
            return false;
        }
        for (char c : seg) {
            if (c == '\\' || c == '\0') {
                return false;
            }
        }
        start = end + 1;
    }
    return true;
}

core::Result<fs::path> resolve_inside(const fs::path& base, std::string_view rel) {
    if (!is_safe_relative_path(rel)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("bad file path '{}'", rel),
                    "paths are relative names without '.' or '..' segments");
    }
    std::error_code ec;
    fs::path canonical_base = fs::canonical(base, ec);
    if (ec) {
        return fail(ErrorCode::not_found, fmt::format("no file '{}'", rel));
    }
    fs::path p = fs::weakly_canonical(canonical_base / std::string(rel), ec);
    if (ec) {
        return fail(ErrorCode::not_found, fmt::format("no file '{}'", rel));
    }
    if (!inside(canonical_base, p)) {
        return fail(ErrorCode::invalid_input, fmt::format("file '{}' is outside its folder", rel));
    }
    if (!fs::is_regular_file(p, ec)) {
        return fail(ErrorCode::not_found, fmt::format("no file '{}'", rel));
    }
    return p;
}

core::Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    if (header.empty()) {
        return std::optional<ByteRange>();
    }
    constexpr std::string_view unit = "bytes=";
    if (header.substr(0, unit.size()) != unit) {
        return std::optional<ByteRange>();  // another unit: ignored, served whole
    }
    std::string_view spec = trim(header.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos) {
        return std::optional<ByteRange>();  // several ranges: served whole
    }
    auto dash = spec.find('-');
    auto bad = [&] {
        return fail(ErrorCode::invalid_input,
                    fmt::format("unsatisfiable range '{}' for {} bytes", header, size));
    };
    if (dash == std::string_view::npos) {
        return bad();
    }
    std::string_view a = trim(spec.substr(0, dash));
    std::string_view b = trim(spec.substr(dash + 1));
    ByteRange r;
    if (a.empty()) {
        std::uint64_t n = 0;
        if (!parse_u64(b, n) || n == 0 || size == 0) {
            return bad();
        }
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
        return std::optional<ByteRange>(r);
    }
    if (!parse_u64(a, r.first) || r.first >= size) {
        return bad();
    }
    if (b.empty()) {
        r.last = size - 1;
    } else if (!parse_u64(b, r.last) || r.last < r.first) {
        return bad();
    } else if (r.last >= size) {
        r.last = size - 1;
    }
    return std::optional<ByteRange>(r);
}

std::map<std::string, std::string> parse_cookies(std::string_view header) {
    std::map<std::string, std::string> out;
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view part = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        std::string name(trim(part.substr(0, eq)));
        std::string_view value = trim(part.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        out.emplace(std::move(name), std::string(value));  // first one wins
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

std::string bearer_token(std::string_view authorization) {
    authorization = trim(authorization);
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size()) {
        return {};
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i]))) {
            return {};
        }
    }
    return std::string(trim(authorization.substr(scheme.size())));
}

bool csrf_ok(std::string_view cookie_header, std::string_view csrf_header) {
    auto cookies = parse_cookies(cookie_header);
    auto it = cookies.find("cosmos_csrf");
    csrf_header = trim(csrf_header);
    if (it == cookies.end() || it->second.empty() || csrf_header.empty()) {
        return false;
    }
    return constant_time_equal(it->second, csrf_header);
}

bool is_json_content_type(std::string_view content_type) {
    std::string_view media = trim(content_type.substr(0, content_type.find(';')));
    std::string lower;
    for (char c : media) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower == "application/json";
}

core::Result<std::int64_t> parse_query_int(std::string_view name,
                                           std::string_view text,
                                           std::int64_t fallback,
                                           std::int64_t min,
                                           std::int64_t max) {
    if (text.empty()) {
        return fallback;
    }
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("{} must be an integer from {} to {}, not '{}'", name, min, max, text));
    }
    return v;
}

bool is_loopback_address(std::string_view address) {
    if (address == "localhost" || address == "::1" || address == "[::1]") {
        return true;
    }
    // Exactly four decimal octets, the first 127 ("127.0.0.1.evil.example" is a name).
    int octets = 0;
    bool first_is_127 = false;
    while (!address.empty()) {
        auto dot = address.find('.');
        std::string_view part = address.substr(0, dot);
        unsigned value = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || part.size() > 3 || ec != std::errc() ||
            p != part.data() + part.size() || value > 255) {
            return false;
        }
        first_is_127 = octets == 0 ? value == 127 : first_is_127;
        ++octets;
        if (dot == std::string_view::npos) {
            break;
        }
        address.remove_prefix(dot + 1);
        if (address.empty()) {
            return false;
        }
    }
    return octets == 4 && first_is_127;
}

int http_status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_input:
        case ErrorCode::config:
            return 400;
        case ErrorCode::not_found:
            return 404;
        case ErrorCode::conflict:
            return 409;
        case ErrorCode::auth_failed:
            return 403;
        case ErrorCode::host_unreachable:
            return 502;
        case ErrorCode::timeout:
            return 504;
        case ErrorCode::interrupted:
            return 503;
        case ErrorCode::remote_failed:
        case ErrorCode::io:
        case ErrorCode::internal:
            return 500;
    }
    return 500;
}

nlohmann::ordered_json error_body(const core::Error& e, std::string_view code_name) {
    nlohmann::ordered_json err{
        {"code",
         code_name.empty() ? std::string(core::error_code_name(e.code)) : std::string(code_name)},
        {"message", e.message}};
    if (!e.hint.empty()) {
        err["hint"] = e.hint;
    }
    return {{"error", err}};
}

std::string dump_json(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        std::abort();  // no randomness: never hand out a guessable token
    }
    std::string out;
    for (unsigned char c : raw) {
        out += fmt::format("{:02x}", c);
    }
    return out;
}

}  // namespace cosmos::web
