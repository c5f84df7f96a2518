// Reading one request with limits: headers (431), bodies with Content-Length or chunked (413
// before more than the cap is held), smuggling-prone framing (400), and the request handed on.

#include "web/request_reader.hpp"

#include <gtest/gtest.h>

using namespace cosmos::web;
using State = RequestReader::State;

namespace {

RequestReader read_all(std::string_view bytes, RequestLimits limits = {}, std::size_t step = 7) {
    RequestReader r(limits);
    std::size_t at = 0;
    while (at < bytes.size() && (r.state() == State::head || r.state() == State::body)) {
        at += r.feed(bytes.substr(at, step));
    }
    return r;
}

}  // namespace

TEST(WebRequestReader, HandsOnHeadAndBodyWithALength) {
    std::string req = "POST /api/x HTTP/1.1\r\nHost: a:1\r\nContent-Length: 2\r\n\r\n{}GET /next";
    RequestReader r(RequestLimits{});
    EXPECT_EQ(r.feed(req), req.size() - 9);  // the next request is left for later
    ASSERT_EQ(r.state(), State::done);
    EXPECT_EQ(r.take_request(), "POST /api/x HTTP/1.1\r\nHost: a:1\r\nContent-Length: 2\r\n\r\n{}");
    auto get = read_all("\r\nGET / HTTP/1.1\r\nHost: a:1\r\n\r\n");
    ASSERT_EQ(get.state(), State::done);
    EXPECT_EQ(get.take_request(), "GET / HTTP/1.1\r\nHost: a:1\r\nContent-Length: 0\r\n\r\n");
}

TEST(WebRequestReader, DecodesChunkedBodies) {
    auto r = read_all(
        "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n"
        "2;ext=1\r\n{\"\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        {},
        3);
    ASSERT_EQ(r.state(), State::done) << r.error_message();
    EXPECT_EQ(r.take_request(), "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n{\"}");
    RequestReader waiting(RequestLimits{});
    waiting.feed("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_TRUE(waiting.wants_continue());
}

TEST(WebRequestReader, CapsHeadersAndBodies) {
    RequestLimits small{256, 5, 10};
    auto big_head = read_all("GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", small);
    EXPECT_EQ(big_head.error_status(), 431);
    auto many =
        read_all("GET / HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\nf: 1\r\n\r\n", small);
    EXPECT_EQ(many.error_status(), 431);
    auto length = read_all("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", small);
    EXPECT_EQ(length.error_status(), 413);
    // Chunked: refused at the chunk that passes the cap, before its bytes arrive.
    RequestReader chunked(small);
    chunked.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n");
    EXPECT_EQ(chunked.state(), State::body);
    chunked.feed("3\r\n");
    EXPECT_EQ(chunked.error_status(), 413);
    auto at_cap = read_all(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n", small);
    EXPECT_EQ(at_cap.state(), State::done);
}

TEST(WebRequestReader, RefusesAmbiguousFraming) {
    for (const char* req :
         {"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
          "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
          "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
          "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
          "GET / HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n",
          "GET / HTTP/1.1\r\nno colon\r\n\r\n",
          "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"}) {
        auto r = read_all(req);
        EXPECT_EQ(r.state(), State::failed) << req;
        EXPECT_EQ(r.error_status(), 400) << req;
    }
    auto gzip = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    EXPECT_EQ(gzip.error_status(), 501);
    auto same = read_all("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
    EXPECT_EQ(same.state(), State::done);
}
