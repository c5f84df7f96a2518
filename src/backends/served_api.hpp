#pragma once
// The HTTP APIs of model servers (docs/serving.md): vLLM-Omni's (and SGLang's) Videos API for a
// generator, OpenAI chat completions for a Reasoner. Every request carries the endpoint's API
// key as a Bearer token when it has one; the key is a registered secret and never appears in an
// error. Errors: host_unreachable when the server cannot be reached, auth_failed for 401/403,
// not_found for an unknown job, invalid_input when the server refused the request (its message
// included), remote_failed for server errors.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace cosmos::backends {

struct Endpoint {
    std::string url;      // http(s)://HOST:PORT (for a server cosmos runs: the local forward)
    std::string ca_file;  // https: CA certificates to verify the server with; empty: the system's
    std::string api_key;  // empty: none
    std::string where;    // for messages: "host c3 (http://10.0.0.5:8000)"
};

struct VideoJob {
    std::string id;
    std::string status;   // queued | in_progress | completed | failed (as the server says)
    double progress = 0;  // 0..1
    std::optional<std::string> error;       // the server's message, for failed jobs
    std::optional<std::string> error_code;  // e.g. guardrail_blocked
    bool terminal() const { return status == "completed" || status == "failed"; }
};

// GET /health: ok when the server answers 200.
core::Status check_health(const Endpoint& e);

// GET /v1/models: the ids of the models the server serves.
core::Result<std::vector<std::string>> served_models(const Endpoint& e);

// POST /v1/videos with the fields of `spec` (model::cosmos3_form_fields) and its
// input_reference file; returns the job id.
core::Result<std::string> create_video(const Endpoint& e, const nlohmann::ordered_json& spec);

// GET /v1/videos/{id}.
core::Result<VideoJob> get_video(const Endpoint& e, const std::string& id);

// GET /v1/videos: the jobs the server holds.
core::Result<std::vector<VideoJob>> list_videos(const Endpoint& e);

// GET /v1/videos/{id}/content into `to` (written to to.part, renamed when complete); returns the
// bytes received.
core::Result<std::uint64_t> download_video(const Endpoint& e,
                                           const std::string& id,
                                           const std::filesystem::path& to);

// DELETE /v1/videos/{id}: aborts the job and removes it; a job already gone is no error.
core::Status delete_video(const Endpoint& e, const std::string& id);

// POST `body` (of `content_type`) to `path` on e.url (http(s)://HOST[:PORT]) with the same
// client rules (https verified against e.ca_file or the system's CAs, the Bearer key if any)
// and `timeout_s` per connect and read: for callers that are no model server (alert webhooks).
// Ok for a 2xx answer; errors name e.where, never the url: host_unreachable (no connection),
// auth_failed (an unverifiable certificate, 401, 403), remote_failed (any other status, with
// the start of the answer, redacted).
core::Status post_body(const Endpoint& e,
                       const std::string& path,
                       const std::string& body,
                       const std::string& content_type,
                       int timeout_s);

// POST /v1/chat/completions: the answer's text.
core::Result<std::string> chat(const Endpoint& e,
                               const std::string& model,
                               const nlohmann::json& messages,
                               int max_tokens);

}  // namespace cosmos::backends
