#pragma once
// From a configured host to its transport: the SSH settings of a `kind = "ssh"` host and the
// Shell that reaches any host (local, ssh, slurm).

#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "transport/shell.hpp"
#include "transport/ssh_shell.hpp"

namespace cosmos::backends {

// The SSH settings of `host` (address, port, user, key; known_hosts from $HOME).
transport::SshTarget ssh_target_for(const config::HostConfig& host);

// The Shell of `host`: ssh_shell() for kind ssh and for a slurm host with an address (its login
// node), local_shell() for the local host and a slurm host without one.
core::Result<std::shared_ptr<transport::Shell>> shell_for(const config::HostConfig& host);

// `dir` as a remote path for SFTP and commands: "~" and a leading "~/" (which no shell expands
// once quoted) become relative to the login directory ("." and "rest").
std::string remote_path(const std::string& dir);

// The host's input cache, <work_dir>/cache; fails with config when the host has no work_dir.
core::Result<std::string> cache_dir_for(const config::HostConfig& host);

}  // namespace cosmos::backends
