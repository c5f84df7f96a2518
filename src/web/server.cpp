// The web UI's HTTP server: startup (bind, token), the request guards (token, Host header,
// CSRF), the pages and assets, the event stream, and the helpers the API routes share.

#include "web/server.hpp"

#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/read_file.hpp"
#include "web/assets.hpp"
#include "web/http_util.hpp"
#include "web/origin.hpp"
#include "web/routes.hpp"

namespace cosmos::web {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

constexpr const char* k_token_cookie = "cosmos_token";
constexpr const char* k_csrf_cookie = "cosmos_csrf";
// Event streams open at once; one more is refused with 503 and Retry-After.
constexpr int k_max_streams = 500;

// Reads the token file, or writes a new random token there (mode 0600) on first start.
core::Result<std::string> load_or_create_token(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    auto text = core::read_file(path, core::kSecretFileMax, "UI token file");
    if (!text && text.error().code != ErrorCode::not_found) {
        return fail(std::move(text).error());
    }
    if (text) {
        std::string token = text->substr(0, text->find('\n'));
        while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) {
            token.pop_back();
        }
        if (token.size() >= 16) {
            ::chmod(path.c_str(), 0600);
            return token;
        }
    }
    std::string token = random_hex(32);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(ErrorCode::io, fmt::format("cannot write the UI token file {}", path.string()));
    }
    ::fchmod(fd, 0600);
    std::string line = token + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) {
        return fail(ErrorCode::io, fmt::format("cannot write the UI token file {}", path.string()));
    }
    return token;
}

void refuse(httplib::Response& res,
            int status,
            std::string_view code,
            std::string message,
            std::string hint) {
    send_error(res,
               core::make_error(ErrorCode::auth_failed, std::move(message), std::move(hint)),
               status,
               code);
}

// The Host header: exactly one, well formed; on a server without a token (loopback) only a
// loopback name with the server's port (no DNS rebinding from a web page). Returns the
// authority the request names, nothing when it answered a refusal.
std::optional<Authority> checked_host(const UiServer::Impl& s,
                                      const httplib::Request& req,
                                      httplib::Response& res) {
    auto host = req.get_header_value_count("Host") == 1
                    ? parse_host_header(req.get_header_value("Host"))
                    : std::nullopt;
    if (!host) {
        send_error(res,
                   core::make_error(ErrorCode::invalid_input,
                                    "the request needs exactly one well-formed Host header",
                                    "send 'Host: NAME:PORT' as HTTP/1.1 requires"),
                   400);
        return std::nullopt;
    }
    if (s.token.empty() && !is_allowed_loopback_host(*host, s.options.bind, s.port)) {
        refuse(res,
               403,
               "forbidden",
               fmt::format("this server answers only to localhost:{0} / 127.0.0.1:{0}", s.port),
               "start it with --bind to serve other names (a token is then required)");
        return std::nullopt;
    }
    return host;
}

