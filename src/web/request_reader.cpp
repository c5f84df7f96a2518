// Reading one request with limits (request_reader.hpp).

#include "web/request_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "web/http_util.hpp"

namespace cosmos::web {

namespace {

constexpr std::size_t k_max_chunk_line = 4096;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

bool parse_number(std::string_view s, int base, std::uint64_t& out) {
    if (s.empty() || s.size() > 16) {
        return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::size_t RequestReader::feed(std::string_view bytes) {
    std::size_t used = 0;
    while (used < bytes.size() && (m_state == State::head || m_state == State::body)) {
        std::string_view rest = bytes.substr(used);
        m_started = true;
        if (m_state == State::head) {
            used += feed_head(rest);
        } else if (m_chunked) {
            used += feed_chunked(rest);
        } else {
            std::size_t n = std::min(m_body_left, rest.size());
            m_body.append(rest.substr(0, n));
            m_body_left -= n;
            used += n;
            if (m_body_left == 0) {
                finish();
            }
        }
    }
    return used;
}

std::size_t RequestReader::feed_head(std::string_view bytes) {
    std::size_t old = m_head.size();
    std::size_t take = std::min(bytes.size(), m_limits.max_header_bytes + 4 - old);
    m_head.append(bytes.substr(0, take));
    std::size_t skipped = 0;
    while (m_head.rfind("\r\n", 0) == 0) {
        m_head.erase(0, 2);  // empty lines before the request line are allowed
        skipped += 2;
    }
    old = old >= skipped ? old - skipped : 0;
    auto end = m_head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
    if (end == std::string::npos) {
        if (m_head.size() > m_limits.max_header_bytes) {
            fail(431,
                 fmt::format("the request headers exceed {} bytes", m_limits.max_header_bytes));
        }
        return take;
    }
    std::size_t unused = m_head.size() - (end + 4);
    m_head.resize(end + 4);
    parse_head();
    return take - unused;
}

void RequestReader::parse_head() {
    std::string_view head(m_head);
    auto line_end = head.find("\r\n");
    std::string rebuilt(head.substr(0, line_end + 2));  // the request line
    head.remove_prefix(line_end + 2);
    std::optional<std::uint64_t> length;
    std::string encoding;
    std::size_t count = 0;
    for (auto eol = head.find("\r\n"); eol != 0;
         head.remove_prefix(eol + 2), eol = head.find("\r\n")) {
        std::string_view line = head.substr(0, eol);
        auto colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        if (++count > m_limits.max_headers) {
            return fail(431,
                        fmt::format("the request has more than {} headers", m_limits.max_headers));
        }
        if (colon == std::string_view::npos || name.empty() ||
            name.find_first_of(" \t") != std::string_view::npos) {
            return fail(400, "a malformed header line (folded, or no 'Name: value')");
        }
        std::string_view value = trim(line.substr(colon + 1));
        std::string key = lower(name);
        std::uint64_t n = 0;
        if (key == "content-length") {
            if (!parse_number(value, 10, n) || (length && *length != n)) {
                return fail(400, "a malformed or repeated Content-Length");
            }
            length = n;
        } else if (key == "transfer-encoding") {
            encoding += encoding.empty() ? std::string(value) : "," + std::string(value);
        } else if (key == "expect") {
            m_expect_continue = lower(value) == "100-continue";
        } else {
            rebuilt.append(line).append("\r\n");
        }
    }
    m_head = std::move(rebuilt);
    if (!encoding.empty()) {
        if (length) {
            return fail(400, "a request may not have both Content-Length and Transfer-Encoding");
        }
        if (lower(trim(encoding)) != "chunked") {
            return fail(501, fmt::format("Transfer-Encoding '{}' is not supported", encoding));
        }
        m_chunked = true;
        m_state = State::body;
    } else if (length && *length > m_limits.max_body) {
        return fail(413, fmt::format("the request body exceeds {} bytes", m_limits.max_body));
    } else if (length && *length > 0) {
        m_body_left = static_cast<std::size_t>(*length);
        m_body.reserve(m_body_left);
        m_state = State::body;
    } else {
        finish();
    }
}

std::size_t RequestReader::feed_chunked(std::string_view bytes) {
    if (m_chunk != Chunk::data) {
        return feed_chunk_line(bytes);
    }
    std::size_t n = std::min(m_chunk_left, bytes.size());
    m_body.append(bytes.substr(0, n));
    m_chunk_left -= n;
    if (m_chunk_left == 0) {
        m_chunk = Chunk::data_end;
    }
    return n;
}

std::size_t RequestReader::feed_chunk_line(std::string_view bytes) {
    auto nl = bytes.find('\n');
    std::size_t n = nl == std::string_view::npos ? bytes.size() : nl + 1;
    m_line.append(bytes.substr(0, n));
    if (m_line.size() > k_max_chunk_line) {
        fail(400, "a chunk-size or trailer line is too long");
        return n;
    }
    if (nl != std::string_view::npos) {
        chunk_line_complete();
    }
    return n;
}

void RequestReader::chunk_line_complete() {
    if (m_line.size() < 2 || m_line[m_line.size() - 2] != '\r') {
        return fail(400, "a chunk line does not end with CRLF");
    }
    std::string_view line(m_line.data(), m_line.size() - 2);
    std::uint64_t size = 0;
    switch (m_chunk) {
        case Chunk::size_line:
            if (!parse_number(trim(line.substr(0, line.find(';'))), 16, size)) {
                return fail(400, "a malformed chunk size");
            }
            if (size > m_limits.max_body - m_body.size()) {
                return fail(413,
                            fmt::format("the request body exceeds {} bytes", m_limits.max_body));
            }
            m_chunk_left = static_cast<std::size_t>(size);
            m_chunk = size == 0 ? Chunk::trailer : Chunk::data;
            break;
        case Chunk::data_end:
            if (!line.empty()) {
                return fail(400, "a chunk is longer than its size");
            }
            m_chunk = Chunk::size_line;
            break;
        case Chunk::trailer:
            m_trailer_bytes += m_line.size();
            if (line.empty()) {
                finish();
            } else if (m_trailer_bytes > m_limits.max_header_bytes) {
                return fail(431, "the request's trailer is too large");
            }
            break;
        case Chunk::data:
            break;
    }
    m_line.clear();
}

void RequestReader::fail(int status, std::string message) {
    m_state = State::failed;
    m_error_status = status;
    m_error = std::move(message);
}

void RequestReader::finish() {
    m_head += fmt::format("Content-Length: {}\r\n\r\n", m_body.size());
    m_state = State::done;
}

std::string RequestReader::take_request() {
    std::string out = std::move(m_head);
    out += m_body;
    m_body.clear();
    m_body.shrink_to_fit();
    return out;
}

}  // namespace cosmos::web
