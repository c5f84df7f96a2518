// Render folder -> input set (see prepare.hpp).

#include "services/prepare.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "core/sha256.hpp"
#include "media/chunking.hpp"
#include "media/sequence.hpp"
#include "services/create_prompt.hpp"
#include "services/input_set.hpp"
#include "services/prompt_checks.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t k_problems_shown = 10;

core::Status check_scan(const media::RenderScan& scan) {
    if (scan.problems.empty()) {
        return {};
    }
    std::string listed;
    for (std::size_t i = 0; i < scan.problems.size() && i < k_problems_shown; ++i) {
        listed += fmt::format("\n  {}", scan.problems[i]);
    }
    if (scan.problems.size() > k_problems_shown) {
        listed += fmt::format("\n  ... and {} more", scan.problems.size() - k_problems_shown);
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("render folder {} is not a clean sequence set ({} problem{}):{}",
                            scan.dir.string(),
                            scan.problems.size(),
                            scan.problems.size() == 1 ? "" : "s",
                            listed),
                "name frames <modality>.<number>.<ext> (docs/media.md); every pass needs the "
                "same frame numbers as color");
}

// Checks that every modality's first frame has color's size (frames within a sequence are
// checked while encoding). Returns color's size.
core::Result<std::pair<int, int>> check_first_sizes(const media::RenderScan& scan) {
    const auto& color = scan.sequences.at("color");
    COSMOS_TRY(media::Frame ref, media::read_image_rgb(color.frames.front().path));
    for (const auto& [modality, seq] : scan.sequences) {
        if (modality == "color") {
            continue;
        }
        COSMOS_TRY(media::ScalarImage img, media::read_image_scalar(seq.frames.front().path));
        if (img.width != ref.width || img.height != ref.height) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("frame {} is {}x{} but {} is {}x{}",
                                    seq.frames.front().path.string(),
                                    img.width,
                                    img.height,
                                    color.frames.front().path.string(),
                                    ref.width,
                                    ref.height),
                        "render every pass at one resolution; frames are never resized");
        }
    }
    if (ref.width < 64 || ref.height < 64 || ref.width > 8192 || ref.height > 8192) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("frames are {}x{}; inputs must be between 64 and 8192 pixels a "
                                "side",
                                ref.width,
                                ref.height));
    }
    return std::make_pair(ref.width, ref.height);
}

// Refuses to mix a new input set into a folder that holds one, unless forced.
core::Status check_output(const fs::path& dir, bool force, bool dry_run) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        if (dry_run) {
            return {};
        }
        fs::create_directories(dir, ec);
        if (ec) {
            return fail(ErrorCode::io,
                        fmt::format("cannot create {}: {}", dir.string(), ec.message()));
        }
        return {};
    }
    if (!fs::is_directory(dir, ec)) {
        return fail(ErrorCode::invalid_input, fmt::format("{} is not a folder", dir.string()));
    }
    bool has_set = fs::exists(dir / "manifest.json", ec) || fs::exists(dir / "color.mp4", ec);
    if (has_set && !force) {
        return fail(ErrorCode::conflict,
                    fmt::format("{} already holds an input set", dir.string()),
                    "pass --force to replace it, or choose another --output / --name");
    }
    if (has_set && !dry_run) {
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".mp4" || entry.path().filename() == "manifest.json") {
                fs::remove(entry.path(), ec);
            }
        }
        fs::remove_all(dir / "previews", ec);
    }
    return {};
}

media::EncodeMode mode_for(const std::string& modality) {
    if (modality == "depth") {
        return media::EncodeMode::depth;
    }
    if (modality == "seg" || modality.ends_with("_mask")) {
        // Flat regions kept as drawn: a mask is black and white, no smoothing between them.
        return media::EncodeMode::segmentation;
    }
    return media::EncodeMode::color;
}

