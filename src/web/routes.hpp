#pragma once
// What the route files share inside the web layer: the server's state and the helpers that
// keep every handler thin (borrow an App, parse the JSON body, render a result or an error).
// Included only by src/web/*.cpp (it pulls in httplib).

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "services/alerts.hpp"
#include "services/app.hpp"
#include "web/app_pool.hpp"
#include "web/connection.hpp"
#include "web/events.hpp"
#include "web/host_monitor.hpp"
#include "web/server.hpp"

namespace cosmos::web {

struct UiServer::Impl {
    config::Config config;
    UiOptions options;
    std::string token;  // empty: none required (loopback)
    std::filesystem::path token_path;
    std::unique_ptr<AppPool> pool;
    std::unique_ptr<EventHub> events;
    std::unique_ptr<HostMonitor> hosts;
    std::unique_ptr<services::AlertTicker> alerts;  // evaluates [[alerts]] (docs/alerts.md)
    GuardedServer http;
    std::atomic<int> open_streams{0};
    std::thread listener;
    int port = 0;
    bool stopped = false;
};

// A JSON answer: status and body.
struct Reply {
    int status = 200;
    nlohmann::ordered_json body;
};

using ApiHandler = std::function<core::Result<Reply>(const httplib::Request&, services::App& app)>;

// Wraps `fn` as an httplib handler: borrows an App, runs `fn`, renders its reply or its error
// as JSON with the mapped status.
httplib::Server::Handler api(UiServer::Impl& s, ApiHandler fn);

// Renders `e` as a JSON error response (status from its code unless `status` is given).
void send_error(httplib::Response& res,
                const core::Error& e,
                int status = 0,
                std::string_view code_name = {});
void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);

// The request body as a JSON object; fails with invalid_input (HTTP 400) when it is not one.
core::Result<nlohmann::json> json_body(const httplib::Request& req);  // empty body: {}

// The query parameter `name` ("" when absent).
std::string query(const httplib::Request& req, const std::string& name);

// Serves file `path` (already resolved and checked by the caller) honouring a Range header:
// 206 with Content-Range for one satisfiable range, 416 for an unsatisfiable one, else 200.
void send_file(const httplib::Request& req,
               httplib::Response& res,
               const std::filesystem::path& path);

// Route groups (api_*.cpp).
void add_read_routes(UiServer::Impl& s);    // prompts, runs, inputs, gallery, hosts, files
void add_write_routes(UiServer::Impl& s);   // create, launch, cancel, queue control, spec preview
void add_metrics_route(UiServer::Impl& s);  // GET /metrics (Prometheus)
void add_alert_routes(UiServer::Impl& s);   // GET /api/alerts

}  // namespace cosmos::web
