#pragma once
// GET /metrics: the Prometheus text exposition format (version 0.0.4) of what the database and
// the host monitor know (docs/metrics.md lists every metric, its type and labels). Labels are
// bounded sets: status, model, queue state, host and GPU index; never a run or prompt id.

#include <string>

#include <nlohmann/json.hpp>

#include "store/metrics_store.hpp"

namespace cosmos::web {

// What the server itself counts.
struct ServerGauges {
    int open_event_streams = 0;
};

// The exposition text. `hosts` is HostMonitor::latest(): host name -> host_status_json
// (reachable, gpus, free_bytes); hosts not probed yet are left out.
std::string render_metrics(const store::MetricsSnapshot& snapshot,
                           const nlohmann::ordered_json& hosts,
                           const ServerGauges& server);

// A label value escaped as the format wants (\\, \" and \n).
std::string escape_label(std::string_view value);

}  // namespace cosmos::web
