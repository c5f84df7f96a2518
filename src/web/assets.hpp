#pragma once
// The web UI's static files (the repo's web/ folder): compiled into the binary at build time
// (cmake/embed_assets.cmake generates embedded_assets()), or read from the folder named by
// COSMOS_UI_ASSETS when set (to edit pages without rebuilding).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cosmos::web {

struct EmbeddedAsset {
    const char* path;  // relative to web/, '/' separated
    const unsigned char* data;
    std::size_t size;
};

// Every file of web/ as it was at build time (generated source).
std::span<const EmbeddedAsset> embedded_assets();

struct Asset {
    std::string body;
    std::string content_type;
    std::string etag;  // quoted, from a hash of the body
};

// The asset at `rel` (e.g. "index.html", "app.js"): from `disk_dir` when not empty, else the
// embedded copy. Nothing for unknown names or names that try to leave the folder.
std::optional<Asset> find_asset(std::string_view rel, const std::string& disk_dir);

// The Content-Type for a file name by its extension (application/octet-stream when unknown).
std::string content_type_for(std::string_view name);

}  // namespace cosmos::web
