#include "services/input_set.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "media/probe.hpp"
#include "model/modality.hpp"
#include "services/prompt_checks.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

core::Status check_agrees(const fs::path& file,
                          const media::VideoInfo& v,
                          const fs::path& ref_file,
                          const media::VideoInfo& ref) {
    auto name = file.filename().string();
    auto ref_name = ref_file.filename().string();
    if (v.frames != ref.frames) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("{} has {} frames but {} has {}", name, v.frames, ref_name, ref.frames),
            "control videos must have exactly the input video's frame count");
    }
    if (v.width != ref.width || v.height != ref.height) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} is {}x{} but {} is {}x{}",
                                name,
                                v.width,
                                v.height,
                                ref_name,
                                ref.width,
                                ref.height),
                    "render every pass at the same resolution");
    }
    if (std::fabs(v.fps - ref.fps) > 0.01) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "{} runs at {:.3g} fps but {} at {:.3g} fps", name, v.fps, ref_name, ref.fps));
    }
    return {};
}

core::Status check_limits(const fs::path& file, const media::VideoInfo& v, bool frame_cap) {
    if (v.frames < 1) {
        return fail(ErrorCode::invalid_input, fmt::format("{} has no frames", file.string()));
    }
    if (frame_cap && v.frames > k_max_input_frames) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} has {} frames; the model takes at most {}",
                                file.string(),
                                v.frames,
                                k_max_input_frames),
                    "split it into chunks (cosmos chunk) or trim it");
    }
    if (v.width < 64 || v.height < 64 || v.width > 8192 || v.height > 8192) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} is {}x{}; inputs must be between 64 and 8192 pixels a side",
                                file.string(),
                                v.width,
                                v.height));
    }
    return {};
}

core::Result<InputSet> scan(const fs::path& dir_in, bool frame_cap) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(dir_in, ec), ec);
    if (!fs::is_directory(dir, ec)) {
        return fail(ErrorCode::not_found,
                    fmt::format("input folder {} does not exist", dir_in.string()));
    }
    InputSet set;
    set.dir = dir;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const fs::path& p = entry.path();
        std::string stem = p.stem().string();
        if (p.extension() != ".mp4") {
            set.ignored.push_back(p.filename().string());
            continue;
        }
        if (stem == "color") {
            set.color = p;
            continue;
        }
        bool mask = stem.size() > 5 && stem.ends_with("_mask");
        auto modality = model::modality_for_stem(mask ? stem.substr(0, stem.size() - 5) : stem);
        if (!modality) {
            set.ignored.push_back(p.filename().string());
            continue;
        }
        if (mask) {
            set.masks[*modality] = p;  // one stem per modality's mask: no two files can clash
            continue;
        }
        if (set.controls.count(*modality) != 0) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("both {} and {} are {} controls in {}",
                                    set.controls[*modality].filename().string(),
                                    p.filename().string(),
                                    *modality,
                                    dir.string()),
                        "keep one of them");
        }
        set.controls[*modality] = p;
    }
    if (set.color.empty()) {
        return fail(ErrorCode::not_found,
                    fmt::format("no color.mp4 in {}", dir.string()),
                    "an input set needs color.mp4 plus optional depth.mp4, segmentation.mp4, "
                    "edge.mp4, vis.mp4");
    }
    COSMOS_TRY(auto color, media::probe_video(set.color));
    if (auto s = check_limits(set.color, color, frame_cap); !s) {
        return fail(s.error());
    }
    for (const auto& [modality, path] : set.masks) {
        COSMOS_TRY(auto info, media::probe_video(path));
        COSMOS_CHECK(check_agrees(path, info, set.color, color));
    }
    for (const auto& [modality, path] : set.controls) {
        COSMOS_TRY(auto info, media::probe_video(path));
        if (auto s = check_agrees(path, info, set.color, color); !s) {
            return fail(s.error());
        }
    }
    set.video = store::VideoMeta{color.width, color.height, color.frames, color.fps};
    return set;
}

}  // namespace

core::Result<InputSet> scan_input_set(const fs::path& dir) {
    return scan(dir, true);
}

core::Result<InputSet> scan_input_set_any_length(const fs::path& dir) {
    return scan(dir, false);
}

namespace {

// Top folders of the system that no input set lives in.
bool is_system_folder(std::string_view first) {
    static constexpr std::array<std::string_view, 16> k_system = {"bin",
                                                                  "boot",
                                                                  "dev",
                                                                  "etc",
                                                                  "lib",
                                                                  "lib32",
                                                                  "lib64",
                                                                  "libx32",
                                                                  "proc",
                                                                  "root",
                                                                  "run",
                                                                  "sbin",
                                                                  "sys",
                                                                  "usr",
                                                                  "var",
                                                                  "snap"};
    return std::find(k_system.begin(), k_system.end(), first) != k_system.end();
}

core::Status bad_input_path(std::string_view path, std::string_view what, std::string_view why) {
    std::string shown;
    for (char c : path) {  // never echo a control character
        auto u = static_cast<unsigned char>(c);
        shown += u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("{} '{}' {}", what, shown, why),
                "an input video is a .mp4 file in a folder of its own (docs/import.md)");
}

}  // namespace

core::Status check_input_video_path(std::string_view path, std::string_view what) {
    if (path.empty()) {
        return bad_input_path(path, what, "is empty");
    }
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return bad_input_path(path, what, "contains a control character");
        }
    }
    fs::path p{std::string(path)};
    if (p.extension() != ".mp4") {
        return bad_input_path(path, what, "is not a .mp4 video");
    }
    std::vector<std::string> parts;
    for (const auto& part : p.relative_path()) {
        parts.push_back(part.string());
    }
    for (const auto& part : parts) {
        if (part.empty() || part == "." || part == ".." || part.front() == '.') {
            return bad_input_path(
                path, what, "has a '.', '..' or hidden segment: it must name its folder plainly");
        }
    }
    if (p.is_absolute() && (parts.size() < 2 || is_system_folder(parts.front()))) {
        return bad_input_path(path,
                              what,
                              fmt::format("is in {}, a system folder: that is no input folder",
                                          p.parent_path().string()));
    }
    return {};
}

}  // namespace cosmos::services
