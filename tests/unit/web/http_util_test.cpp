// The pure pieces of the web layer: paths resolved inside a folder, Range headers, cookies,
// token / CSRF checks, query numbers, error mapping, asset lookup and SSE framing.

#include "web/http_util.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "web/assets.hpp"
#include "web/events.hpp"

namespace fs = std::filesystem;
using namespace cosmos;
using namespace cosmos::web;

TEST(WebPaths, SafeRelativePaths) {
    EXPECT_TRUE(is_safe_relative_path("a.mp4"));
    EXPECT_TRUE(is_safe_relative_path("outputs/output.mp4"));
    EXPECT_TRUE(is_safe_relative_path("..a/b..c"));
    EXPECT_FALSE(is_safe_relative_path(""));
    EXPECT_FALSE(is_safe_relative_path("/etc/passwd"));
    EXPECT_FALSE(is_safe_relative_path(".."));
    EXPECT_FALSE(is_safe_relative_path("../cosmos.db"));
    EXPECT_FALSE(is_safe_relative_path("a/../../cosmos.db"));
    EXPECT_FALSE(is_safe_relative_path("a/./b"));
    EXPECT_FALSE(is_safe_relative_path("a//b"));
    EXPECT_FALSE(is_safe_relative_path("a/"));
    EXPECT_FALSE(is_safe_relative_path("a\\..\\b"));
    EXPECT_FALSE(is_safe_relative_path(std::string_view("a\0b", 3)));
}

TEST(WebPaths, ResolveInsideFindsFilesAndRefusesEscapes) {
    test::TempDir tmp;
    tmp.write("data/runs/rs_1/outputs/output.mp4", "video");
    tmp.write("data/cosmos.db", "db");
    tmp.write("secret.txt", "secret");
    fs::path base = tmp / "data/runs/rs_1";

    auto ok = resolve_inside(base, "outputs/output.mp4");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(*ok, fs::canonical(base / "outputs/output.mp4"));

    auto up = resolve_inside(base, "../../cosmos.db");
    ASSERT_FALSE(up);
    EXPECT_EQ(up.error().code, core::ErrorCode::invalid_input);

    auto missing = resolve_inside(base, "outputs/none.mp4");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);

    auto dir = resolve_inside(base, "outputs");
    ASSERT_FALSE(dir);
    EXPECT_EQ(dir.error().code, core::ErrorCode::not_found);

    // A symlink inside the folder that points out of it is refused.
    fs::create_symlink(tmp / "secret.txt", base / "link.txt");
    auto link = resolve_inside(base, "link.txt");
    ASSERT_FALSE(link);
    EXPECT_EQ(link.error().code, core::ErrorCode::invalid_input);
    // One pointing inside is followed.
    fs::create_symlink(base / "outputs/output.mp4", base / "inside.mp4");
    EXPECT_TRUE(resolve_inside(base, "inside.mp4"));
}

TEST(WebRange, ParsesTheFormsBrowsersSend) {
    auto r = parse_range("bytes=0-99", 1000);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->first, 0u);
    EXPECT_EQ((*r)->last, 99u);
    EXPECT_EQ((*r)->length(), 100u);

    r = parse_range("bytes=500-", 1000);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->first, 500u);
    EXPECT_EQ((*r)->last, 999u);

    r = parse_range("bytes=-100", 1000);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->first, 900u);
    EXPECT_EQ((*r)->last, 999u);

    r = parse_range("bytes=-5000", 1000);  // longer than the file: all of it
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->first, 0u);

    r = parse_range("bytes=990-2000", 1000);  // clamped to the end
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->last, 999u);
}

TEST(WebRange, IgnoresWhatItDoesNotServeAndRefusesTheUnsatisfiable) {
    auto none = parse_range("", 1000);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    auto multi = parse_range("bytes=0-1,5-6", 1000);
    ASSERT_TRUE(multi);
    EXPECT_FALSE(*multi);
    auto unit = parse_range("items=0-1", 1000);
    ASSERT_TRUE(unit);
    EXPECT_FALSE(*unit);

    EXPECT_FALSE(parse_range("bytes=1000-", 1000));
    EXPECT_FALSE(parse_range("bytes=5-2", 1000));
    EXPECT_FALSE(parse_range("bytes=abc", 1000));
    EXPECT_FALSE(parse_range("bytes=-0", 1000));
    EXPECT_FALSE(parse_range("bytes=1-x", 1000));
    EXPECT_FALSE(parse_range("bytes=0-0", 0));
}

TEST(WebCookies, ParsesCookieHeaders) {
    auto c = parse_cookies("a=1; cosmos_csrf=abc ;b=\"q\"; junk; =x");
    EXPECT_EQ(c["a"], "1");
    EXPECT_EQ(c["cosmos_csrf"], "abc");
    EXPECT_EQ(c["b"], "q");
    EXPECT_EQ(c.count("junk"), 0u);
    EXPECT_TRUE(parse_cookies("").empty());
}

