#include "backends/served_api.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <httplib.h>

#include "core/read_file.hpp"
#include "core/redact.hpp"
#include "model/cosmos3.hpp"

namespace cosmos::backends {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_max_input_reference = 512ULL << 20;  // the servers' upload limit
constexpr std::uint64_t k_max_video = 16ULL << 30;
constexpr std::size_t k_max_json = 16 << 20;

httplib::Client client(const Endpoint& e, int read_timeout_s = 60) {
    httplib::Client c(e.url);
    if (e.url.rfind("https://", 0) == 0) {
        c.enable_server_certificate_verification(true);
        if (!e.ca_file.empty()) {
            c.set_ca_cert_path(e.ca_file.c_str());
        }
    }
    c.set_connection_timeout(10, 0);
    c.set_read_timeout(read_timeout_s, 0);
    c.set_write_timeout(60, 0);
    c.set_keep_alive(false);
    if (!e.api_key.empty()) {
        c.set_bearer_token_auth(e.api_key.c_str());
    }
    return c;
}

core::Unexpected unreachable(const Endpoint& e, httplib::Error err) {
    if (err == httplib::Error::SSLServerVerification) {
        return fail(ErrorCode::auth_failed,
                    fmt::format("the model server of {} offered a certificate that could not be "
                                "verified{} (a private CA: give its certificate with --ca-file)",
                                e.where,
                                e.ca_file.empty() ? " with the system's CA certificates"
                                                  : " with " + e.ca_file),
                    "if the server uses a private CA, give its certificate: cosmos hosts add "
                    "NAME ... --ca-file CA.pem (ca_file in the config)");
    }
    if (err == httplib::Error::SSLLoadingCerts) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("cannot load the CA certificates {} for the model server of {}",
                                e.ca_file.empty() ? std::string("of the system") : e.ca_file,
                                e.where),
                    "ca_file must be PEM certificates");
    }
    if (err == httplib::Error::SSLConnection) {
        return fail(ErrorCode::host_unreachable,
                    fmt::format("cannot open a TLS connection to the model server of {}", e.where),
                    "check that the url's scheme matches the server (http:// or https://)");
    }
    return fail(
        ErrorCode::host_unreachable,
        fmt::format("cannot reach the model server of {}: {}", e.where, httplib::to_string(err)),
        "check that the server runs (`cosmos status HOST`) and the url is right");
}

// The server's own message from an OpenAI-style error body, else the body's start.
std::string server_message(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
        const auto& err = j.contains("error") ? j["error"] : j;
        if (err.is_object() && err.contains("message") && err["message"].is_string()) {
            return err["message"].get<std::string>();
        }
        if (err.is_string()) {
            return err.get<std::string>();
        }
        if (j.contains("detail") && j["detail"].is_string()) {
            return j["detail"].get<std::string>();
        }
    }
    return core::redact(body.substr(0, 300));
}

// Fails for any answer but 2xx, naming what was asked.
core::Status check_status(const Endpoint& e, const httplib::Result& r, std::string_view what) {
    if (!r) {
        return unreachable(e, r.error());
    }
    int s = r->status;
    if (s >= 200 && s < 300) {
        return {};
    }
    std::string msg = server_message(r->body);
    if (s == 401 || s == 403) {
        return fail(
            ErrorCode::auth_failed,
            fmt::format("the model server of {} refused {} ({}): {}", e.where, what, s, msg),
            "check the host's api_key_file holds the server's key");
    }
    if (s == 404) {
        return fail(ErrorCode::not_found,
                    fmt::format("the model server of {} has no {} (404): {}", e.where, what, msg));
    }
    if (s >= 400 && s < 500) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("the model server of {} refused {} ({}): {}", e.where, what, s, msg));
    }
    return fail(ErrorCode::remote_failed,
                fmt::format("the model server of {} failed {} ({}): {}", e.where, what, s, msg));
}

