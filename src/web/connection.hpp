#pragma once
// The connection layer under the routes: cpp-httplib parses requests and writes responses,
// but the bytes of each request are read here first (request_reader.hpp), so that
//  - a request's headers must arrive within k_header_deadline of its first byte (a slow
//    sender, "slowloris", is answered 408 and closed), an idle keep-alive connection is closed
//    after its keep-alive timeout, and a body must arrive within k_body_deadline;
//  - headers are capped (431) and every body, chunked or not, is capped (413) before more than
//    the cap is held in memory.
// Connections are served by an elastic pool (threads made on demand up to a maximum), sized so
// that the open event streams, which each hold a thread, never starve the other requests.
// Included only by src/web/*.cpp (it pulls in httplib).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "web/request_reader.hpp"

namespace cosmos::web {

inline constexpr auto k_header_deadline = std::chrono::seconds(10);
inline constexpr auto k_body_deadline = std::chrono::seconds(60);

// httplib's task queue with threads made as connections need them, up to `max`; a connection
// beyond that waits for a free thread.
class ElasticPool : public httplib::TaskQueue {
public:
    explicit ElasticPool(std::size_t max) : m_max(max) {}
    void enqueue(std::function<void()> fn) override;
    void shutdown() override;

private:
    void work();

    std::size_t m_max;
    std::size_t m_idle = 0;
    bool m_stop = false;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_jobs;
    std::vector<std::thread> m_threads;
};

// httplib's server with the reading above in place of its own.
class GuardedServer : public httplib::Server {
public:
    RequestLimits limits;
    std::chrono::seconds keep_alive{5};
    int max_requests_per_connection = 100;

private:
    bool process_and_close_socket(socket_t sock) override;
};

}  // namespace cosmos::web