const char* near_name(media::DepthNear n) {
    switch (n) {
        case media::DepthNear::bright:
            return "bright";
        case media::DepthNear::dark:
            return "dark";
        case media::DepthNear::auto_detect:
            break;
    }
    return "auto";
}

const char* samples_name(media::SampleKind k) {
    switch (k) {
        case media::SampleKind::u16:
            return "16-bit";
        case media::SampleKind::f32:
            return "float";
        case media::SampleKind::u8:
            break;
    }
    return "8-bit";
}

nlohmann::ordered_json manifest_json(const PrepareRequest& req,
                                     const PrepareResult& r,
                                     const fs::path& render_dir,
                                     const std::optional<media::EncodedSequence>& depth) {
    nlohmann::ordered_json j;
    j["format"] = "cosmos-input-set/1";
    j["name"] = r.name;
    j["created_at"] = core::now_iso();
    j["source_dir"] = render_dir.string();
    j["frames"] = r.video.frames;
    j["fps"] = req.fps;
    j["width"] = r.video.width;
    j["height"] = r.video.height;
    j["encoder"] = {{"codec", "h264 (libx264)"},
                    {"pixel_format", "yuv420p"},
                    {"crf", req.crf},
                    {"preset", req.preset},
                    {"segmentation",
                     {{"crf", media::crf_for(media::EncodeMode::segmentation, req.crf)},
                      {"x264_params", media::x264_params_for(media::EncodeMode::segmentation)},
                      {"chroma", "nearest neighbour"}}}};
    if (depth) {
        j["depth"] = {{"samples", samples_name(depth->samples)},
                      {"near", near_name(req.depth.near)},
                      {"inverted", depth->depth_inverted},
                      {"range", {depth->depth_min, depth->depth_max}},
                      {"output", "8-bit gray, near = bright"}};
    }
    j["files"] = nlohmann::ordered_json::array();
    for (const auto& f : r.files) {
        j["files"].push_back({{"file", f.file},
                              {"modality", f.modality},
                              {"source", f.source},
                              {"frames", f.frames},
                              {"first_frame", f.first_frame},
                              {"last_frame", f.last_frame},
                              {"bytes", f.bytes},
                              {"sha256", f.sha256}});
    }
    j["previews"] = {
        {"thumbnail", fs::relative(r.previews.thumbnail, r.output_dir).string()},
        {"contact_sheet", fs::relative(r.previews.contact_sheet, r.output_dir).string()}};
    if (!r.ignored.empty()) {
        j["ignored"] = r.ignored;
    }
    return j;
}

}  // namespace

std::string video_file_for(const std::string& modality) {
    return (modality == "seg" ? std::string("segmentation") : modality) + ".mp4";
}

// Warns about a clip longer than one model run takes, or worked through in several chunks.
void add_length_warnings(PrepareResult& result) {
    if (result.video.frames > k_max_input_frames) {
        result.warnings.push_back(fmt::format(
            "{} frames is more than one model run takes ({}); split it with cosmos chunk",
            result.video.frames,
            k_max_input_frames));
    } else if (result.video.frames > media::k_model_window) {
        result.warnings.push_back(fmt::format(
            "{} frames: the model works through it in {} chunks of {} frames",
            result.video.frames,
            (result.video.frames - 1 + media::k_model_window - 2) / (media::k_model_window - 1),
            media::k_model_window));
    }
}