core::Result<nlohmann::json> json_of(const Endpoint& e,
                                     const httplib::Result& r,
                                     std::string_view what) {
    COSMOS_CHECK(check_status(e, r, what));
    if (r->body.size() > k_max_json) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("the model server of {} answered {} with more than 16 MiB", e.where, what));
    }
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("the model server of {} answered {} with no JSON object", e.where, what));
    }
    return j;
}

// A text field of a server's answer ("" when missing or not text: `value` would throw json's
// type_error on `"id": 5`, and a server's answer must not be able to end cosmos).
std::string text_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

VideoJob job_of(const nlohmann::json& j) {
    VideoJob job;
    job.id = text_field(j, "id");
    job.status = text_field(j, "status");
    if (j.contains("progress") && j["progress"].is_number()) {
        // A percentage, as OpenAI's Videos API gives it.
        job.progress = std::clamp(j["progress"].get<double>() / 100.0, 0.0, 1.0);
    }
    if (j.contains("error") && !j["error"].is_null()) {
        const auto& err = j["error"];
        if (err.is_object()) {
            job.error = err.contains("message") && err["message"].is_string()
                            ? err["message"].get<std::string>()
                            : err.dump();
            if (err.contains("code") && err["code"].is_string()) {
                job.error_code = err["code"].get<std::string>();
            }
        } else {
            job.error = err.is_string() ? err.get<std::string>() : err.dump();
        }
    }
    return job;
}

core::Result<std::string> read_reference(const fs::path& path) {
    auto data = core::read_file(path, k_max_input_reference, "input video");
    if (!data && data.error().code == ErrorCode::invalid_input) {
        return fail(ErrorCode::invalid_input,
                    data.error().message,
                    "the servers take at most 512 MiB: shorten it (--max-frames) or lower its "
                    "resolution");
    }
    return data;
}

}  // namespace

core::Status check_health(const Endpoint& e) {
    auto c = client(e, 10);
    return check_status(e, c.Get("/health"), "a health check");
}

core::Result<std::vector<std::string>> served_models(const Endpoint& e) {
    auto c = client(e, 20);
    COSMOS_TRY(auto j, json_of(e, c.Get("/v1/models"), "the model list"));
    std::vector<std::string> ids;
    if (j.contains("data") && j["data"].is_array()) {
        for (const auto& m : j["data"]) {
            if (m.is_object() && m.contains("id") && m["id"].is_string()) {
                ids.push_back(m["id"].get<std::string>());
            }
        }
    }
    return ids;
}

core::Result<std::string> create_video(const Endpoint& e, const nlohmann::ordered_json& spec) {
    httplib::MultipartFormDataItems items;
    for (auto& [key, value] : model::cosmos3_form_fields(spec)) {
        items.push_back({key, std::move(value), "", ""});
    }
    if (spec.contains("input_reference") && spec["input_reference"].is_string()) {
        fs::path ref = spec["input_reference"].get<std::string>();
        COSMOS_TRY(std::string data, read_reference(ref));
        items.push_back({"input_reference", std::move(data), ref.filename().string(), "video/mp4"});
    }
    auto c = client(e, 300);  // the upload, then the server's answer
    COSMOS_TRY(auto j, json_of(e, c.Post("/v1/videos", items), "the video request"));
    std::string id = text_field(j, "id");
    if (id.empty()) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("the model server of {} accepted the request but gave no job id", e.where));
    }
    return id;
}

core::Result<VideoJob> get_video(const Endpoint& e, const std::string& id) {
    auto c = client(e, 30);
    COSMOS_TRY(auto j, json_of(e, c.Get("/v1/videos/" + id), fmt::format("job {}", id)));
    auto job = job_of(j);
    if (job.id.empty()) {
        job.id = id;
    }
    return job;
}

core::Result<std::vector<VideoJob>> list_videos(const Endpoint& e) {
    auto c = client(e, 30);
    COSMOS_TRY(auto j, json_of(e, c.Get("/v1/videos"), "the job list"));
    std::vector<VideoJob> jobs;
    if (j.contains("data") && j["data"].is_array()) {
        for (const auto& v : j["data"]) {
            if (v.is_object()) {
                jobs.push_back(job_of(v));
            }
        }
    }
    return jobs;
}

