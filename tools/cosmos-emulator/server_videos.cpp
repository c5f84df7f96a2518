// The generator's routes: POST /v1/videos (and /sync), GET /v1/videos[/{id}[/content]],
// DELETE /v1/videos/{id}.
#include <system_error>

#include <fmt/format.h>

#include "server_http.hpp"
#include "server_render.hpp"

namespace cosmos::emulator {

namespace {

struct Upload {
    const httplib::MultipartFormData* part = nullptr;
};

// The text fields (first value of each name) and the input_reference file part.
core::Result<FormFields> collect_form(const httplib::Request& req, Upload& upload) {
    FormFields fields;
    if (!req.is_multipart_form_data()) {
        for (const auto& [name, value] : req.params) {
            fields.emplace(name, value);
        }
        return fields;
    }
    for (const auto& [name, part] : req.files) {
        if (name == "input_reference") {
            if (part.filename.empty()) {
                return core::fail(core::ErrorCode::invalid_input,
                                  "input_reference must be an uploaded file (a form part with a "
                                  "filename), an image or a video",
                                  "input_reference");
            }
            if (upload.part == nullptr) {
                upload.part = &part;
            }
        } else if (part.filename.empty()) {
            fields.emplace(name, part.content);
        }
    }
    return fields;
}

nlohmann::ordered_json input_json(const InputReference& in) {
    if (in.kind == InputReference::Kind::none) {
        return nullptr;
    }
    return {{"filename", in.filename},
            {"bytes", in.bytes},
            {"frames", in.frames},
            {"width", in.width},
            {"height", in.height}};
}

// Validates the request and queues its job (`queued`: its API object then); answers the error
// itself and returns null on failure.
std::shared_ptr<VideoJob> create_job(const httplib::Request& req,
                                     httplib::Response& res,
                                     ServerContext& ctx,
                                     nlohmann::ordered_json& queued) {
    Upload upload;
    auto fields = collect_form(req, upload);
    if (!fields) {
        send_api_error(res, 400, fields.error().message, fields.error().hint);
        return nullptr;
    }
    if (auto m = fields->find("model");
        m != fields->end() && m->second != ctx.options.served_name) {
        send_api_error(res, 404, fmt::format("The model `{}` does not exist.", m->second), "model");
        return nullptr;
    }
    auto params = parse_video_form(*fields);
    if (!params) {
        send_api_error(res, 400, params.error().message, params.error().hint);
        return nullptr;
    }
    auto job = ctx.jobs.new_job();
    if (!job) {
        send_api_error(res, 500, job.error().message);
        return nullptr;
    }
    std::shared_ptr<VideoJob> j = *job;
    if (upload.part != nullptr) {
        auto in = save_input_reference(
            j->dir, upload.part->filename, upload.part->content_type, upload.part->content);
        if (!in) {
            std::error_code ec;
            std::filesystem::remove_all(j->dir, ec);
            send_api_error(res,
                           in.error().code == core::ErrorCode::invalid_input ? 400 : 500,
                           in.error().message,
                           in.error().hint);
            return nullptr;
        }
        j->input = *in;
    }
    j->params = std::move(*params);
    apply_input_defaults(j->params, j->input);
    queued = ctx.jobs.submit(j);
    ctx.log.write("video_job",
                  {{"id", j->id},
                   {"form", *fields},
                   {"input_reference", input_json(j->input)},
                   {"extra_params", j->params.extra_params},
                   {"seed", j->params.seed}});
    return j;
}

void create(const httplib::Request& req, httplib::Response& res, ServerContext& ctx) {
    nlohmann::ordered_json queued;
    if (create_job(req, res, ctx, queued)) {
        send_api_json(res, 200, queued);
    }
}

void create_sync(const httplib::Request& req, httplib::Response& res, ServerContext& ctx) {
    nlohmann::ordered_json queued;
    auto job = create_job(req, res, ctx, queued);
    if (!job) {
        return;
    }
    std::string status = ctx.jobs.wait(job->id);
    auto described = ctx.jobs.describe(job->id);
    std::string body;
    if (status == "completed" && read_output(job->output(), body)) {
        res.status = 200;
        res.set_content(body, "video/mp4");
    } else if (described && !(*described)["error"].is_null()) {
        const auto& e = (*described)["error"];
        int code = e["code"] == "guardrail_blocked" ? 400 : 500;
        send_api_error(res, code, e["message"].get<std::string>());
    } else {
        send_api_error(res, 500, fmt::format("video job {} did not complete", job->id));
    }
    ctx.jobs.remove(job->id);  // the sync API hands the video over and keeps nothing
}

void not_found(httplib::Response& res, const std::string& id) {
    send_api_error(res, 404, fmt::format("Video {} not found", id), "video_id");
}

void content(const httplib::Request& req, httplib::Response& res, ServerContext& ctx) {
    const std::string id = req.matches[1];
    auto out = ctx.jobs.output_of(id);
    if (!out) {
        return not_found(res, id);
    }
    if (out->first != "completed") {
        return send_api_error(res,
                              409,
                              fmt::format("Video {} is not completed (status: {})", id, out->first),
                              "video_id");
    }
    std::string body;
    if (!read_output(out->second, body)) {
        return send_api_error(res, 500, fmt::format("cannot read the video of {}", id));
    }
    res.status = 200;
    res.set_content(body, "video/mp4");
}

}  // namespace

void add_video_routes(httplib::Server& server, ServerContext& ctx) {
    server.Post("/v1/videos", [&ctx](const httplib::Request& req, httplib::Response& res) {
        create(req, res, ctx);
    });
    server.Post("/v1/videos/sync", [&ctx](const httplib::Request& req, httplib::Response& res) {
        create_sync(req, res, ctx);
    });
    server.Get("/v1/videos", [&ctx](const httplib::Request&, httplib::Response& res) {
        send_api_json(res, 200, ctx.jobs.list());
    });
    server.Get(
        R"(/v1/videos/([^/]+)/content)",
        [&ctx](const httplib::Request& req, httplib::Response& res) { content(req, res, ctx); });
    server.Get(R"(/v1/videos/([^/]+))",
               [&ctx](const httplib::Request& req, httplib::Response& res) {
                   const std::string id = req.matches[1];
                   if (auto job = ctx.jobs.describe(id)) {
                       return send_api_json(res, 200, *job);
                   }
                   not_found(res, id);
               });
    server.Delete(
        R"(/v1/videos/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
            const std::string id = req.matches[1];
            if (!ctx.jobs.remove(id)) {
                return not_found(res, id);
            }
            send_api_json(res, 200, {{"id", id}, {"object", "video.deleted"}, {"deleted", true}});
        });
}

}  // namespace cosmos::emulator
