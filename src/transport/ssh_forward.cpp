#include "transport/ssh_forward.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <list>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/log.hpp"
#include "transport/ssh_connection.hpp"

namespace cosmos::transport {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t k_chunk = 64 * 1024;

// One carried connection: a local socket and its channel.
struct Bridge {
    int fd = -1;
    std::unique_ptr<detail::Channel> channel;
    bool local_eof = false;   // the local side finished sending
    bool remote_eof = false;  // the channel finished sending
    bool dead = false;
};

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

struct SshForward::Impl {
    detail::Connection conn;
    std::string remote_host;
    int remote_port = 0;
    int listen_fd = -1;
    int port = 0;
    std::atomic<bool> stop{false};
    std::list<Bridge> bridges;  // touched by the pump thread only
    std::thread pump;

    explicit Impl(SshTarget target) : conn(std::move(target)) {}

    ~Impl() {
        stop = true;
        if (pump.joinable()) {
            pump.join();
        }
        std::lock_guard<std::mutex> lock(conn.mutex());
        for (auto& b : bridges) {
            b.channel.reset();
            ::close(b.fd);
        }
        if (listen_fd >= 0) {
            ::close(listen_fd);
        }
    }

    core::Status listen_local() {
        listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (listen_fd < 0 || ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(listen_fd, 64) != 0 ||
            ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            return fail(ErrorCode::io, "cannot listen on 127.0.0.1 for the SSH forward");
        }
        port = ntohs(addr.sin_port);
        return {};
    }

    // [lock held] A channel to the remote address for a connection just accepted.
    core::Result<std::unique_ptr<detail::Channel>> open_channel() {
        COSMOS_TRY(auto live, conn.session());
        ssh_channel ch = ssh_channel_new(live->session.get());
        if (ch == nullptr) {
            return fail(conn.error("ssh_channel_new"));
        }
        auto channel = std::make_unique<detail::Channel>(live, ch);
        if (ssh_channel_open_forward(ch, remote_host.c_str(), remote_port, "127.0.0.1", port) !=
            SSH_OK) {
            return fail(ErrorCode::host_unreachable,
                        fmt::format("{}: cannot open a forwarded channel to {}:{}: {}",
                                    conn.describe(),
                                    remote_host,
                                    remote_port,
                                    ssh_get_error(live->session.get())));
        }
        conn.touch();
        return channel;
    }

    void accept_one() {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        std::lock_guard<std::mutex> lock(conn.mutex());
        auto channel = open_channel();
        if (!channel) {
            core::log(core::LogLevel::warn, "{}", channel.error().message);
            ::close(fd);
            return;
        }
        bridges.push_back(Bridge{fd, std::move(*channel)});
    }

    // [lock held] Moves what is waiting in either direction; marks the bridge dead when done.
    void pump_bridge(Bridge& b, bool local_readable, std::vector<char>& buf) {
        ssh_channel ch = b.channel->get();
        if (local_readable && !b.local_eof) {
            ssize_t n = ::recv(b.fd, buf.data(), buf.size(), MSG_DONTWAIT);
            if (n > 0) {
                if (ssh_channel_write(ch, buf.data(), static_cast<std::uint32_t>(n)) != n) {
                    b.dead = true;
                    return;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                b.local_eof = true;
                ssh_channel_send_eof(ch);
            }
        }
        while (!b.remote_eof) {
            int n = ssh_channel_read_nonblocking(
                ch, buf.data(), static_cast<std::uint32_t>(buf.size()), 0);
            if (n > 0) {
                if (!write_all(b.fd, buf.data(), static_cast<std::size_t>(n))) {
                    b.dead = true;
                    return;
                }
                continue;
            }
            if (n == SSH_ERROR || n == SSH_EOF || ssh_channel_is_eof(ch) != 0 ||
                ssh_channel_is_closed(ch) != 0) {
                b.remote_eof = true;
                ::shutdown(b.fd, SHUT_WR);
            }
            break;
        }
        if (b.remote_eof && (b.local_eof || ssh_channel_is_closed(ch) != 0)) {
            b.dead = true;
        }
    }

    void run() {
        std::vector<char> buf(k_chunk);
        while (!stop) {
            std::vector<pollfd> fds;
            fds.push_back({listen_fd, POLLIN, 0});
            for (auto& b : bridges) {
                fds.push_back({b.fd, static_cast<short>(b.local_eof ? 0 : POLLIN), 0});
            }
            // Channel data does not wake poll(): a short timeout while bridges are open.
            ::poll(fds.data(), fds.size(), bridges.empty() ? 100 : 2);
            if ((fds[0].revents & POLLIN) != 0) {
                accept_one();
            }
            std::lock_guard<std::mutex> lock(conn.mutex());
            std::size_t i = 1;
            for (auto it = bridges.begin(); it != bridges.end(); ++i) {
                bool readable = i < fds.size() && (fds[i].revents & (POLLIN | POLLHUP)) != 0;
                pump_bridge(*it, readable, buf);
                if (it->dead) {
                    it->channel.reset();
                    ::close(it->fd);
                    it = bridges.erase(it);
                } else {
                    ++it;
                }
            }
        }
    }
};

SshForward::SshForward(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

SshForward::~SshForward() = default;

core::Result<std::unique_ptr<SshForward>> SshForward::open(const SshTarget& target,
                                                           const std::string& remote_host,
                                                           int remote_port) {
    detail::ensure_libssh_initialised();
    auto impl = std::make_unique<Impl>(target);
    impl->remote_host = remote_host;
    impl->remote_port = remote_port;
    {
        std::lock_guard<std::mutex> lock(impl->conn.mutex());
        COSMOS_TRY(auto live, impl->conn.session());
        (void)live;  // connected and the host key checked before anything listens
    }
    COSMOS_CHECK(impl->listen_local());
    Impl* raw = impl.get();
    impl->pump = std::thread([raw] { raw->run(); });
    return std::unique_ptr<SshForward>(new SshForward(std::move(impl)));
}

int SshForward::local_port() const {
    return m_impl->port;
}

std::string SshForward::local_url() const {
    return fmt::format("http://127.0.0.1:{}", m_impl->port);
}

}  // namespace cosmos::transport
