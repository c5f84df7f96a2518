#pragma once
// Model servers (docs/serving.md): where a served model's requests go. An http host points at a
// server someone else runs; an ssh or slurm host with a [hosts.NAME.serve] table has one cosmos
// runs (on Slurm as a job that holds its GPUs, reached at its node's address):
// started on first need (scripts/model-server.sh supervises it on the host and stops it after
// its idle time), waited for until it answers, reused while it lives (by any cosmos process: its
// state is on the host, under <work_dir>/servers/), started again when it died, and reached only
// through the SSH connection (a forwarded channel to its loopback port).

#include <memory>
#include <optional>
#include <string>

#include "backends/served_api.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "transport/shell.hpp"

namespace cosmos::backends {

// Where requests go while the lease is held (the SSH forward stays open as long as it lives).
struct ServerLease {
    Endpoint endpoint;
    std::string host;
    std::string state_dir;                    // servers cosmos runs; empty for http hosts
    std::shared_ptr<transport::Shell> shell;  // servers cosmos runs
    std::shared_ptr<void> forward;            // keeps the forwarded port open
    bool started = false;                     // this lease started the server
};

// The server of `host` (an http host, or an ssh host that serves), ready for requests; a server
// cosmos runs is started (and waited for, up to its startup_timeout_s) when it is not running.
core::Result<ServerLease> open_server(const config::HostConfig& host);

// Marks request `run_id` as started (begin) or ended on a server cosmos runs, so its supervisor
// does not stop it as idle meanwhile; nothing for http hosts.
core::Status mark_request(const ServerLease& lease, const std::string& run_id, bool begin);

// True when a server cosmos runs is no longer running (it died, or was stopped as idle).
core::Result<bool> server_gone(const ServerLease& lease);

struct ServerState {
    bool running = false;
    std::string detail;                   // why it is not running, or its served models
    std::optional<std::string> log_tail;  // the end of its log (servers cosmos runs)
};

// What `cosmos status` says of `host`'s server, without starting one.
core::Result<ServerState> server_state(const config::HostConfig& host);

// Stops the server cosmos runs on `host` (now, not waiting for its idle time).
core::Status stop_server(const config::HostConfig& host);

// The argv cosmos runs on `host` to serve (its [hosts.NAME.serve] command, else the protocol's
// default), with {model}, {port} and {host} (the address to listen on: `bind`) filled in.
std::vector<std::string> server_command(const config::ServerSettings& s,
                                        int port,
                                        const std::string& bind = "127.0.0.1");

}  // namespace cosmos::backends
