// State-changing endpoints of the JSON API (docs/api.md): create a prompt, enhance it, launch a
// run (create + queue), preview its spec, cancel, rate a run, and control the queue (pause, resume,
// cancel, move). The server's guard has already checked the token, the CSRF double submit and the
// JSON content type; each handler parses the body, calls one service and renders its JSON.

#include <fmt/format.h>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "services/create_prompt.hpp"
#include "services/enhance.hpp"
#include "services/launch.hpp"
#include "services/queue.hpp"
#include "services/queue_view.hpp"
#include "services/views.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "web/http_util.hpp"
#include "web/routes.hpp"

namespace cosmos::web {

using core::ErrorCode;
using core::fail;
using J = nlohmann::ordered_json;

namespace {

// Reads optional string field `key` of `body`; fails when present with another type.
core::Result<std::optional<std::string>> opt_string(const nlohmann::json& body, const char* key) {
    if (!body.contains(key) || body[key].is_null()) {
        return std::optional<std::string>();
    }
    if (!body[key].is_string()) {
        return fail(ErrorCode::invalid_input, fmt::format("{} must be a string", key));
    }
    return std::optional<std::string>(body[key].get<std::string>());
}

core::Status only_fields(const nlohmann::json& body, std::initializer_list<const char*> allowed) {
    for (const auto& [key, v] : body.items()) {
        bool ok = false;
        for (const char* a : allowed) {
            ok = ok || key == a;
        }
        if (!ok) {
            return fail(ErrorCode::invalid_input, fmt::format("unknown field '{}'", key));
        }
    }
    return {};
}

// The job's 1-based place among queued jobs (nothing when it is not queued).
core::Result<std::optional<int>> position_of(const services::App& app,
                                             const store::JobRecord& job) {
    if (job.state != store::JobState::queued) {
        return std::optional<int>();
    }
    COSMOS_TRY(auto jobs, store::list_jobs(app.db, 0));
    int position = 0;
    for (const auto& j : jobs) {
        if (j.state == store::JobState::queued) {
            ++position;
            if (j.id == job.id) {
                return std::optional<int>(position);
            }
        }
    }
    return std::optional<int>();
}

core::Result<J> job_reply(const services::App& app, const store::JobRecord& job) {
    COSMOS_TRY(auto run, store::get_run(app.db, job.run_id));
    COSMOS_TRY(auto position, position_of(app, job));
    return services::job_json(job, run, position);
}

core::Result<Reply> create_prompt(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    if (auto s = only_fields(body, {"prompt", "input_dir", "name", "negative_prompt", "parent_id"});
        !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto text, opt_string(body, "prompt"));
    COSMOS_TRY(auto dir, opt_string(body, "input_dir"));
    if (!text || !dir) {
        return fail(ErrorCode::invalid_input, "prompt and input_dir are required");
    }
    services::CreatePromptRequest r;
    r.text = *text;
    r.input_dir = *dir;
    COSMOS_TRY(r.name, opt_string(body, "name"));
    COSMOS_TRY(r.negative, opt_string(body, "negative_prompt"));
    COSMOS_TRY(r.parent_id, opt_string(body, "parent_id"));
    COSMOS_TRY(auto p, services::create_prompt(app, r));
    return Reply{201, services::prompt_json(p)};
}

core::Result<Reply> enhance_prompt(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    if (auto s = only_fields(body, {"offload", "host", "priority"}); !s) {
        return fail(s.error());
    }
    bool offload = body.value("offload", false);
    COSMOS_TRY(auto run, services::create_enhance_run(app, req.matches[1].str(), offload));
    services::QueueOptions q;
    COSMOS_TRY(q.host, opt_string(body, "host"));
    if (body.contains("priority") && body["priority"].is_number_integer()) {
        q.priority = body["priority"].get<int>();
    }
    auto job = services::enqueue_run(app, run.id, q);
    if (!job) {
        core::warn_on_error(store::delete_run(app.db, run.id), "store::delete_run");
        return fail(std::move(job).error());
    }
    COSMOS_TRY(auto stored, store::require_run(app.db, run.id));
    COSMOS_TRY(auto j, job_reply(app, *job));
    return Reply{201, {{"run", services::run_json(stored)}, {"job", j}}};
}

core::Result<Reply> launch(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    COSMOS_TRY(auto launch, services::launch_request_from_json(body));
    COSMOS_TRY(auto done, services::launch_run(app, launch));
    COSMOS_TRY(auto j, job_reply(app, done.job));
    return Reply{201, {{"run", services::run_json(done.run)}, {"job", j}}};
}

core::Result<Reply> preview(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    COSMOS_TRY(auto launch, services::launch_request_from_json(body));
    COSMOS_TRY(auto j, services::preview_launch(app, launch));
    return Reply{200, j};
}

core::Result<Reply> cancel(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    (void)body;
    COSMOS_TRY(auto job, services::cancel_queued(app, req.matches[1].str()));
    COSMOS_TRY(auto j, job_reply(app, job));
    return Reply{200, j};
}

// POST /api/runs/{id}/cancel: as the queue's cancel, for a run id; a run that was never
// queued is a conflict (nothing to cancel), an unknown run not found.
core::Result<Reply> cancel_run(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    (void)body;
    std::string id = req.matches[1].str();
    if (!core::is_valid_id(core::IdKind::run, id)) {
        return fail(ErrorCode::not_found, fmt::format("no run '{}'", id));
    }
    COSMOS_TRY(auto run, store::require_run(app.db, id));
    COSMOS_TRY(auto queued, store::job_for_run(app.db, id));
    if (!queued) {
        return fail(ErrorCode::conflict,
                    fmt::format("run {} is {} and was never queued: nothing to cancel",
                                id,
                                store::to_string(run.status)));
    }
    COSMOS_TRY(auto job, services::cancel_queued(app, id));
    COSMOS_TRY(auto j, job_reply(app, job));
    return Reply{200, j};
}

// POST /api/runs/{id}/rating {"rating": 1-5 | null}: sets or clears the run's rating (as
// `cosmos rate`); answers the run.
core::Result<Reply> rate_run(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    COSMOS_CHECK(only_fields(body, {"rating"}));
    if (!body.contains("rating")) {
        return fail(ErrorCode::invalid_input,
                    "rating is required",
                    "send {\"rating\": 1-5} to rate the run, {\"rating\": null} to clear it");
    }
    std::optional<int> rating;
    if (!body["rating"].is_null()) {
        COSMOS_TRY(auto n,
                   parse_query_int("rating",
                                   body["rating"].is_number_integer() ? body["rating"].dump()
                                                                      : std::string("x"),
                                   0,
                                   store::k_min_rating,
                                   store::k_max_rating));
        rating = static_cast<int>(n);
    }
    std::string id = req.matches[1].str();
    if (!core::is_valid_id(core::IdKind::run, id)) {
        return fail(ErrorCode::not_found, fmt::format("no run '{}'", id));
    }
    COSMOS_CHECK(store::set_run_rating(app.db, id, rating));
    COSMOS_TRY(auto run, store::require_run(app.db, id));
    return Reply{200, services::run_json(run)};
}

core::Result<Reply> queue(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto finished, parse_query_int("finished", query(req, "finished"), 20, 0, 1000));
    COSMOS_TRY(auto q, services::queue_json(app, static_cast<int>(finished)));
    return Reply{200, {{"paused", q["paused"]}, {"items", q["jobs"]}}};
}

httplib::Server::Handler pause_queue(UiServer::Impl& s, bool pausing) {
    return api(s,
               [pausing](const httplib::Request& req, services::App& app) -> core::Result<Reply> {
                   COSMOS_TRY(auto body, json_body(req));
                   (void)body;
                   if (auto st = store::set_queue_paused(app.db, pausing); !st) {
                       return fail(st.error());
                   }
                   return Reply{200, {{"paused", pausing}}};
               });
}

httplib::Server::Handler pause_job(UiServer::Impl& s, bool pausing) {
    return api(s,
               [pausing](const httplib::Request& req, services::App& app) -> core::Result<Reply> {
                   COSMOS_TRY(auto body, json_body(req));
                   (void)body;
                   COSMOS_TRY(auto job, services::find_job(app, req.matches[1].str()));
                   if (auto st = store::set_job_paused(app.db, job.id, pausing); !st) {
                       return fail(st.error());
                   }
                   COSMOS_TRY(auto now, store::get_job(app.db, job.id));
                   COSMOS_TRY(auto j, job_reply(app, now ? *now : job));
                   return Reply{200, j};
               });
}

core::Result<Reply> move(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto body, json_body(req));
    if (auto s = only_fields(body, {"position", "priority"}); !s) {
        return fail(s.error());
    }
    std::optional<int> position, priority;
    if (body.contains("position")) {
        COSMOS_TRY(auto v,
                   parse_query_int("position",
                                   body["position"].is_number_integer() ? body["position"].dump()
                                                                        : std::string("x"),
                                   0,
                                   1,
                                   1000000));
        position = static_cast<int>(v);
    }
    if (body.contains("priority")) {
        COSMOS_TRY(auto v,
                   parse_query_int("priority",
                                   body["priority"].is_number_integer() ? body["priority"].dump()
                                                                        : std::string("x"),
                                   0,
                                   -1000000,
                                   1000000));
        priority = static_cast<int>(v);
    }
    if (!position && !priority) {
        return fail(ErrorCode::invalid_input, "give position or priority");
    }
    COSMOS_TRY(auto job, services::find_job(app, req.matches[1].str()));
    if (auto s = store::move_job(app.db, job.id, position, priority); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto q, services::queue_json(app, 0));
    return Reply{200, {{"paused", q["paused"]}, {"items", q["jobs"]}}};
}

}  // namespace

void add_write_routes(UiServer::Impl& s) {
    s.http.Get("/api/queue", api(s, queue));
    s.http.Post("/api/prompts", api(s, create_prompt));
    s.http.Post(R"(/api/prompts/([^/]+)/enhance)", api(s, enhance_prompt));
    s.http.Post("/api/runs", api(s, launch));
    s.http.Post("/api/spec/preview", api(s, preview));
    s.http.Post(R"(/api/runs/([^/]+)/cancel)", api(s, cancel_run));
    s.http.Post(R"(/api/runs/([^/]+)/rating)", api(s, rate_run));
    s.http.Post("/api/queue/pause", pause_queue(s, true));
    s.http.Post("/api/queue/resume", pause_queue(s, false));
    s.http.Post(R"(/api/queue/([^/]+)/cancel)", api(s, cancel));
    s.http.Post(R"(/api/queue/([^/]+)/pause)", pause_job(s, true));
    s.http.Post(R"(/api/queue/([^/]+)/resume)", pause_job(s, false));
    s.http.Post(R"(/api/queue/([^/]+)/move)", api(s, move));
}

}  // namespace cosmos::web