TEST(WebAuth, TokenAndCsrfChecks) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_FALSE(constant_time_equal("", "a"));

    EXPECT_EQ(bearer_token("Bearer tok123"), "tok123");
    EXPECT_EQ(bearer_token("bearer  tok123 "), "tok123");
    EXPECT_EQ(bearer_token("Basic dXNlcg=="), "");
    EXPECT_EQ(bearer_token("Bearer "), "");

    EXPECT_TRUE(csrf_ok("x=1; cosmos_csrf=s3cret", "s3cret"));
    EXPECT_FALSE(csrf_ok("cosmos_csrf=s3cret", "other"));
    EXPECT_FALSE(csrf_ok("cosmos_csrf=s3cret", ""));
    EXPECT_FALSE(csrf_ok("", "s3cret"));
    EXPECT_FALSE(csrf_ok("cosmos_csrf=", ""));

    EXPECT_TRUE(is_json_content_type("application/json"));
    EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
    EXPECT_FALSE(is_json_content_type("text/plain"));
    EXPECT_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
    EXPECT_FALSE(is_json_content_type(""));

    EXPECT_TRUE(is_loopback_address("127.0.0.1"));
    EXPECT_TRUE(is_loopback_address("localhost"));
    EXPECT_TRUE(is_loopback_address("::1"));
    EXPECT_FALSE(is_loopback_address("0.0.0.0"));
    EXPECT_FALSE(is_loopback_address("192.168.1.2"));
    EXPECT_FALSE(is_loopback_address("evil.example"));

    auto t = random_hex(32);
    EXPECT_EQ(t.size(), 64u);
    EXPECT_NE(t, random_hex(32));
}

TEST(WebQuery, ParsesNumbersWithinBounds) {
    EXPECT_EQ(*parse_query_int("limit", "", 50, 1, 1000), 50);
    EXPECT_EQ(*parse_query_int("limit", "20", 50, 1, 1000), 20);
    EXPECT_FALSE(parse_query_int("limit", "0", 50, 1, 1000));
    EXPECT_FALSE(parse_query_int("limit", "1001", 50, 1, 1000));
    EXPECT_FALSE(parse_query_int("limit", "ten", 50, 1, 1000));
    EXPECT_FALSE(parse_query_int("limit", "10x", 50, 1, 1000));
    auto e = parse_query_int("offset", "-1", 0, 0, 10);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("offset"), std::string::npos);
}

TEST(WebErrors, MapsCodesToStatusesAndBodies) {
    EXPECT_EQ(http_status_for(core::ErrorCode::invalid_input), 400);
    EXPECT_EQ(http_status_for(core::ErrorCode::not_found), 404);
    EXPECT_EQ(http_status_for(core::ErrorCode::conflict), 409);
    EXPECT_EQ(http_status_for(core::ErrorCode::internal), 500);
    auto body =
        error_body(core::make_error(core::ErrorCode::not_found, "no run rs_1", "list runs"));
    EXPECT_EQ(body["error"]["code"], "not_found");
    EXPECT_EQ(body["error"]["message"], "no run rs_1");
    EXPECT_EQ(body["error"]["hint"], "list runs");
    EXPECT_EQ(
        error_body(core::make_error(core::ErrorCode::auth_failed, "x"), "csrf")["error"]["code"],
        "csrf");
    // Invalid UTF-8 never throws.
    EXPECT_NO_THROW(dump_json({{"text", std::string("\xff\xfe ok")}}));
}

TEST(WebAssets, EmbeddedIndexAndContentTypes) {
    auto index = find_asset("index.html", "");
    ASSERT_TRUE(index);
    EXPECT_NE(index->body.find("<html"), std::string::npos);
    EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
    EXPECT_FALSE(index->etag.empty());
    EXPECT_FALSE(find_asset("../CMakeLists.txt", ""));
    EXPECT_FALSE(find_asset("nope.js", ""));
    EXPECT_EQ(content_type_for("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("a.mp4"), "video/mp4");
    EXPECT_EQ(content_type_for("noext"), "application/octet-stream");

    test::TempDir tmp;
    tmp.write("index.html", "<html>disk</html>");
    auto disk = find_asset("index.html", tmp.path().string());
    ASSERT_TRUE(disk);
    EXPECT_EQ(disk->body, "<html>disk</html>");
    EXPECT_FALSE(find_asset("../index.html", (tmp / "sub").string()));
}

TEST(WebEvents, FormatsServerSentEvents) {
    EXPECT_EQ(format_sse("log", R"({"a":1})"), "event: log\ndata: {\"a\":1}\n\n");
}
