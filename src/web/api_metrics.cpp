// GET /metrics (docs/metrics.md): the Prometheus exposition of the database and the host
// monitor. Behind the same guard as the API (a token off loopback: Prometheus sends it with
// `authorization: {credentials_file: ...}`).

#include "core/clock.hpp"
#include "web/metrics.hpp"
#include "web/routes.hpp"

namespace cosmos::web {

void add_metrics_route(UiServer::Impl& s) {
    s.http.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
        auto app = s.pool->acquire();
        if (!app) {
            send_error(res, app.error());
            return;
        }
        auto snapshot = store::metrics_snapshot((*app)->db, core::now_ms());
        if (!snapshot) {
            send_error(res, snapshot.error());
            return;
        }
        ServerGauges server;
        server.open_event_streams = s.open_streams.load();
        res.set_content(render_metrics(*snapshot, s.hosts->latest(), server),
                        "text/plain; version=0.0.4; charset=utf-8");
    });
}

}  // namespace cosmos::web
