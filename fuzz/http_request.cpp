// What the web server reads from a request (src/web/http_util.cpp, routes.hpp's json_body): the
// input's lines are a Range header, a Cookie header, an Authorization header, an X-CSRF-Token
// header, a Content-Type, a query number, a file path under a run's folder and, the rest, the
// body. Checked: a range lies inside the file, a resolved path inside its folder (which holds
// a symlink to / to tempt it out), and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include <httplib.h>

#include "web/http_util.hpp"
#include "web/routes.hpp"

namespace fs = std::filesystem;

namespace {

std::string_view next_line(std::string_view& text) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    return line;
}

fs::path g_root;  // removed at exit

void remove_root() {
    std::error_code ec;
    fs::remove_all(g_root, ec);
}

// A run folder: a file, a subfolder with a file, and a symlink out of it.
fs::path make_base() {
    g_root = fs::path(fs::exists("/dev/shm") ? "/dev/shm" : "/tmp") /
             ("cosmos-fuzz-http-" + std::to_string(::getpid()));
    std::atexit(remove_root);
    const fs::path& root = g_root;
    fs::create_directories(root / "run" / "sub");
    std::ofstream(root / "run" / "output.mp4") << "video";
    std::ofstream(root / "run" / "sub" / "log.txt") << "log";
    std::ofstream(root / "secret.txt") << "secret";
    std::error_code ec;
    fs::create_directory_symlink("/", root / "run" / "up", ec);
    fs::create_symlink(root / "secret.txt", root / "run" / "secret", ec);
    return fs::canonical(root / "run");
}

void check_range(std::string_view header) {
    for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000}}) {
        auto r = cosmos::web::parse_range(header, size);
        if (r && *r && ((*r)->first > (*r)->last || (*r)->last >= size)) {
            std::fprintf(stderr,
                         "range outside a file of %llu bytes\n",
                         static_cast<unsigned long long>(size));
            std::abort();
        }
    }
}

void check_path(std::string_view rel) {
    static const fs::path base = make_base();
    auto p = cosmos::web::resolve_inside(base, rel);
    if (!p) {
        return;
    }
    auto rel_to = p->lexically_relative(base).string();
    if (rel_to.empty() || rel_to.starts_with("..")) {
        std::fprintf(stderr, "resolved '%s' outside its folder\n", p->c_str());
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cosmos::web;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check_range(next_line(text));
    auto cookie = next_line(text);
    auto cookies = parse_cookies(cookie);
    auto token = bearer_token(next_line(text));
    bool csrf = csrf_ok(cookie, next_line(text));
    bool is_json = is_json_content_type(next_line(text));
    auto n = parse_query_int("limit", next_line(text), 50, 1, 500);
    if (n && (*n < 1 || *n > 500)) {
        std::abort();
    }
    check_path(next_line(text));
    httplib::Request req;
    req.body = std::string(text);
    auto body = json_body(req);
    (void)cookies, (void)token, (void)csrf, (void)is_json, (void)body;
    return 0;
}
