// Chunking and stitching of long videos (see long_video.hpp).

#include "services/long_video.hpp"

#include <cmath>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/read_file.hpp"
#include "media/probe.hpp"
#include "services/input_set.hpp"
#include "services/prepare.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

nlohmann::ordered_json manifest_json(const ChunkRequest& req, const ChunkResult& r) {
    nlohmann::ordered_json j;
    j["format"] = "cosmos-chunks/1";
    j["mode"] = "parallel";
    j["created_at"] = core::now_iso();
    j["source"] = fs::absolute(req.input).string();
    j.update(chunk_plan_json(r, false));
    return j;
}

}  // namespace

nlohmann::ordered_json chunk_plan_json(const ChunkResult& r, bool absolute_paths) {
    nlohmann::ordered_json j;
    j["input_set"] = r.input_set;
    j["frames"] = r.frames;
    j["fps"] = r.fps;
    j["window"] = r.window;
    j["overlap"] = r.overlap;
    j["chunks"] = nlohmann::ordered_json::array();
    for (const auto& c : r.chunks) {
        j["chunks"].push_back(
            {{"index", c.index},
             {"start", c.window.start},
             {"frames", c.window.frames},
             {"path", absolute_paths ? c.path.string() : c.path.filename().string()}});
    }
    return j;
}

core::Result<ChunkResult> chunk_input(const ChunkRequest& req) {
    std::error_code ec;
    ChunkResult r;
    r.input_set = fs::is_directory(req.input, ec);
    // Every video to cut, by output file name; the first is the reference.
    std::vector<std::pair<std::string, fs::path>> videos;
    if (r.input_set) {
        COSMOS_TRY(InputSet set, scan_input_set_any_length(req.input));
        videos.emplace_back("color.mp4", set.color);
        for (const auto& [modality, path] : set.controls) {
            videos.emplace_back(video_file_for(modality), path);
        }
        r.frames = set.video.frames;
        r.fps = set.video.fps;
    } else {
        COSMOS_TRY(media::VideoInfo info, media::probe_video(req.input));
        videos.emplace_back("", req.input);
        r.frames = info.frames;
        r.fps = info.fps;
    }
    COSMOS_TRY(auto windows, media::plan_windows(r.frames, req.window, req.overlap));
    r.window = req.window;
    r.overlap = req.overlap;
    r.manifest = req.output_dir / "chunks.json";
    if (fs::exists(r.manifest, ec) && !req.force) {
        return fail(ErrorCode::conflict,
                    fmt::format("{} already exists", r.manifest.string()),
                    "pass --force to replace the chunks, or choose another --output");
    }
    fs::create_directories(req.output_dir, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot create {}: {}", req.output_dir.string(), ec.message()));
    }
    for (std::size_t i = 0; i < windows.size(); ++i) {
        ChunkEntry c;
        c.index = static_cast<int>(i);
        c.window = windows[i];
        c.path = req.output_dir /
                 (r.input_set ? fmt::format("chunk_{:03}", i) : fmt::format("chunk_{:03}.mp4", i));
        if (r.input_set) {
            fs::create_directories(c.path, ec);
        }
        r.chunks.push_back(c);
    }
    std::int64_t done = 0;
    const std::int64_t total = r.frames * static_cast<std::int64_t>(videos.size());
    for (const auto& [file, path] : videos) {
        std::vector<fs::path> outs;
        for (const auto& c : r.chunks) {
            outs.push_back(r.input_set ? c.path / file : c.path);
        }
        media::SplitOptions so;
        so.crf = req.crf;
        so.preset = req.preset;
        so.fps = std::max(1, static_cast<int>(std::lround(r.fps)));
        so.cancel = req.cancel;
        std::int64_t base = done;
        if (req.progress) {
            so.progress = [&req, base, total](std::int64_t n, std::int64_t) {
                req.progress(base + n, total);
            };
        }
        if (auto s = media::split_video(path, windows, outs, so); !s) {
            return fail(s.error());
        }
        done += r.frames;
    }
    std::ofstream out(r.manifest, std::ios::trunc);
    out << manifest_json(req, r).dump(2) << '\n';
    if (!out) {
        return fail(ErrorCode::io, fmt::format("cannot write {}", r.manifest.string()));
    }
    return r;
}

