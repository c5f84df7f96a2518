#pragma once
// Launching a run from a request of the web API (POST /api/runs, POST /api/spec/preview):
// {"prompt_id", "params": {the fields of model::to_json(RunParams), any subset}, "host"?,
// "priority"?}. The parameters go through resolve_run_params (the checks of `cosmos create run`),
// the run is created pending and queued for a worker (`cosmos serve`).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/app.hpp"
#include "services/create_run.hpp"
#include "store/queue_store.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct LaunchRequest {
    std::string prompt_id;
    RunOptions options;
    std::optional<std::string> host;
    int priority = 0;
    std::optional<std::string> parent_run_id;  // "run again with changes": the run it started from
};

// Reads a launch request; fails with invalid_input naming an unknown or mistyped field
// (params' field names are those of run_json's "params").
core::Result<LaunchRequest> launch_request_from_json(const nlohmann::json& body);

// What launching `run` (planned, not stored) of `prompt` on `host` would send, writing nothing:
// {"params" (resolved), "spec" (local paths; files it names that a launch makes, such as the
// prompt upsampler's clip, are only named), "command" (argv on that host, for a job dir named
// RUN_ID; null without a host), "host"}.
core::Result<nlohmann::ordered_json> preview_run(const App& app,
                                                 const store::PromptRecord& prompt,
                                                 const store::RunRecord& run,
                                                 const config::HostConfig* host);

// What the launch would send, without creating anything: {"params" (resolved), "spec" (the
// controlnet spec JSON with local paths), "command" (argv on the host: the given one, else the
// first local host, else the first host), "host"}.
core::Result<nlohmann::ordered_json> preview_launch(const App& app, const LaunchRequest& req);

struct Launched {
    store::RunRecord run;
    store::JobRecord job;
};

// Creates the run (pending, as `cosmos create run` does, with its parent run) and queues it. A
// run whose queueing fails is deleted again. Fails with not_found for an unknown prompt, host or
// parent run.
core::Result<Launched> launch_run(const App& app, const LaunchRequest& req);

}  // namespace cosmos::services
