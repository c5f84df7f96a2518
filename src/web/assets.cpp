// Lookup of the web UI's static files: embedded copy or COSMOS_UI_ASSETS folder.

#include "web/assets.hpp"

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "web/http_util.hpp"

namespace cosmos::web {

namespace {

// FNV-1a: enough for an ETag (changes when the bytes change).
std::string etag_of(std::string_view body) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : body) {
        h = (h ^ c) * 1099511628211ULL;
    }
    return fmt::format("\"{:016x}-{}\"", h, body.size());
}

}  // namespace

std::string content_type_for(std::string_view name) {
    auto dot = name.rfind('.');
    std::string_view ext =
        dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    static constexpr std::pair<std::string_view, std::string_view> k_types[] = {
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"txt", "text/plain; charset=utf-8"},
        {"log", "text/plain; charset=utf-8"},
        {"woff2", "font/woff2"},
    };
    for (const auto& [e, type] : k_types) {
        if (ext == e) {
            return std::string(type);
        }
    }
    return "application/octet-stream";
}

std::optional<Asset> find_asset(std::string_view rel, const std::string& disk_dir) {
    if (!is_safe_relative_path(rel)) {
        return std::nullopt;
    }
    Asset a;
    if (!disk_dir.empty()) {
        auto body = core::read_file(
            std::filesystem::path(disk_dir) / std::string(rel), core::kSpecFileMax, "UI asset");
        if (!body) {
            return std::nullopt;
        }
        a.body = *std::move(body);
    } else {
        bool found = false;
        for (const auto& e : embedded_assets()) {
            if (rel == e.path) {
                a.body.assign(reinterpret_cast<const char*>(e.data), e.size);
                found = true;
                break;
            }
        }
        if (!found) {
            return std::nullopt;
        }
    }
    a.content_type = content_type_for(rel);
    a.etag = etag_of(a.body);
    return a;
}

}  // namespace cosmos::web
