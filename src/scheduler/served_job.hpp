#pragma once
// The job runner of a served run (docs/serving.md): the run is one request to a model server
// (backends/model_server), not a process. execute: send it (the input video uploaded with it)
// and follow it; attach: follow a request already sent (the run row holds its job id: the
// `remote_dir` column, runtime "server"); kill: DELETE it. Progress comes from the job's status;
// the run's log (run.log in its run dir) is written here, one line per change. When a server
// cosmos runs dies under a request, the server is started again and the request sent once more.

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "scheduler/app.hpp"
#include "scheduler/job.hpp"
#include "store/records.hpp"

namespace cosmos::scheduler {

// The runtime a served run records ("server"): attach, kill and logs dispatch on it.
inline constexpr const char* k_served_runtime = "server";

core::Result<store::RunRecord> execute_served_run(const App& app,
                                                  const store::RunRecord& run,
                                                  const config::HostConfig& host,
                                                  const nlohmann::ordered_json& spec,
                                                  const RemoteExecuteOptions& options);

core::Result<store::RunRecord> attach_served_run(const App& app,
                                                 const store::RunRecord& run,
                                                 const config::HostConfig& host,
                                                 const AttachOptions& options);

core::Result<store::RunRecord> kill_served_run(const App& app,
                                               const store::RunRecord& run,
                                               const config::HostConfig& host);

}  // namespace cosmos::scheduler