// --dry-run: what prepare_render would write for `tasks`' sequences (frame counts from the scan,
// the size as the encoders pad it), writing nothing.
template <class Tasks>
PrepareResult planned_result(PrepareResult result,
                             const Tasks& tasks,
                             std::pair<int, int> size,
                             const PrepareRequest& req) {
    for (const auto& t : tasks) {
        PreparedFile f;
        f.file = video_file_for(t.modality);
        f.modality = t.modality;
        f.source = t.source;
        f.frames = static_cast<std::int64_t>(t.seq->frames.size());
        f.first_frame = t.seq->frames.front().number;
        f.last_frame = t.seq->frames.back().number;
        if (t.modality == "color") {
            result.video = store::VideoMeta{size.first + size.first % 2,
                                            size.second + size.second % 2,
                                            f.frames,
                                            static_cast<double>(req.fps)};
            if (size.first % 2 != 0 || size.second % 2 != 0) {
                result.warnings.push_back(
                    fmt::format("frames of {}x{} would be padded to {}x{} (H.264 needs even sizes)",
                                size.first,
                                size.second,
                                result.video.width,
                                result.video.height));
            }
        }
        result.files.push_back(std::move(f));
    }
    add_length_warnings(result);
    result.manifest = result.output_dir / "manifest.json";
    return result;
}

