// Launching a run from a web API request (launch.hpp).

#include "services/launch.hpp"

#include <fmt/format.h>

#include "backends/remote_job.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "model/transfer_command.hpp"
#include "scheduler/run_spec.hpp"
#include "services/queue.hpp"
#include "services/views.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;

namespace {

core::Unexpected bad(const std::string& field, const std::string& what) {
    return fail(ErrorCode::invalid_input, fmt::format("{}: {}", field, what));
}

core::Result<std::int64_t> integer(const nlohmann::json& v, const std::string& field) {
    if (!v.is_number_integer() &&
        !(v.is_number_float() &&
          v.get<double>() == static_cast<double>(static_cast<std::int64_t>(v.get<double>())))) {
        return bad(field, "must be an integer");
    }
    return v.is_number_integer() ? v.get<std::int64_t>()
                                 : static_cast<std::int64_t>(v.get<double>());
}

core::Result<double> number(const nlohmann::json& v, const std::string& field) {
    if (!v.is_number()) {
        return bad(field, "must be a number");
    }
    return v.get<double>();
}

core::Result<std::string> text(const nlohmann::json& v, const std::string& field) {
    if (!v.is_string()) {
        return bad(field, "must be a string");
    }
    return v.get<std::string>();
}

core::Status read_params(const nlohmann::json& p, RunOptions& o) {
    if (!p.is_object()) {
        return bad("params", "must be an object");
    }
    for (const auto& [key, v] : p.items()) {
        std::string f = "params." + key;
        if (key == "weights") {
            if (!v.is_object()) {
                return bad(f, "must be an object of modality: weight");
            }
            for (const auto& [m, w] : v.items()) {
                COSMOS_TRY(double x, number(w, f + "." + m));
                o.weight[m] = x;
            }
        } else if (key == "num_steps") {
            COSMOS_TRY(o.num_steps, integer(v, f));
        } else if (key == "guidance") {
            COSMOS_TRY(o.guidance, number(v, f));
        } else if (key == "sigma_max") {
            COSMOS_TRY(o.sigma_max, number(v, f));
        } else if (key == "fps") {
            COSMOS_TRY(o.fps, integer(v, f));
        } else if (key == "seed") {
            COSMOS_TRY(o.seed, integer(v, f));
        } else if (key == "num_gpus") {
            COSMOS_TRY(o.num_gpus, integer(v, f));
        } else if (key == "blur_strength") {
            COSMOS_TRY(o.blur_strength, text(v, f));
        } else if (key == "canny_threshold") {
            COSMOS_TRY(o.canny_threshold, text(v, f));
        } else if (key == "model" || key == "variant" || key == "resolution") {
            COSMOS_TRY(auto name, text(v, f));
            (key == "model" ? o.model : key == "variant" ? o.variant : o.resolution) = name;
        } else if (key == "max_frames") {
            COSMOS_TRY(o.max_frames, integer(v, f));
        } else if (key == "num_video_frames_per_chunk") {
            COSMOS_TRY(o.chunk_frames, integer(v, f));
        } else if (key == "num_conditional_frames") {
            COSMOS_TRY(o.conditional_frames, integer(v, f));
        } else if (key == "offload") {
            if (!v.is_array()) {
                return bad(f, "must be an array of names");
            }
            std::vector<std::string> names;
            for (const auto& n : v) {
                COSMOS_TRY(auto s, text(n, f));
                names.push_back(s);
            }
            o.offload = names;
        } else {
            return fail(ErrorCode::invalid_input,
                        fmt::format("unknown parameter '{}'", key),
                        "params takes model, weights, num_steps, guidance, sigma_max, fps, seed, "
                        "blur_strength, canny_threshold, num_gpus, offload, and for "
                        "transfer2.5 variant, resolution, max_frames, "
                        "num_video_frames_per_chunk, num_conditional_frames");
        }
    }
    return {};
}

core::Result<store::PromptRecord> prompt_of(const App& app, const std::string& id) {
    if (!core::is_valid_id(core::IdKind::prompt, id)) {
        return fail(ErrorCode::not_found, fmt::format("no prompt '{}'", id));
    }
    COSMOS_TRY(auto p, store::get_prompt(app.db, id));
    if (!p) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", id));
    }
    return *p;
}

}  // namespace