void send_page(const UiServer::Impl& s,
               const httplib::Request& req,
               httplib::Response& res,
               std::string_view rel) {
    auto asset = find_asset(rel, s.options.assets_dir);
    if (!asset) {
        send_error(res, core::make_error(ErrorCode::not_found, fmt::format("no asset '{}'", rel)));
        return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("ETag", asset->etag);
    if (req.get_header_value("If-None-Match") == asset->etag) {
        res.status = 304;
        return;
    }
    res.status = 200;
    res.set_content(asset->body, asset->content_type);
}

// Token check for a server that requires one: Bearer header, cookie, or ?token= (which sets
// the cookie and redirects to the same page without it).
bool authorized(const UiServer::Impl& s, const httplib::Request& req, httplib::Response& res) {
    if (s.token.empty()) {
        return true;
    }
    std::string bearer = bearer_token(req.get_header_value("Authorization"));
    if (!bearer.empty() && constant_time_equal(bearer, s.token)) {
        return true;
    }
    auto cookies = parse_cookies(req.get_header_value("Cookie"));
    if (auto it = cookies.find(k_token_cookie);
        it != cookies.end() && constant_time_equal(it->second, s.token)) {
        return true;
    }
    if (req.method == "GET" && req.has_param("token") &&
        constant_time_equal(req.get_param_value("token"), s.token)) {
        res.set_header(
            "Set-Cookie",
            fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", k_token_cookie, s.token));
        // Back to the same page, never to another site ("//host" or "/\\host").
        bool local = !req.path.empty() && req.path[0] == '/' && req.path.rfind("//", 0) != 0 &&
                     req.path.find('\\') == std::string::npos;
        res.set_redirect(local ? req.path : "/", 303);
        return false;
    }
    send_error(
        res,
        core::make_error(ErrorCode::auth_failed,
                         "this server requires its token",
                         fmt::format("send 'Authorization: Bearer TOKEN' or open /?token=TOKEN "
                                     "once; the token is in {}",
                                     s.token_path.string())),
        401,
        "token");
    return false;
}

httplib::Server::HandlerResponse guard(UiServer::Impl& s,
                                       const httplib::Request& req,
                                       httplib::Response& res) {
    // Range is answered by send_file alone: httplib must not cut other bodies.
    const_cast<httplib::Request&>(req).ranges.clear();
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    // The pages load only their own scripts, styles and media: an injected <script> or inline
    // handler (say, from a prompt text a page failed to escape) does not run.
    res.set_header(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'");
    auto host = checked_host(s, req, res);
    if (!host) {
        return httplib::Server::HandlerResponse::Handled;
    }
    if (!authorized(s, req, res)) {
        return httplib::Server::HandlerResponse::Handled;
    }
    bool changes_state = req.method == "POST" || req.method == "PUT" || req.method == "DELETE" ||
                         req.method == "PATCH";
    if (changes_state) {
        if (auto why = cross_origin_refusal(*host,
                                            req.get_header_value("Origin"),
                                            req.get_header_value("Referer"),
                                            req.get_header_value("Sec-Fetch-Site"));
            !why.empty()) {
            refuse(res, 403, "cross_origin", why, "use the pages this server serves");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!csrf_ok(req.get_header_value("Cookie"), req.get_header_value("X-Cosmos-CSRF"))) {
            send_error(
                res,
                core::make_error(ErrorCode::auth_failed,
                                 "missing or wrong CSRF token",
                                 "send header X-Cosmos-CSRF with the value of the cosmos_csrf "
                                 "cookie (set by any GET)"),
                403,
                "csrf");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!is_json_content_type(req.get_header_value("Content-Type"))) {
            send_error(res,
                       core::make_error(ErrorCode::invalid_input,
                                        "state-changing requests need a JSON body",
                                        "send Content-Type: application/json"),
                       403,
                       "csrf");
            return httplib::Server::HandlerResponse::Handled;
        }
    } else if (req.method == "GET" &&
               !parse_cookies(req.get_header_value("Cookie")).count(k_csrf_cookie)) {
        res.set_header(
            "Set-Cookie",
            fmt::format("{}={}; Path=/; SameSite=Strict", k_csrf_cookie, random_hex(16)));
    }
    return httplib::Server::HandlerResponse::Unhandled;
}

void add_event_route(UiServer::Impl& s) {
    s.http.Get("/api/events", [&s](const httplib::Request& req, httplib::Response& res) {
        std::optional<std::string> run;
        if (std::string r = query(req, "run"); !r.empty()) {
            run = r;
        }
        if (s.open_streams.fetch_add(1) >= k_max_streams) {
            s.open_streams.fetch_sub(1);
            res.set_header("Retry-After", "5");
            send_error(
                res,
                core::make_error(ErrorCode::interrupted,
                                 fmt::format("{} event streams are open already", k_max_streams),
                                 "close another tab of this UI, or retry later"),
                503,
                "busy");
            return;
        }
        // Gives the stream's slot back when httplib drops the provider (stream ended).
        auto slot = std::shared_ptr<void>(nullptr, [&s](void*) { s.open_streams.fetch_sub(1); });
        auto sub = s.events->subscribe(run);
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Accel-Buffering", "no");
        auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(
            std::chrono::steady_clock::now());
        auto first = std::make_shared<bool>(true);
        EventHub* hub = s.events.get();
        res.set_chunked_content_provider(
            "text/event-stream",
            [hub, sub, last_write, first](std::size_t, httplib::DataSink& sink) {
                std::string out;
                if (*first) {
                    *first = false;
                    out = "retry: 1000\n: connected\n\n";
                    return sink.write(out.data(), out.size());
                }
                if (!hub->wait(*sub, out, std::chrono::milliseconds(500))) {
                    sink.done();
                    return true;
                }
                auto now = std::chrono::steady_clock::now();
                if (out.empty()) {
                    // A closed client is only noticed by writing: a 2-byte comment every
                    // 500 ms frees its thread within a second; ": ping" every 15 s as well.
                    out = now - *last_write < std::chrono::seconds(15) ? ":\n" : ": ping\n\n";
                    if (out.size() == 2) {
                        return sink.write(out.data(), out.size());
                    }
                }
                *last_write = now;
                return sink.write(out.data(), out.size());
            },
            [hub, sub, slot](bool) { hub->unsubscribe(sub); });
    });
}

void add_page_routes(UiServer::Impl& s) {
    s.http.Get(R"(/assets/(.+))", [&s](const httplib::Request& req, httplib::Response& res) {
        send_page(s, req, res, req.matches[1].str());
    });
    // Unknown API paths are JSON 404s; every other path is the single-page app.
    s.http.Get(R"(/api(/.*)?)", [](const httplib::Request& req, httplib::Response& res) {
        send_error(
            res,
            core::make_error(ErrorCode::not_found, fmt::format("no API endpoint {}", req.path)));
    });
    s.http.Get(R"(/.*)", [&s](const httplib::Request& req, httplib::Response& res) {
        send_page(s, req, res, "index.html");
    });
}

}  // namespace

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res,
                const core::Error& e,
                int status,
                std::string_view code_name) {
    send_json(res, status ? status : http_status_for(e.code), error_body(e, code_name));
}

std::string query(const httplib::Request& req, const std::string& name) {
    return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : std::string();
}

core::Result<nlohmann::json> json_body(const httplib::Request& req) {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return nlohmann::json::object();  // no body: no fields
    }
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded()) {
        return fail(ErrorCode::invalid_input, "the request body is not valid JSON");
    }
    if (!j.is_object()) {
        return fail(ErrorCode::invalid_input, "the request body must be a JSON object");
    }
    return j;
}

