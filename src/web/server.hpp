#pragma once
// The web UI's HTTP server (`cosmos ui`, `cosmos serve`): the pages of web/ (embedded in the
// binary), the JSON API under /api/ and the live event stream /api/events (docs/api.md).
// Safety: bound to loopback by default; any other address requires the token kept in
// <data_dir>/ui-token (0600, made on first start, never printed); state-changing requests need
// the CSRF double submit (cookie cosmos_csrf = header X-Cosmos-CSRF) and a JSON body.

#include <filesystem>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"

namespace cosmos::web {

struct UiOptions {
    std::string bind = "127.0.0.1";
    int port = 8765;         // 0: any free port
    std::string assets_dir;  // serve web/ from this folder instead of the embedded copy
    int threads = 64;        // request threads; event streams (up to 500) have threads of their own
    int poll_ms = 20;        // how often the event watcher looks at the database and logs
    int host_probe_s = 10;   // how often hosts are probed (ssh, nvidia-smi) for /api/hosts
};

class UiServer {
public:
    // Binds the port and starts serving on background threads. Fails with invalid_input for a
    // bad address, conflict when the port is taken and io when the data dir or token cannot be
    // written.
    static core::Result<std::unique_ptr<UiServer>> start(const config::Config& config,
                                                         const UiOptions& options);
    ~UiServer();
    UiServer(const UiServer&) = delete;
    UiServer& operator=(const UiServer&) = delete;

    // "http://ADDR:PORT/" (IPv6 addresses in brackets).
    std::string url() const;
    int port() const;
    bool token_required() const;
    // Where the token lives (<data_dir>/ui-token).
    std::filesystem::path token_file() const;
    // Stops accepting, ends the event streams and joins every thread.
    void stop();

    struct Impl;

private:
    explicit UiServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

}  // namespace cosmos::web