core::Result<LaunchRequest> launch_request_from_json(const nlohmann::json& body) {
    LaunchRequest req;
    bool has_prompt = false;
    for (const auto& [key, v] : body.items()) {
        if (key == "prompt_id") {
            COSMOS_TRY(req.prompt_id, text(v, key));
            has_prompt = true;
        } else if (key == "params") {
            if (auto s = read_params(v, req.options); !s) {
                return fail(s.error());
            }
        } else if (key == "host") {
            if (!v.is_null()) {
                COSMOS_TRY(req.host, text(v, key));
            }
        } else if (key == "parent_run_id") {
            if (!v.is_null()) {
                COSMOS_TRY(req.parent_run_id, text(v, key));
            }
        } else if (key == "priority") {
            COSMOS_TRY(auto p, integer(v, key));
            if (p < -1000000 || p > 1000000) {
                return bad(key, "must be between -1000000 and 1000000");
            }
            req.priority = static_cast<int>(p);
        } else {
            return fail(ErrorCode::invalid_input,
                        fmt::format("unknown field '{}'", key),
                        "a launch takes prompt_id, params, host, priority and parent_run_id");
        }
    }
    if (!has_prompt) {
        return bad("prompt_id", "is required");
    }
    return req;
}

core::Result<nlohmann::ordered_json> preview_run(const App& app,
                                                 const store::PromptRecord& prompt,
                                                 const store::RunRecord& run,
                                                 const config::HostConfig* host) {
    COSMOS_TRY(auto spec, scheduler::run_spec(app, prompt, run, scheduler::SpecFiles::name_only));
    nlohmann::ordered_json command = nullptr;
    if (host) {
        // The command builder the run's launch uses (backends::job_command), for a job dir
        // named RUN_ID on that host; `~` paths are shown as written.
        auto remote = backends::describe_remote_host(*host);
        backends::RemoteJobSpec job;
        job.run_id = "RUN_ID";
        job.family = run.model;
        job.kind = run.kind;
        job.params = run.params;
        job.num_steps = scheduler::num_steps_flag(run);
        command = backends::job_command(remote, job, spec, false).argv;
    }
    return nlohmann::ordered_json{{"params", run_json(run)["params"]},
                                  {"spec", spec},
                                  {"command", command},
                                  {"host", host ? nlohmann::ordered_json(host->name) : nullptr}};
}

core::Result<nlohmann::ordered_json> preview_launch(const App& app, const LaunchRequest& req) {
    COSMOS_TRY(auto prompt, prompt_of(app, req.prompt_id));
    COSMOS_TRY(auto run, plan_run(app, prompt, req.options));
    run.id = "rs_preview";
    const config::HostConfig* host = nullptr;
    if (req.host) {
        auto it = app.config.hosts.find(*req.host);
        if (it == app.config.hosts.end()) {
            return fail(ErrorCode::not_found, fmt::format("no host {}", *req.host));
        }
        host = &it->second;
    } else {
        for (const auto& [name, h] : app.config.hosts) {
            if (!host || (h.kind == core::HostKind::local && host->kind != core::HostKind::local)) {
                host = &h;
            }
        }
    }
    return preview_run(app, prompt, run, host);
}

core::Result<Launched> launch_run(const App& app, const LaunchRequest& req) {
    COSMOS_TRY(auto prompt, prompt_of(app, req.prompt_id));
    if (req.host && !app.config.hosts.count(*req.host)) {
        return fail(ErrorCode::not_found, fmt::format("no host {}", *req.host));
    }
    if (req.parent_run_id) {
        if (!core::is_valid_id(core::IdKind::run, *req.parent_run_id)) {
            return fail(ErrorCode::not_found, fmt::format("no run '{}'", *req.parent_run_id));
        }
        COSMOS_TRY(auto parent, store::require_run(app.db, *req.parent_run_id));
        (void)parent;
    }
    // As create_run, with the parent run recorded.
    COSMOS_TRY(auto run, plan_run(app, prompt, req.options));
    run.parent_run_id = req.parent_run_id;
    run.source = "web";
    if (auto s = store::insert_run(app.db, run); !s) {
        return fail(s.error());
    }
    QueueOptions q;
    q.priority = req.priority;
    q.host = req.host;
    auto job = enqueue_run(app, run.id, q);
    if (!job) {
        core::warn_on_error(store::delete_run(app.db, run.id), "store::delete_run");
        return fail(std::move(job).error());
    }
    COSMOS_TRY(auto stored, store::require_run(app.db, run.id));
    return Launched{std::move(stored), std::move(*job)};
}

}  // namespace cosmos::services