core::Result<std::uint64_t> download_video(const Endpoint& e,
                                           const std::string& id,
                                           const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    fs::path part = to;
    part += ".part";
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    if (!out) {
        return fail(ErrorCode::io, fmt::format("cannot write {}", part.string()));
    }
    std::uint64_t received = 0;
    bool too_big = false;
    auto c = client(e, 300);
    auto r = c.Get(
        ("/v1/videos/" + id + "/content").c_str(),
        httplib::Headers{},
        [&](const httplib::Response& resp) { return resp.status >= 200 && resp.status < 300; },
        [&](const char* data, std::size_t n) {
            received += n;
            too_big = received > k_max_video;
            out.write(data, static_cast<std::streamsize>(n));
            return !too_big && static_cast<bool>(out);
        });
    out.close();
    if (r && r->status >= 200 && r->status < 300 && !too_big && out) {
        fs::rename(part, to, ec);
        if (ec) {
            return fail(ErrorCode::io,
                        fmt::format("cannot write {}: {}", to.string(), ec.message()));
        }
        return received;
    }
    fs::remove(part, ec);
    if (too_big) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the video of job {} from {} is larger than 16 GiB", id, e.where));
    }
    if (r && r->status >= 200 && r->status < 300) {
        return fail(ErrorCode::io, fmt::format("cannot write {}", part.string()));
    }
    COSMOS_CHECK(check_status(e, r, fmt::format("the video of job {}", id)));
    return fail(ErrorCode::remote_failed,
                fmt::format("the download of job {}'s video from {} broke off", id, e.where));
}

core::Status delete_video(const Endpoint& e, const std::string& id) {
    auto c = client(e, 30);
    auto s = check_status(e, c.Delete(("/v1/videos/" + id).c_str()), fmt::format("job {}", id));
    if (!s && s.error().code == ErrorCode::not_found) {
        return {};
    }
    return s;
}

core::Result<std::string> chat(const Endpoint& e,
                               const std::string& model,
                               const nlohmann::json& messages,
                               int max_tokens) {
    nlohmann::json body = {
        {"model", model}, {"messages", messages}, {"max_tokens", max_tokens}, {"temperature", 0.2}};
    auto c = client(e, 600);
    COSMOS_TRY(auto j,
               json_of(e,
                       c.Post("/v1/chat/completions", body.dump(), "application/json"),
                       "the chat request"));
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
        !j["choices"][0].contains("message") || !j["choices"][0]["message"].is_object() ||
        text_field(j["choices"][0]["message"], "content").empty()) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("the Reasoner of {} answered without a message", e.where));
    }
    return j["choices"][0]["message"]["content"].get<std::string>();
}

core::Status post_body(const Endpoint& e,
                       const std::string& path,
                       const std::string& body,
                       const std::string& content_type,
                       int timeout_s) {
    auto c = client(e, timeout_s);
    c.set_connection_timeout(timeout_s, 0);
    c.set_write_timeout(timeout_s, 0);
    auto r = c.Post(path, body, content_type);
    if (!r) {
        if (r.error() == httplib::Error::SSLServerVerification) {
            return fail(ErrorCode::auth_failed,
                        fmt::format("{} offered a certificate that could not be verified", e.where),
                        "if it uses a private CA, give its certificate with ca_file");
        }
        return fail(ErrorCode::host_unreachable,
                    fmt::format("cannot reach {}: {}", e.where, httplib::to_string(r.error())));
    }
    int s = r->status;
    if (s >= 200 && s < 300) {
        return {};
    }
    std::string answer = core::redact(r->body.substr(0, 200));
    for (char& ch : answer) {
        if (ch == '\n' || ch == '\r') {
            ch = ' ';
        }
    }
    return fail(
        s == 401 || s == 403 ? ErrorCode::auth_failed : ErrorCode::remote_failed,
        fmt::format("{} answered HTTP {}{}{}", e.where, s, answer.empty() ? "" : ": ", answer));
}

}  // namespace cosmos::backends
