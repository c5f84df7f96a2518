#pragma once
// The pure pieces of the HTTP layer, kept apart so unit tests reach them without a server:
// request paths resolved inside a folder, Range headers, cookies, the token and CSRF checks,
// query numbers, and the mapping from core errors to HTTP statuses and JSON bodies.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/result.hpp"

namespace cosmos::web {

// `s` without leading and trailing spaces and tabs (HTTP header values).
std::string_view trim(std::string_view s);

// True when `rel` is a relative path of plain names: not empty, no leading '/', no '\\' or NUL,
// and no empty, "." or ".." segment.
bool is_safe_relative_path(std::string_view rel);

// Resolves `rel` (from a request) inside `base`: the result, canonical with symlinks resolved,
// must lie inside canonical `base`. Fails with invalid_input for an unsafe `rel` or a path that
// leaves `base` (a symlink pointing out), and with not_found when the file does not exist.
core::Result<std::filesystem::path> resolve_inside(const std::filesystem::path& base,
                                                   std::string_view rel);

// One byte range, both ends inclusive.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t length() const { return last - first + 1; }
};

// Parses a Range header for a file of `size` bytes: nothing when the header is empty, names
// several ranges (served whole) or another unit; the range for "bytes=A-B", "bytes=A-" and
// "bytes=-N" (clamped to the file). Fails with invalid_input for a malformed or unsatisfiable
// range (HTTP 416).
core::Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size);

// The cookies of a Cookie header ("a=1; b=2").
std::map<std::string, std::string> parse_cookies(std::string_view header);

// Compares two secrets in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// The token of an "Authorization: Bearer T" header; empty when absent.
std::string bearer_token(std::string_view authorization);

// Double-submit CSRF check: the X-Cosmos-CSRF header equals the cosmos_csrf cookie (both
// present and not empty).
bool csrf_ok(std::string_view cookie_header, std::string_view csrf_header);

// True when a Content-Type header names JSON ("application/json", parameters allowed).
bool is_json_content_type(std::string_view content_type);

// A query number: `fallback` when `text` is empty, else an integer in [min, max]; fails with
// invalid_input naming `name`.
core::Result<std::int64_t> parse_query_int(std::string_view name,
                                           std::string_view text,
                                           std::int64_t fallback,
                                           std::int64_t min,
                                           std::int64_t max);

// True for loopback addresses: "127.x.y.z" (exactly four octets), "::1", "[::1]", "localhost".
bool is_loopback_address(std::string_view address);

// The HTTP status for a core error (400, 401, 403, 404, 409, 500...).
int http_status_for(core::ErrorCode code);

// {"error": {"code", "message", "hint"?}}; `code_name` overrides the core error's name (e.g.
// "csrf", "token").
nlohmann::ordered_json error_body(const core::Error& e, std::string_view code_name = {});

// JSON text of `j` (invalid UTF-8 replaced, never throws).
std::string dump_json(const nlohmann::ordered_json& j);

// Random hex string of `bytes` random bytes (OpenSSL's RNG).
std::string random_hex(std::size_t bytes);

}  // namespace cosmos::web
