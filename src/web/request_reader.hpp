#pragma once
// Reads one HTTP/1.1 request off a connection before cpp-httplib sees it, with limits: the
// header block (size and count: 431), the body whether sent with Content-Length or chunked
// (413 before more than the cap is held), and framing that could smuggle a second request
// (both Content-Length and Transfer-Encoding, differing lengths, folded headers: 400). The
// request comes out as httplib should parse it: the same head with a Content-Length for the
// body (a chunked body decoded), without Transfer-Encoding and Expect. Pure: the server
// (connection.cpp) feeds it bytes and applies the deadlines.

#include <cstddef>
#include <string>
#include <string_view>

namespace cosmos::web {

struct RequestLimits {
    std::size_t max_header_bytes = std::size_t{32} * 1024;  // request line + headers
    std::size_t max_headers = 100;
    std::size_t max_body = std::size_t{8} * 1024 * 1024;
};

class RequestReader {
public:
    enum class State { head, body, done, failed };

    explicit RequestReader(RequestLimits limits) : m_limits(limits) {}

    // Takes bytes of the connection; returns how many it used (the rest belongs to the next
    // request). Stops at done or failed.
    std::size_t feed(std::string_view bytes);

    State state() const { return m_state; }
    // True once any byte of this request arrived.
    bool started() const { return m_started; }
    // The client sent "Expect: 100-continue" and waits for it before sending its body.
    bool wants_continue() const { return m_expect_continue && m_state == State::body; }
    // For failed: the HTTP status (400, 413, 431, 501) and what was wrong.
    int error_status() const { return m_error_status; }
    const std::string& error_message() const { return m_error; }
    // For done: the request as httplib should read it.
    std::string take_request();

private:
    std::size_t feed_head(std::string_view bytes);
    void parse_head();
    std::size_t feed_chunked(std::string_view bytes);
    std::size_t feed_chunk_line(std::string_view bytes);
    void chunk_line_complete();
    void fail(int status, std::string message);
    void finish();

    enum class Chunk { size_line, data, data_end, trailer };

    RequestLimits m_limits;
    State m_state = State::head;
    bool m_started = false;
    bool m_expect_continue = false;
    bool m_chunked = false;
    int m_error_status = 0;
    std::string m_error;
    std::string m_head;           // raw header block, then the rewritten one
    std::string m_body;           // decoded body
    std::size_t m_body_left = 0;  // Content-Length bytes still to come
    Chunk m_chunk = Chunk::size_line;
    std::string m_line;  // a chunk-size or trailer line being read
    std::size_t m_chunk_left = 0;
    std::size_t m_trailer_bytes = 0;
};

}  // namespace cosmos::web
