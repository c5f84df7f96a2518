#include "server_http.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "log.hpp"
#include "server_openai.hpp"
#include "server_reasoner.hpp"
#include "server_render.hpp"

namespace cosmos::emulator {

namespace {

constexpr std::size_t k_max_payload = 512u << 20;    // uploads and chat bodies
constexpr std::uintmax_t k_max_output = 2ull << 30;  // a generated video read back

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res,
                int status,
                std::string_view message,
                std::string_view param = {}) {
    send_json(res, status, openai_error(status, message, param));
}

std::string reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 404:
            return "Not Found";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        default:
            return status >= 500 ? "Internal Server Error" : "";
    }
}

bool read_capped(const std::filesystem::path& path, std::string& out) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec || size > k_max_output) {
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    out.resize(size);
    return static_cast<bool>(in.read(out.data(), static_cast<std::streamsize>(size)));
}

nlohmann::ordered_json models_body(const ServerOptions& o) {
    nlohmann::ordered_json model{{"id", o.served_name},
                                 {"object", "model"},
                                 {"created",
                                  std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()},
                                 {"owned_by", std::string(flavour_name(o.flavour))},
                                 {"root", o.model},
                                 {"parent", nullptr}};
    return {{"object", "list"}, {"data", nlohmann::ordered_json::array({model})}};
}

void add_common_hooks(httplib::Server& server, ServerContext& ctx) {
    server.set_payload_max_length(k_max_payload);
    server.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
        std::string auth = auth_state(req, ctx.options.api_key);
        if (auth == "missing" || auth == "wrong") {
            send_json(res, 401, {{"error", "Unauthorized"}});
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) {
                return httplib::Server::HandlerResponse::Unhandled;
            }
            send_json(res,
                      res.status,
                      {{"detail", res.status == 404 ? "Not Found" : reason_phrase(res.status)}});
            return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
        ctx.log.write("request",
                      {{"method", req.method},
                       {"path", req.path},
                       {"auth", auth_state(req, ctx.options.api_key)},
                       {"status", res.status}});
        print_stdout(fmt::format("INFO:     {}:{} - \"{} {} {}\" {} {}\n",
                                 req.remote_addr,
                                 req.remote_port,
                                 req.method,
                                 req.path,
                                 req.version,
                                 res.status,
                                 reason_phrase(res.status)));
    });
    server.Get("/health",
               [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    server.Get("/v1/models", [&ctx](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, models_body(ctx.options));
    });
}

void add_reasoner_routes(httplib::Server& server, ServerContext& ctx) {
    server.Post(
        "/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
            ReasonerContext rc{
                ctx.config, ctx.options.served_name, ctx.options.allowed_media_path, ctx.state_dir};
            ChatOutcome out = answer_chat(rc, req.body);
            ctx.log.write("chat",
                          {{"task", out.task},
                           {"videos", out.videos},
                           {"blocked", out.blocked},
                           {"status", out.status}});
            send_json(res, out.status, out.body);
        });
}

}  // namespace

std::string auth_state(const httplib::Request& req, const std::string& api_key) {
    if (api_key.empty() || req.path.rfind("/v1/", 0) != 0) {
        return "none_required";
    }
    if (!req.has_header("Authorization")) {
        return "missing";
    }
    const std::string given = req.get_header_value("Authorization");
    const std::string want = "Bearer " + api_key;
    unsigned diff = given.size() == want.size() ? 0 : 1;
    for (std::size_t i = 0; i < std::min(given.size(), want.size()); ++i) {
        diff |= static_cast<unsigned>(given[i] ^ want[i]);
    }
    return diff == 0 ? "ok" : "wrong";
}

void setup_routes(httplib::Server& server, ServerContext& ctx) {
    add_common_hooks(server, ctx);
    if (ctx.options.role == ServerRole::reasoner) {
        add_reasoner_routes(server, ctx);
    } else {
        add_video_routes(server, ctx);
    }
}

void send_api_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
    send_json(res, status, body);
}

void send_api_error(httplib::Response& res,
                    int status,
                    std::string_view message,
                    std::string_view param) {
    send_error(res, status, message, param);
}

bool read_output(const std::filesystem::path& path, std::string& out) {
    return read_capped(path, out);
}

}  // namespace cosmos::emulator
