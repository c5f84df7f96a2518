// served_api against a server whose answers have the wrong JSON types: every call must return a
// job or an error, never throw (a thrown json type_error in a worker thread ends cosmos).

#include "backends/served_api.hpp"

#include <atomic>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace cosmos::backends {
namespace {

// Answers every request on 127.0.0.1 with 200 and `body` (after reading the request whole).
class FixedServer {
public:
    explicit FixedServer(std::string body) : m_body(std::move(body)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t n = sizeof a;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &n);
        m_port = ntohs(a.sin_port);
        ::listen(m_fd, 8);
        m_thread = std::thread([this] { serve(); });
    }
    ~FixedServer() {
        m_stop = true;
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_thread.join();
    }
    FixedServer(const FixedServer&) = delete;
    FixedServer& operator=(const FixedServer&) = delete;
    Endpoint endpoint() const {
        return {"http://127.0.0.1:" + std::to_string(m_port), "", "", "test server"};
    }

private:
    void serve() {
        while (!m_stop) {
            int c = ::accept(m_fd, nullptr, nullptr);
            if (c < 0) {
                return;
            }
            std::string req;
            char buf[4096];
            std::size_t want = std::string::npos;
            while (want == std::string::npos || req.size() < want) {
                ssize_t got = ::read(c, buf, sizeof buf);
                if (got <= 0) {
                    break;
                }
                req.append(buf, static_cast<std::size_t>(got));
                auto end = req.find("\r\n\r\n");
                if (want == std::string::npos && end != std::string::npos) {
                    auto cl = req.find("Content-Length: ");
                    std::size_t len = cl == std::string::npos || cl > end
                                          ? 0
                                          : std::stoul(req.substr(cl + 16, 20));
                    want = end + 4 + len;
                }
            }
            std::string out =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Connection: close\r\nContent-Length: " +
                std::to_string(m_body.size()) + "\r\n\r\n" + m_body;
            (void)::write(c, out.data(), out.size());
            ::close(c);
        }
    }

    std::string m_body;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

TEST(ServedApi, AnswersWithWrongTypesAreErrorsNotExceptions) {
    {
        FixedServer s(R"({"id": 5, "status": ["x"], "error": {"message": 3}})");
        auto job = get_video(s.endpoint(), "video_1");
        ASSERT_TRUE(job) << job.error().message;
        EXPECT_EQ(job->id, "video_1");  // the id asked for, not the answer's number
        EXPECT_EQ(job->status, "");
        EXPECT_EQ(job->error, R"({"message":3})");
        auto id = create_video(s.endpoint(), nlohmann::ordered_json{{"prompt", "a"}});
        ASSERT_FALSE(id);
        EXPECT_NE(id.error().message.find("gave no job id"), std::string::npos);
    }
    for (const char* body : {R"({"choices": [{"message": "hi"}]})",
                             R"({"choices": [{"message": {"content": 7}}]})",
                             R"({"choices": [3]})"}) {
        FixedServer s(body);
        auto text = chat(s.endpoint(), "m", nlohmann::json::array(), 10);
        ASSERT_FALSE(text) << body;
        EXPECT_NE(text.error().message.find("without a message"), std::string::npos) << body;
    }
}

}  // namespace
}  // namespace cosmos::backends
