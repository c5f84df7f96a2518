#pragma once
// One look at a host, for `cosmos status` and the web UI's hosts page: reachable?, GPUs with
// utilisation and memory (nvidia-smi), which of our running runs are alive there, free disk.
// ssh hosts are probed over SSH (backends::host_status); local hosts run nvidia-smi here (the
// emulator's bin/nvidia-smi in the Cosmos dir when none is in PATH). May take seconds.

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "services/app.hpp"

namespace cosmos::services {

// {"host", "kind", "address", "reachable", "error", "latency_ms", "gpus": [{"index", "name",
// "utilization_percent", "memory_used_mib", "memory_total_mib"}], "gpu_error", "free_bytes",
// "running": [run ids]}. Never fails: problems are reported in "error" / "gpu_error".
nlohmann::ordered_json host_status_json(const App& app, const config::HostConfig& host);

}  // namespace cosmos::services
