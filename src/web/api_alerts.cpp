// GET /api/alerts (docs/api.md): firing alerts and the failed-run events of the last day, or
// every alert with ?all=1, each with its deliveries. The same guard as the rest of the API.

#include <fmt/format.h>

#include "core/clock.hpp"
#include "store/alert_store.hpp"
#include "web/routes.hpp"

namespace cosmos::web {

namespace {

using J = nlohmann::ordered_json;

J opt(const std::optional<std::string>& v) {
    return v ? J(*v) : J(nullptr);
}

core::Result<Reply> list(const httplib::Request& req, services::App& app) {
    bool all = query(req, "all") == "1";
    std::string since = core::iso_from_ms(core::now_ms() - 24LL * 3600 * 1000);
    COSMOS_TRY(auto rows, store::list_alerts(app.db, all, since, 500));
    J items = J::array();
    for (const auto& a : rows) {
        COSMOS_TRY(auto ds, store::deliveries_of(app.db, a.id));
        J deliveries = J::array();
        for (const auto& d : ds) {
            deliveries.push_back({{"sink", d.sink},
                                  {"status", d.status},
                                  {"state", d.state},
                                  {"attempts", d.attempts},
                                  {"last_error", opt(d.last_error)}});
        }
        items.push_back({{"id", a.id},
                         {"rule", a.rule},
                         {"condition", a.condition},
                         {"subject", a.subject},
                         {"state", a.state},
                         {"summary", a.summary},
                         {"fired_at", a.fired_at},
                         {"resolved_at", opt(a.resolved_at)},
                         {"host", opt(a.host)},
                         {"run", opt(a.run_id)},
                         {"deliveries", deliveries}});
    }
    J rules = J::array();
    for (const auto& r : app.config.alerts) {
        rules.push_back(
            {{"name", r.name}, {"when", config::alert_condition_name(r.when)}, {"sinks", r.sinks}});
    }
    return Reply{200, {{"rules", rules}, {"items", items}}};
}

}  // namespace

void add_alert_routes(UiServer::Impl& s) {
    s.http.Get("/api/alerts", api(s, list));
}

}  // namespace cosmos::web
