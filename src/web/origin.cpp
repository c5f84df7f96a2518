// Host and Origin checks (origin.hpp).

#include "web/origin.hpp"

#include <charconv>

#include <fmt/format.h>

namespace cosmos::web {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool valid_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);  // a fully qualified name; no loopback server answers to it
    }
    if (name.empty() || name.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) {
                return false;  // empty label: ".a", "a..b"
            }
            label = 0;
            continue;
        }
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
            return false;
        }
        ++label;
    }
    return label > 0;
}

bool valid_ipv6(std::string_view inside) {
    if (inside.size() < 2 || inside.find(':') == std::string_view::npos) {
        return false;
    }
    for (char c : inside) {
        if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
            return false;
        }
    }
    return true;
}

std::optional<int> parse_port(std::string_view text) {
    int port = 0;
    if (text.empty() || text.size() > 5) {
        return std::nullopt;
    }
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || p != text.data() + text.size() || port < 1 || port > 65535) {
        return std::nullopt;
    }
    return port;
}

}  // namespace

std::optional<Authority> parse_host_header(std::string_view value) {
    Authority a;
    std::string_view rest;
    if (!value.empty() && value.front() == '[') {
        auto close = value.find(']');
        if (close == std::string_view::npos || !valid_ipv6(value.substr(1, close - 1))) {
            return std::nullopt;
        }
        a.host = lower(value.substr(0, close + 1));
        rest = value.substr(close + 1);
    } else {
        auto colon = value.find(':');
        std::string_view name = value.substr(0, colon);
        if (!valid_name(name)) {
            return std::nullopt;
        }
        a.host = lower(name);
        rest = colon == std::string_view::npos ? std::string_view() : value.substr(colon);
    }
    if (rest.empty()) {
        return a;
    }
    if (rest.front() != ':') {
        return std::nullopt;  // "[::1].evil"
    }
    auto port = parse_port(rest.substr(1));
    if (!port) {
        return std::nullopt;
    }
    a.port = *port;
    return a;
}

std::optional<Authority> parse_origin(std::string_view value, bool allow_path) {
    constexpr std::string_view scheme = "http://";
    if (value.size() <= scheme.size() || lower(value.substr(0, scheme.size())) != scheme) {
        return std::nullopt;
    }
    std::string_view authority = value.substr(scheme.size());
    auto slash = authority.find_first_of("/?#");
    if (slash != std::string_view::npos) {
        if (!allow_path) {
            return std::nullopt;
        }
        authority = authority.substr(0, slash);
    }
    return parse_host_header(authority);
}

bool is_allowed_loopback_host(const Authority& host, std::string_view bound_address, int port) {
    if (host.port != port) {
        return false;
    }
    std::string bound = lower(bound_address);
    if (bound.find(':') != std::string::npos && bound.front() != '[') {
        bound = "[" + bound + "]";
    }
    return host.host == "localhost" || host.host == "127.0.0.1" || host.host == "[::1]" ||
           host.host == bound;
}

std::string cross_origin_refusal(const Authority& host,
                                 std::string_view origin,
                                 std::string_view referer,
                                 std::string_view sec_fetch_site) {
    if (!origin.empty()) {
        auto o = parse_origin(origin);
        if (!o || *o != host) {
            return fmt::format("a request from origin '{}' may not change anything here", origin);
        }
        return {};
    }
    if (!sec_fetch_site.empty() && sec_fetch_site != "same-origin" && sec_fetch_site != "none") {
        return fmt::format("a {} request may not change anything here", sec_fetch_site);
    }
    if (!referer.empty()) {
        auto r = parse_origin(referer, true);
        if (!r || *r != host) {
            return "a request from another site (its Referer) may not change anything here";
        }
    }
    return {};
}

}  // namespace cosmos::web
