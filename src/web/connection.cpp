// Reading requests with deadlines and limits, and the elastic pool (connection.hpp).

#include "web/connection.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <optional>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/error.hpp"
#include "web/http_util.hpp"

namespace cosmos::web {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_write_timeout = std::chrono::seconds(5);

enum class Wait { ready, timeout, closed };

// Waits until the socket is ready for `events` or `until`, in slices so that a stopping server
// (its listening socket closed) is noticed.
Wait wait_for(socket_t sock,
              short events,
              Clock::time_point until,
              const std::atomic<socket_t>& server) {
    for (;;) {
        auto now = Clock::now();
        if (server == INVALID_SOCKET) {
            return Wait::closed;
        }
        if (now >= until) {
            return Wait::timeout;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        pollfd p{sock, events, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 200)));
        if (r > 0) {
            return (p.revents & events) ? Wait::ready : Wait::closed;
        }
        if (r < 0 && errno != EINTR) {
            return Wait::closed;
        }
    }
}

bool write_all(socket_t sock,
               const char* data,
               std::size_t size,
               const std::atomic<socket_t>& server) {
    auto until = Clock::now() + k_write_timeout;
    while (size > 0) {
        ssize_t n = ::send(sock, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            size -= static_cast<std::size_t>(n);
            until = Clock::now() + k_write_timeout;  // a reader that keeps up has no deadline
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
        if (wait_for(sock, POLLOUT, until, server) != Wait::ready) {
            return false;
        }
    }
    return true;
}

std::string_view reason(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 431:
            return "Request Header Fields Too Large";
        case 501:
            return "Not Implemented";
        default:
            return "Error";
    }
}

// Answers a request refused before httplib saw it; the connection is closed after it.
void refuse(socket_t sock,
            int status,
            const std::string& message,
            const std::atomic<socket_t>& server) {
    std::string hint = status == 413   ? "send a smaller body"
                       : status == 408 ? "send the whole request at once"
                                       : "";
    std::string body = dump_json(error_body(core::make_error(
        status == 408 ? core::ErrorCode::timeout : core::ErrorCode::invalid_input, message, hint)));
    std::string text = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n{}",
        status,
        reason(status),
        body.size(),
        body);
    [[maybe_unused]] bool sent = write_all(sock, text.data(), text.size(), server);
}

// A connection: its socket and the bytes read from it that no request used yet.
struct Conn {
    socket_t sock;
    const std::atomic<socket_t>& server;
    std::string pending;
};

// The deadline of the phase `r` is in, counted from now.
Clock::time_point deadline_of(const RequestReader& r, std::chrono::seconds keep_alive) {
    auto now = Clock::now();
    if (!r.started()) {
        return now + keep_alive;
    }
    return now + (r.state() == RequestReader::State::head ? k_header_deadline : k_body_deadline);
}

// Reads the next request of `c`; nothing when the connection should close (idle, closed by
// the client, or refused: then it was answered).
std::optional<std::string> read_request(Conn& c,
                                        const RequestLimits& limits,
                                        std::chrono::seconds keep_alive) {
    RequestReader reader(limits);
    auto deadline = deadline_of(reader, keep_alive);
    bool sent_continue = false;
    std::array<char, std::size_t{16} * 1024> buf{};
    for (;;) {
        if (!c.pending.empty()) {
            bool started = reader.started();
            auto state = reader.state();
            c.pending.erase(0, reader.feed(c.pending));
            if (started != reader.started() || state != reader.state()) {
                deadline = deadline_of(reader, keep_alive);
            }
        }
        if (reader.state() == RequestReader::State::done) {
            return reader.take_request();
        }
        if (reader.state() == RequestReader::State::failed) {
            refuse(c.sock, reader.error_status(), reader.error_message(), c.server);
            return std::nullopt;
        }
        if (reader.wants_continue() && !sent_continue) {
            constexpr std::string_view go = "HTTP/1.1 100 Continue\r\n\r\n";
            sent_continue = write_all(c.sock, go.data(), go.size(), c.server);
        }
        Wait w = wait_for(c.sock, POLLIN, deadline, c.server);
        if (w == Wait::timeout && reader.started()) {
            refuse(c.sock, 408, "the request did not arrive in time", c.server);
        }
        if (w != Wait::ready) {
            return std::nullopt;
        }
        ssize_t n = ::recv(c.sock, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
                continue;
            }
            return std::nullopt;
        }
        c.pending.append(buf.data(), static_cast<std::size_t>(n));
    }
}

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if ((peer ? ::getpeername(sock, sa, &len) : ::getsockname(sock, sa, &len)) != 0) {
        return;
    }
    std::array<char, NI_MAXHOST> host{};
    std::array<char, NI_MAXSERV> serv{};
    if (::getnameinfo(sa,
                      len,
                      host.data(),
                      host.size(),
                      serv.data(),
                      serv.size(),
                      NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        ip = host.data();
        port = std::atoi(serv.data());
    }
}

// One request (already read whole) for httplib to parse; its response goes to the socket.
class RequestStream : public httplib::Stream {
public:
    RequestStream(socket_t sock, std::string request, const std::atomic<socket_t>& server)
        : m_sock(sock), m_request(std::move(request)), m_server(server) {}

    bool is_readable() const override { return m_pos < m_request.size(); }
    bool is_writable() const override {
        return wait_for(m_sock, POLLOUT, Clock::now() + k_write_timeout, m_server) == Wait::ready;
    }
    ssize_t read(char* ptr, std::size_t size) override {
        std::size_t n = std::min(size, m_request.size() - m_pos);
        m_request.copy(ptr, n, m_pos);
        m_pos += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, std::size_t size) override {
        return write_all(m_sock, ptr, size, m_server) ? static_cast<ssize_t>(size) : -1;
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address_of(m_sock, true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address_of(m_sock, false, ip, port);
    }
    socket_t socket() const override { return m_sock; }

private:
    socket_t m_sock;
    std::string m_request;
    std::size_t m_pos = 0;
    const std::atomic<socket_t>& m_server;
};

}  // namespace

bool GuardedServer::process_and_close_socket(socket_t sock) {
    Conn c{sock, svr_sock_, {}};
    bool ok = false;
    for (int left = max_requests_per_connection; left > 0; --left) {
        auto request = read_request(c, limits, keep_alive);
        if (!request) {
            break;
        }
        RequestStream strm(sock, std::move(*request), svr_sock_);
        bool closed = false;
        ok = process_request(strm, left == 1, closed, nullptr);
        if (!ok || closed) {
            break;
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
}

void ElasticPool::enqueue(std::function<void()> fn) {
    std::lock_guard lock(m_mutex);
    m_jobs.push_back(std::move(fn));
    if (m_jobs.size() > m_idle && m_threads.size() < m_max) {
        m_threads.emplace_back([this] { work(); });
    }
    m_cv.notify_one();
}

void ElasticPool::shutdown() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    for (auto& t : m_threads) {
        t.join();
    }
}

void ElasticPool::work() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(m_mutex);
            ++m_idle;
            m_cv.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
            --m_idle;
            if (m_jobs.empty()) {
                return;  // stopping
            }
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        job();
    }
}

}  // namespace cosmos::web