core::Result<ChunkResult> read_chunk_manifest(const fs::path& manifest) {
    auto text = core::read_file(manifest, core::kManifestFileMax, "chunk manifest");
    if (!text) {
        if (text.error().code == ErrorCode::not_found) {
            return fail(ErrorCode::not_found,
                        fmt::format("chunk manifest {} not found", manifest.string()));
        }
        return fail(std::move(text).error());
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    auto bad = [&](std::string_view why) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("{} is not a chunks.json of cosmos chunk: {}", manifest.string(), why));
    };
    if (j.is_discarded() || !j.is_object()) {
        return bad("not JSON");
    }
    if (j.value("format", "") != "cosmos-chunks/1" || !j.contains("chunks") ||
        !j["chunks"].is_array()) {
        return bad("no format cosmos-chunks/1 with a chunks list");
    }
    ChunkResult r;
    r.manifest = manifest;
    try {
        r.input_set = j.value("input_set", false);
        r.frames = j.at("frames").get<std::int64_t>();
        r.fps = j.at("fps").get<double>();
        r.window = j.at("window").get<std::int64_t>();
        r.overlap = j.at("overlap").get<std::int64_t>();
        for (const auto& c : j["chunks"]) {
            ChunkEntry e;
            e.index = c.at("index").get<int>();
            e.window.start = c.at("start").get<std::int64_t>();
            e.window.frames = c.at("frames").get<std::int64_t>();
            e.path = manifest.parent_path() / c.at("path").get<std::string>();
            r.chunks.push_back(e);
        }
    } catch (const nlohmann::json::exception& e) {
        return bad(e.what());
    }
    if (r.chunks.empty()) {
        return bad("no chunks");
    }
    return r;
}

core::Result<StitchResult> stitch_parts(const StitchRequest& req) {
    StitchResult result;
    result.output = req.output;
    std::vector<fs::path> parts = req.parts;
    int fps = req.fps;
    if (req.manifest) {
        COSMOS_TRY(ChunkResult m, read_chunk_manifest(*req.manifest));
        if (parts.empty()) {
            for (const auto& c : m.chunks) {
                parts.push_back(m.input_set ? c.path / "color.mp4" : c.path);
            }
        }
        if (parts.size() != m.chunks.size()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} parts given but {} has {} chunks",
                                    parts.size(),
                                    req.manifest->string(),
                                    m.chunks.size()),
                        "give one output video per chunk, in chunk order");
        }
        for (const auto& c : m.chunks) {
            result.windows.push_back(c.window);
        }
        if (fps == 0) {
            fps = std::max(1, static_cast<int>(std::lround(m.fps)));
        }
    } else {
        if (parts.size() < 1) {
            return fail(ErrorCode::invalid_input, "nothing to stitch: give parts or --manifest");
        }
        std::vector<std::int64_t> counts;
        for (const auto& p : parts) {
            COSMOS_TRY(media::VideoInfo info, media::probe_video(p));
            counts.push_back(info.frames);
        }
        COSMOS_TRY(result.windows, media::windows_from_parts(counts, req.overlap));
    }
    media::StitchOptions so;
    so.fps = fps;
    so.crf = req.crf;
    so.preset = req.preset;
    so.progress = req.progress;
    so.cancel = req.cancel;
    if (auto s = media::stitch_videos(parts, result.windows, req.output, so); !s) {
        return fail(s.error());
    }
    result.frames = result.windows.back().end();
    return result;
}

}  // namespace cosmos::services