httplib::Server::Handler api(UiServer::Impl& s, ApiHandler fn) {
    return [&s, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
        auto app = s.pool->acquire();
        if (!app) {
            send_error(res, app.error());
            return;
        }
        auto reply = fn(req, **app);
        if (!reply) {
            send_error(res, reply.error());
            return;
        }
        send_json(res, reply->status, reply->body);
    };
}

void send_file(const httplib::Request& req, httplib::Response& res, const fs::path& path) {
    std::error_code ec;
    std::uint64_t size = fs::file_size(path, ec);
    if (ec) {
        send_error(res, core::make_error(ErrorCode::not_found, "no such file"));
        return;
    }
    auto range = parse_range(req.get_header_value("Range"), size);
    if (!range) {
        res.set_header("Content-Range", fmt::format("bytes */{}", size));
        send_error(res, range.error(), 416);
        return;
    }
    std::uint64_t first = 0, length = size;
    res.status = 200;
    if (*range) {
        first = (*range)->first;
        length = (*range)->length();
        res.status = 206;
        res.set_header("Content-Range", fmt::format("bytes {}-{}/{}", first, (*range)->last, size));
    }
    res.set_header("Accept-Ranges", "bytes");
    res.set_header("Cache-Control", "no-cache");
    std::string type = content_type_for(path.filename().string());
    if (length == 0) {
        res.set_content(std::string(), type);
        return;
    }
    auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
    res.set_content_provider(
        length, type, [in, first](std::size_t offset, std::size_t want, httplib::DataSink& sink) {
            std::string buf(std::min<std::size_t>(want, 256 * 1024), '\0');
            in->clear();
            in->seekg(static_cast<std::streamoff>(first + offset));
            in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
            auto n = static_cast<std::size_t>(in->gcount());
            if (n == 0) {
                return false;
            }
            return sink.write(buf.data(), n);
        });
}

