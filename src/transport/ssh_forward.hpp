#pragma once
// A local forward, as `ssh -L`: a TCP port on 127.0.0.1 of this machine whose connections are
// carried, each in a direct-tcpip channel of an SSH session of the forward's own, to an address
// as the SSH server sees it (a model server listening on the host's loopback). The server's port
// is never exposed beyond the host; the local port is on this machine's loopback only.

#include <memory>
#include <string>

#include "core/result.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::transport {

class SshForward {
public:
    // Connects (host key checked as for every connection to `target`), listens on
    // 127.0.0.1:<ephemeral> and starts carrying connections to remote_host:remote_port.
    static core::Result<std::unique_ptr<SshForward>> open(const SshTarget& target,
                                                          const std::string& remote_host,
                                                          int remote_port);
    ~SshForward();
    SshForward(const SshForward&) = delete;
    SshForward& operator=(const SshForward&) = delete;

    int local_port() const;
    // "http://127.0.0.1:<local port>".
    std::string local_url() const;

    struct Impl;

private:
    explicit SshForward(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace cosmos::transport
