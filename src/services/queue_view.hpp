#pragma once
// The queue as `cosmos queue --json` and GET /api/queue show it: its paused flag and its jobs
// in claim order (running, then queued with their 1-based position, then the newest finished),
// each as job_json with its estimated start and finish (queue_eta.hpp).

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::services {

// {"paused": bool, "jobs": [job_json...]} with `finished` finished jobs at the end.
core::Result<nlohmann::ordered_json> queue_json(const App& app, int finished);

}  // namespace cosmos::services
