#pragma once
// The HTTP surface of the emulated Cosmos 3 servers (cpp-httplib): /health, /v1/models, the
// generator's /v1/videos routes or the Reasoner's /v1/chat/completions, Bearer-key checks on
// /v1/*, one record line and one uvicorn access line per request.

#include <filesystem>

#include <httplib.h>

#include "config.hpp"
#include "server_args.hpp"
#include "server_jobs.hpp"
#include "server_record.hpp"

namespace cosmos::emulator {

struct ServerContext {
    const ServerOptions& options;
    const EmulatorConfig& config;
    const EventLog& log;
    JobStore& jobs;                   // used by the generator only
    std::filesystem::path state_dir;  // uploads, outputs, decoded data: URLs
};

// "none_required" (no key configured, or a path outside /v1/), "ok", "missing" or "wrong".
std::string auth_state(const httplib::Request& req, const std::string& api_key);

// The generator's /v1/videos routes (server_videos.cpp).
void add_video_routes(httplib::Server& server, ServerContext& ctx);

// Helpers the route files share: a JSON answer, an OpenAI error answer, and a generated video
// read back whole (false when missing or over 2 GiB).
void send_api_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);
void send_api_error(httplib::Response& res,
                    int status,
                    std::string_view message,
                    std::string_view param = {});
bool read_output(const std::filesystem::path& path, std::string& out);

// Registers the routes of `ctx.options.role` and the auth, error and logging hooks.
void setup_routes(httplib::Server& server, ServerContext& ctx);

}  // namespace cosmos::emulator
