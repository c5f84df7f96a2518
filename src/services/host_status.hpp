#pragma once
// One look at a host, for `cosmos status` and the web UI's hosts page: reachable?, GPUs with
// utilisation and memory (nvidia-smi), which of our running runs are alive there, free disk.
// ssh hosts are probed over SSH (backends::host_status); local hosts run nvidia-smi here (the
// emulator's bin/nvidia-smi in the Cosmos dir when none is in PATH). May take seconds.

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// {"host", "kind", "address", "reachable", "error", "latency_ms", "gpus": [{"index", "name",
// "utilization_percent", "memory_used_mib", "memory_total_mib"}], "gpu_error", "free_bytes",
// "running": [run ids]}. Never fails: problems are reported in "error" / "gpu_error". A slurm
// host adds "partition", "nodes": [{"name", "state", "gpus", "gpus_used"}], "gpus_total",
// "gpus_free", "max_in_flight" and "jobs": [{"slurm_job_id", "name", "state", "reason"}] (its
// "gpus" stay empty: nvidia-smi on the login node would say nothing about the nodes).
nlohmann::ordered_json host_status_json(const App& app, const config::HostConfig& host);

// `run` with its GPU usage so far when it is still running (its host's samples of the GPUs it
// holds, from its start until now); an ended run already records it. Never fails.
store::RunRecord with_live_gpu_usage(const App& app, store::RunRecord run);

// `host`'s GPU samples over [from_ms, to_ms] for charts: {"host", "from_ms", "to_ms", "step_s",
// "gpus": [{"gpu", "points": [[t_ms, util_mean, util_max, mem_mean_mib, mem_total_mib,
// power_mean_w|null, temp_max_c|null], ...]}]}, at most `max_points` points per GPU (merged
// into equal steps, keeping means and peaks).
core::Result<nlohmann::ordered_json> gpu_history_json(const App& app,
                                                      const std::string& host,
                                                      std::int64_t from_ms,
                                                      std::int64_t to_ms,
                                                      int max_points);

}  // namespace cosmos::services