core::Result<PrepareResult> prepare_render(const App* app, const PrepareRequest& req) {
    auto started = std::chrono::steady_clock::now();
    if (req.fps < 1 || req.fps > 60) {
        return fail(ErrorCode::invalid_input, fmt::format("fps {} out of range 1..60", req.fps));
    }
    if ((req.prompt_text || !req.output_dir) && app == nullptr) {
        return fail(ErrorCode::internal, "prepare_render needs the app for this request");
    }
    COSMOS_TRY(media::RenderScan scan, media::scan_render_dir(req.render_dir));
    if (auto s = check_scan(scan); !s) {
        return fail(s.error());
    }
    COSMOS_TRY(auto size, check_first_sizes(scan));
    PrepareResult result;
    result.ignored = scan.ignored;
    result.name = req.name ? *req.name : core::sanitize_name(scan.dir.filename().string());
    if (result.name.empty()) {
        result.name = "render";
    }
    if (req.name && core::sanitize_name(*req.name) != *req.name) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("name '{}' may only use a-z, 0-9 and _ (at most 50)", *req.name),
                    fmt::format("for example --name {}", core::sanitize_name(*req.name)));
    }
    std::error_code ec;
    result.output_dir = req.output_dir ? fs::absolute(*req.output_dir, ec)
                                       : app->data_dir() / "inputs" / result.name;
    const bool created_output = !fs::exists(result.output_dir, ec);
    if (req.prompt_text) {
        COSMOS_CHECK(check_prompt_text(*req.prompt_text, "prompt text"));
    }
    if (auto s = check_output(result.output_dir, req.force, req.dry_run); !s) {
        return fail(s.error());
    }

    // One task per output video, all in parallel (each x264 encoder also uses every core).
    struct Task {
        std::string modality;
        const media::ImageSequence* seq;
        media::EncodeMode mode;
        std::string source;
    };
    std::vector<Task> tasks;
    for (const auto& [modality, seq] : scan.sequences) {
        tasks.push_back(Task{modality, &seq, mode_for(modality), seq.pattern()});
    }
    if (req.make_edge && scan.sequences.count("edge") == 0) {
        tasks.push_back(Task{
            "edge",
            &scan.sequences.at("color"),
            media::EncodeMode::edge_from_color,
            fmt::format(
                "computed from color (edgedetect low={} high={})", req.edge_low, req.edge_high)});
    }
    if (req.dry_run) {
        return planned_result(std::move(result), tasks, size, req);
    }
    std::int64_t total = 0;
    for (const auto& t : tasks) {
        total += static_cast<std::int64_t>(t.seq->frames.size());
    }
    std::mutex progress_mutex;
    std::int64_t done = 0;
    // Previews from the colour frames as they are encoded (no second decoding pass).
    const auto& color_seq = scan.sequences.at("color");
    media::PreviewBuilder previews(size.first + size.first % 2,
                                   size.second + size.second % 2,
                                   static_cast<std::int64_t>(color_seq.frames.size()));
    // One flag stops every encoder: set on Ctrl-C and as soon as one of them fails.
    std::atomic<bool> stop{false};
    std::vector<std::future<core::Result<media::EncodedSequence>>> running;
    for (const auto& t : tasks) {
        media::EncodeOptions eo;
        eo.fps = req.fps;
        eo.crf = req.crf;
        eo.preset = req.preset;
        eo.depth = req.depth;
        eo.edge_low = req.edge_low;
        eo.edge_high = req.edge_high;
        eo.cancel = &stop;
        eo.decode_threads = 0;
        if (req.progress) {
            eo.progress = [&](std::int64_t, std::int64_t) {
                std::lock_guard<std::mutex> lock(progress_mutex);
                req.progress(++done, total);
            };
        }
        if (t.modality == "color") {
            eo.on_frame = [&previews](std::int64_t i, const media::Frame& f) {
                previews.add(i, f);
            };
        }
        fs::path out = result.output_dir / video_file_for(t.modality);
        running.push_back(std::async(std::launch::async, [&t, out, eo] {
            return media::encode_sequence(*t.seq, out, t.mode, eo);
        }));
    }
    std::vector<std::optional<media::EncodedSequence>> encoded(running.size());
    std::optional<core::Error> first_error;
    std::size_t left = running.size();
    while (left > 0) {
        for (std::size_t i = 0; i < running.size(); ++i) {
            if (!running[i].valid() ||
                running[i].wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
                continue;
            }
            auto r = running[i].get();
            --left;
            if (r) {
                encoded[i] = *r;
            } else if (!first_error || first_error->code == ErrorCode::interrupted) {
                first_error = r.error();  // the first real failure, not the others' stop
                stop = true;
            }
        }
        if (req.cancel != nullptr && req.cancel->load()) {
            stop = true;
        }
    }
    if (!first_error && stop) {
        first_error = core::make_error(ErrorCode::interrupted, "interrupted");
    }
    if (first_error) {
        // Leave no half-written input set behind.
        for (const auto& t : tasks) {
            fs::remove(result.output_dir / video_file_for(t.modality), ec);
        }
        if (created_output) {
            fs::remove(result.output_dir, ec);  // only when empty
        }
        return fail(*first_error);
    }
    std::optional<media::EncodedSequence> depth_info;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        const Task& t = tasks[i];
        const media::EncodedSequence& e = *encoded[i];
        PreparedFile f;
        f.file = e.video.filename().string();
        f.modality = t.modality;
        f.source = t.source;
        f.frames = e.frames;
        f.first_frame = t.seq->frames.front().number;
        f.last_frame = t.seq->frames.back().number;
        COSMOS_TRY(f.sha256, core::sha256_file(e.video));
        f.bytes = fs::file_size(e.video, ec);
        if (t.modality == "depth") {
            depth_info = e;
        }
        if (t.modality == "color") {
            result.video =
                store::VideoMeta{e.width, e.height, e.frames, static_cast<double>(req.fps)};
            if (e.width != e.source_width || e.height != e.source_height) {
                result.warnings.push_back(
                    fmt::format("frames of {}x{} were padded to {}x{} (H.264 needs even sizes)",
                                e.source_width,
                                e.source_height,
                                e.width,
                                e.height));
            }
        }
        result.files.push_back(std::move(f));
    }
    add_length_warnings(result);
    COSMOS_TRY(result.previews, previews.write(result.output_dir / "previews", "color"));
    result.manifest = result.output_dir / "manifest.json";
    {
        std::ofstream out(result.manifest, std::ios::trunc);
        out << manifest_json(req, result, scan.dir, depth_info).dump(2) << '\n';
        if (!out) {
            return fail(ErrorCode::io, fmt::format("cannot write {}", result.manifest.string()));
        }
    }
    if (req.prompt_text) {
        CreatePromptRequest cp;
        cp.text = *req.prompt_text;
        cp.input_dir = result.output_dir;
        cp.name = req.name;
        COSMOS_TRY(result.prompt, create_prompt(*app, cp));
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

}  // namespace cosmos::services
