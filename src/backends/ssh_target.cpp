#include "backends/ssh_target.hpp"

#include <fmt/format.h>

#include "transport/local_shell.hpp"

namespace cosmos::backends {

using core::ErrorCode;
using core::fail;

transport::SshTarget ssh_target_for(const config::HostConfig& host) {
    transport::SshTarget t;
    t.name = host.name;
    t.address = host.ssh.address;
    t.port = host.ssh.port;
    t.user = host.ssh.user;
    t.key = host.ssh.key;
    return t;
}

core::Result<std::shared_ptr<transport::Shell>> shell_for(const config::HostConfig& host) {
    if (host.kind == core::HostKind::ssh ||
        (host.kind == core::HostKind::slurm && !host.ssh.address.empty())) {
        return transport::ssh_shell(ssh_target_for(host));
    }
    if (host.kind == core::HostKind::slurm || host.kind == core::HostKind::local) {
        return transport::local_shell();  // this machine (a slurm host: its login node)
    }
    return fail(
        ErrorCode::invalid_input,
        fmt::format("host {} is of kind {}, which this build cannot reach", host.name, host.kind));
}

std::string remote_path(const std::string& dir) {
    if (dir == "~" || dir == "~/") {
        return ".";
    }
    if (dir.rfind("~/", 0) == 0) {
        return dir.substr(2);
    }
    return dir;
}

core::Result<std::string> cache_dir_for(const config::HostConfig& host) {
    if (host.work_dir.empty()) {
        return fail(ErrorCode::config,
                    fmt::format("host {} has no work_dir", host.name),
                    fmt::format("add work_dir = \"/path/on/the/host\" to [hosts.{}]", host.name));
    }
    std::string dir = remote_path(host.work_dir.string());
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    return dir + "/cache";
}

}  // namespace cosmos::backends
