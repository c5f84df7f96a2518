#pragma once
// Who may talk to the server (docs/ui.md, "Access rules"): the Host header a request names and,
// for requests that change state, the origin of the page that sent it. Pure functions, so unit
// tests reach every variant a DNS-rebinding page or a cross-site form could send.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cosmos::web {

// A parsed authority: the host in lower case (IPv6 in brackets, "[::1]") and the port (80 when
// the header names none).
struct Authority {
    std::string host;
    int port = 80;
    bool operator==(const Authority&) const = default;
};

// Parses a Host header value: "name[:port]", "a.b.c.d[:port]" or "[v6][:port]". A name is
// letters, digits, '-' and '.' (no empty label; one trailing dot kept: "localhost." is another
// name to a browser); a port is 1 to 65535. Nothing for anything else ("127.0.0.1:80@evil",
// "a b", "[::1].evil", "host..", "").
std::optional<Authority> parse_host_header(std::string_view value);

// Parses an Origin header (or the start of a Referer): "http://AUTHORITY" and, for a Referer,
// a path after it. Nothing for "null", another scheme, user info or a malformed authority.
std::optional<Authority> parse_origin(std::string_view value, bool allow_path = false);

// The names a loopback server answers to: "localhost", "127.0.0.1", "[::1]" and the address it
// is bound to ("127.0.0.2", "[::1]"), each only with the server's port.
bool is_allowed_loopback_host(const Authority& host, std::string_view bound_address, int port);

// Whether a state-changing request comes from the server's own pages: its Origin (or, without
// one, Sec-Fetch-Site and Referer) names `host`, the authority the request was sent to. A
// request with none of the three (curl, scripts) passes; "Origin: null" does not. Returns the
// reason for a refusal, empty when it passes.
std::string cross_origin_refusal(const Authority& host,
                                 std::string_view origin,
                                 std::string_view referer,
                                 std::string_view sec_fetch_site);

}  // namespace cosmos::web