UiServer::UiServer(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

UiServer::~UiServer() {
    stop();
}

core::Result<std::unique_ptr<UiServer>> UiServer::start(const config::Config& config,
                                                        const UiOptions& options) {
    auto impl = std::make_unique<Impl>();
    Impl& s = *impl;
    s.config = config;
    s.options = options;
    s.token_path = config.paths.data_dir / "ui-token";
    std::error_code ec;
    fs::create_directories(config.paths.data_dir, ec);
    if (!is_loopback_address(options.bind)) {
        COSMOS_TRY(s.token, load_or_create_token(s.token_path));
    }
    s.pool = std::make_unique<AppPool>(config, 16);
    // Open (and migrate) the database once before any thread does.
    { COSMOS_TRY(auto lease, s.pool->acquire()); }
    s.events = std::make_unique<EventHub>(config, std::chrono::milliseconds(options.poll_ms));
    if (auto st = s.events->start(); !st) {
        return core::fail(st.error());
    }
    s.hosts = std::make_unique<HostMonitor>(config, std::chrono::seconds(options.host_probe_s));
    s.hosts->start();
    s.alerts = std::make_unique<services::AlertTicker>(
        config, [](const std::string& line) { core::log(core::LogLevel::info, "{}", line); });

    // Each open event stream holds a thread: the pool has room for the most streams allowed
    // on top of the request threads, made only when needed.
    auto threads = static_cast<std::size_t>(std::max(8, options.threads) + k_max_streams);
    s.http.new_task_queue = [threads] { return new ElasticPool(threads); };
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second server
    // bind the same port and share its connections instead of failing.
    s.http.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    s.http.keep_alive = std::chrono::seconds(5);
    s.http.set_payload_max_length(s.http.limits.max_body);
    s.http.set_pre_routing_handler(
        [&s](const httplib::Request& req, httplib::Response& res) { return guard(s, req, res); });
    s.http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.status == 304 || (res.status >= 300 && res.status < 400)) {
            return;
        }
        ErrorCode code = res.status == 404  ? ErrorCode::not_found
                         : res.status < 500 ? ErrorCode::invalid_input
                                            : ErrorCode::internal;
        send_error(
            res,
            core::make_error(code, fmt::format("{} {}: HTTP {}", req.method, req.path, res.status)),
            res.status);
    });
    s.http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unexpected error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            send_error(res, core::make_error(ErrorCode::internal, what), 500);
        });
    add_event_route(s);
    add_read_routes(s);
    add_write_routes(s);
    add_metrics_route(s);
    add_alert_routes(s);
    add_page_routes(s);

    std::string bind = options.bind == "localhost" ? "127.0.0.1" : options.bind;
    if (bind.size() > 2 && bind.front() == '[' && bind.back() == ']') {
        bind = bind.substr(1, bind.size() - 2);
    }
    if (options.port == 0) {
        s.port = s.http.bind_to_any_port(bind);
        if (s.port < 0) {
            s.port = 0;
        }
    } else if (s.http.bind_to_port(bind, options.port)) {
        s.port = options.port;
    }
    if (s.port <= 0) {
        s.events->stop();
        s.hosts->stop();
        return fail(ErrorCode::conflict,
                    fmt::format("cannot listen on {}:{}", options.bind, options.port),
                    "the port is taken or the address is not one of this machine; try --port 0");
    }
    s.listener = std::thread(
        [&s] { core::guarded("the web server", [&s] { s.http.listen_after_bind(); }); });
    s.alerts->start();
    return std::unique_ptr<UiServer>(new UiServer(std::move(impl)));
}

std::string UiServer::url() const {
    std::string host =
        m->options.bind.find(':') != std::string::npos && m->options.bind.front() != '['
            ? "[" + m->options.bind + "]"
            : m->options.bind;
    return fmt::format("http://{}:{}/", host, m->port);
}

int UiServer::port() const {
    return m->port;
}

bool UiServer::token_required() const {
    return !m->token.empty();
}

fs::path UiServer::token_file() const {
    return m->token_path;
}

void UiServer::stop() {
    if (!m || m->stopped) {
        return;
    }
    m->stopped = true;
    m->events->stop();  // ends the event streams first: their threads are in the pool
    m->http.stop();
    if (m->listener.joinable()) {
        m->listener.join();
    }
    m->hosts->stop();
    m->alerts->stop();
}

}  // namespace cosmos::web
