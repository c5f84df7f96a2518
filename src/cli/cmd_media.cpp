// Media commands: `cosmos prepare`, `cosmos interpolate`, `cosmos chunk`, `cosmos stitch`
// (docs/media.md).

#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/run_options.hpp"
#include "cli/run_printer.hpp"
#include "media/interpolate.hpp"
#include "services/long_run.hpp"
#include "services/long_video.hpp"
#include "services/prepare.hpp"
#include "services/views.hpp"

namespace cosmos::cli {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

// A one-line progress display on stderr, only on an interactive terminal (never with --json
// or --quiet); safe to call from several threads.
class ProgressLine {
public:
    ProgressLine(const Output& out, std::string label)
        : m_out(out), m_label(std::move(label)), m_start(std::chrono::steady_clock::now()) {}
    ~ProgressLine() { done(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    bool enabled() const { return m_out.fancy && !m_out.quiet && !m_out.json; }

    void operator()(std::int64_t n, std::int64_t total) {
        if (!enabled()) {
            return;
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        auto now = std::chrono::steady_clock::now();
        if (n < total && now - m_last < std::chrono::milliseconds(100)) {
            return;
        }
        m_last = now;
        double secs = std::chrono::duration<double>(now - m_start).count();
        std::cerr << "\r\033[2K"
                  << fmt::format("{} {}/{} frames {:3.0f}% {:.1f}s",
                                 m_label,
                                 n,
                                 total,
                                 total > 0
                                     ? 100.0 * static_cast<double>(n) / static_cast<double>(total)
                                     : 0.0,
                                 secs);
        std::cerr.flush();
        m_shown = true;
    }

    void done() {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_shown) {
            std::cerr << "\r\033[2K";
            std::cerr.flush();
            m_shown = false;
        }
    }

    std::function<void(std::int64_t, std::int64_t)> callback() {
        if (!enabled()) {
            return {};
        }
        return [this](std::int64_t n, std::int64_t t) { (*this)(n, t); };
    }

private:
    const Output& m_out;
    std::string m_label;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last{};
    std::mutex m_mutex;
    bool m_shown = false;
};

core::Result<std::pair<double, double>> parse_pair(const std::string& text, const char* option) {
    auto colon = text.find(':');
    try {
        if (colon != std::string::npos) {
            std::size_t a = 0, b = 0;
            double lo = std::stod(text.substr(0, colon), &a);
            double hi = std::stod(text.substr(colon + 1), &b);
            if (a == colon && b == text.size() - colon - 1 && lo < hi) {
                return std::make_pair(lo, hi);
            }
        }
    } catch (const std::exception&) {
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("{} '{}' must be LOW:HIGH with LOW < HIGH", option, text));
}

struct PrepareArgs {
    std::string render_dir, output, name, preset = "veryfast", depth_near = "auto";
    std::string depth_range, edge_threshold, prompt;
    int fps = 24, crf = 18;
    bool edge = false, force = false, dry_run = false;
    CLI::Option* name_opt = nullptr;
    CLI::Option* prompt_opt = nullptr;
};

// prepare's result: the input set written, or with --dry-run the one that would be (no
// manifest, checksums, previews or prompt then).
core::Status print_prepared(Context& ctx, const services::PrepareResult& r, bool dry_run) {
    if (ctx.out.json) {
        nlohmann::ordered_json j;
        if (dry_run) {
            j["dry_run"] = true;
        }
        j["input_dir"] = r.output_dir.string();
        if (!dry_run) {
            j["manifest"] = r.manifest.string();
        }
        j["name"] = r.name;
        j["frames"] = r.video.frames;
        j["fps"] = r.video.fps;
        j["width"] = r.video.width;
        j["height"] = r.video.height;
        j["files"] = nlohmann::ordered_json::array();
        for (const auto& f : r.files) {
            nlohmann::ordered_json file{{"file", (r.output_dir / f.file).string()},
                                        {"modality", f.modality},
                                        {"source", f.source},
                                        {"frames", f.frames}};
            if (!dry_run) {
                file["sha256"] = f.sha256;
            }
            j["files"].push_back(std::move(file));
        }
        if (!dry_run) {
            j["thumbnail"] = r.previews.thumbnail.string();
            j["contact_sheet"] = r.previews.contact_sheet.string();
        }
        j["warnings"] = r.warnings;
        j["ignored"] = r.ignored;
        if (!dry_run) {
            j["seconds"] = r.seconds;
            j["prompt"] =
                r.prompt ? services::prompt_json(*r.prompt) : nlohmann::ordered_json(nullptr);
        }
        ctx.out.print_json(j);
        return {};
    }
    for (const auto& w : r.warnings) {
        ctx.out.note(fmt::format("warning: {}", w));
    }
    if (!r.ignored.empty()) {
        ctx.out.note(
            fmt::format("ignored {} numbered image(s) with no modality in their name, "
                        "e.g. {}",
                        r.ignored.size(),
                        r.ignored.front()));
    }
    // The clip's own length, then how long preparing it took (not to be read as the clip's).
    ctx.out.print_line(
        fmt::format("{}input set {}  ({} frames, {}x{}, {} fps, {:.2f} s of video{})",
                    dry_run ? "would write " : "",
                    r.output_dir.string(),
                    r.video.frames,
                    r.video.width,
                    r.video.height,
                    r.video.fps,
                    r.video.fps > 0 ? r.video.frames / r.video.fps : 0.0,
                    dry_run ? std::string() : fmt::format("; prepared in {:.1f} s", r.seconds)));
    for (const auto& f : r.files) {
        ctx.out.print_line(fmt::format(
            "  {:<18} {:<6} {} frames  from {}", f.file, f.modality, f.frames, f.source));
    }
    if (dry_run) {
        ctx.out.note("dry run: nothing written");
        return {};
    }
    ctx.out.print_line(fmt::format("manifest  {}\nthumbnail {}\nsheet     {}",
                                   r.manifest.string(),
                                   r.previews.thumbnail.string(),
                                   r.previews.contact_sheet.string()));
    if (r.prompt) {
        ctx.out.print_line(fmt::format("prompt    {} ({})\nnext      cosmos inference {}",
                                       r.prompt->id,
                                       r.prompt->name,
                                       r.prompt->id));
    } else {
        ctx.out.print_line(
            fmt::format("next      cosmos create prompt \"...\" {}", r.output_dir.string()));
    }
    return {};
}

core::Status run_prepare(Context& ctx, const PrepareArgs& a) {
    services::PrepareRequest req;
    req.render_dir = a.render_dir;
    if (!a.output.empty()) {
        req.output_dir = a.output;
    }
    if (a.name_opt->count() > 0) {
        req.name = a.name;
    }
    req.fps = a.fps;
    req.crf = a.crf;
    req.preset = a.preset;
    req.make_edge = a.edge;
    req.force = a.force;
    req.dry_run = a.dry_run;
    req.depth.near = a.depth_near == "bright" ? media::DepthNear::bright
                     : a.depth_near == "dark" ? media::DepthNear::dark
                                              : media::DepthNear::auto_detect;
    if (!a.depth_range.empty()) {
        COSMOS_TRY(req.depth.range, parse_pair(a.depth_range, "--depth-range"));
    }
    if (!a.edge_threshold.empty()) {
        COSMOS_TRY(auto t, parse_pair(a.edge_threshold, "--edge-threshold"));
        if (t.first < 0 || t.second > 1) {
            return fail(ErrorCode::invalid_input, "--edge-threshold values must lie in 0..1");
        }
        req.edge_low = t.first;
        req.edge_high = t.second;
    }
    if (a.prompt_opt->count() > 0) {
        req.prompt_text = a.prompt;
    }
    const services::App* app = nullptr;
    if (req.prompt_text || !req.output_dir) {
        COSMOS_TRY(app, ctx.app());
    }
    if (req.dry_run) {
        COSMOS_TRY(auto r, services::prepare_render(app, req));
        return print_prepared(ctx, r, true);
    }
    ProgressLine progress(ctx.out, "prepare");
    req.progress = progress.callback();
    req.cancel = &g_interrupted;
    COSMOS_TRY(auto r, services::prepare_render(app, req));
    progress.done();
    return print_prepared(ctx, r, false);
}

void add_prepare(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<PrepareArgs>();
    auto* cmd = parent.add_subcommand(
        "prepare",
        "Turn a render folder of image sequences into an input set: color.mp4 plus control "
        "videos (depth, segmentation, edge, ...) as H.264 mp4s the model accepts, a "
        "manifest.json (frames, fps, size, sha256 per file) and previews");
    cmd->add_option(
           "RENDER_DIR", a->render_dir, "Folder with the frames (or one subfolder per pass)")
        ->required();
    cmd->add_option("-o,--output",
                    a->output,
                    "Input-set folder to write (default: <data_dir>/inputs/<name>)")
        ->type_name("DIR");
    a->name_opt = cmd->add_option(
        "--name", a->name, "Name of the input set (default: the render folder's name)");
    cmd->add_option("--fps", a->fps, "Frame rate of the videos (1..60)")->capture_default_str();
    cmd->add_option(
           "--crf", a->crf, "libx264 quality, 0 (lossless) .. 51; segmentation uses at most 10")
        ->check(CLI::Range(0, 51))
        ->capture_default_str();
    cmd->add_option("--preset", a->preset, "libx264 preset (ultrafast .. veryslow)")
        ->capture_default_str();
    cmd->add_flag(
        "--edge",
        a->edge,
        "Compute edge.mp4 from color (Canny-style edgedetect) when no edge pass was rendered");
    cmd->add_option("--edge-threshold",
                    a->edge_threshold,
                    "edgedetect LOW:HIGH thresholds in 0..1 (default 0.1:0.4)")
        ->type_name("LOW:HIGH");
    cmd->add_option("--depth-near",
                    a->depth_near,
                    "Which depth values are near: bright (large = near), dark (small = near, "
                    "distances), auto (8-bit files bright, 16-bit and float files dark)")
        ->check(CLI::IsMember({"auto", "bright", "dark"}))
        ->capture_default_str();
    cmd->add_option("--depth-range",
                    a->depth_range,
                    "Depth values mapped to the ends of 0..255, in the files' units (default: "
                    "the sequence's own min:max)")
        ->type_name("MIN:MAX");
    a->prompt_opt = cmd->add_option("--create-prompt",
                                    a->prompt,
                                    "Also create a prompt with this text on the new input set")
                        ->type_name("TEXT");
    cmd->add_flag("--force", a->force, "Replace an input set already in the output folder");
    cmd->add_flag("--dry-run",
                  a->dry_run,
                  "Scan and check the frames and print the input set that would be written "
                  "(files, frames, size); encode and write nothing");
    cmd->footer(
        "Naming: frames are <modality><sep><number>.<ext> (color.0001.png, depth_12.exr, "
        "shot3-segmentation.00042.png)\nor sit in a folder named after the modality "
        "(depth/frame_0001.png); any zero padding; png, jpg, exr, tif, bmp.\nModalities: "
        "color|rgb|beauty (required), depth, segmentation|seg, edge, vis, keypoint, hdmap, "
        "lidar.\nGaps, duplicate numbers, frames missing from a pass and frames of another "
        "size are refused, naming the files.\n\nExamples:\n"
        "  cosmos prepare renders/shot010 --fps 24 --edge\n"
        "  cosmos prepare renders/shot010 --dry-run   # check the frames, write nothing\n"
        "  cosmos prepare renders/shot010 -o inputs/shot010 --depth-near dark --depth-range "
        "0.5:80\n"
        "  cosmos prepare renders/shot010 --create-prompt \"a foggy harbour at dawn\"\n"
        "See docs/media.md.");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] { return ctx.guard([&] { return run_prepare(ctx, *a); }); };
    });
}

struct InterpolateArgs {
    std::string video, output, method = "mci", preset = "veryfast";
    int factor = 2, crf = 18;
    bool smooth = false;
};

core::Status run_interpolate(Context& ctx, const InterpolateArgs& a) {
    media::InterpolateOptions o;
    o.factor = a.factor;
    o.method =
        a.method == "blend" ? media::InterpolationMethod::blend : media::InterpolationMethod::mci;
    o.smooth = a.smooth;
    o.crf = a.crf;
    o.preset = a.preset;
    o.cancel = &g_interrupted;
    fs::path in = a.video;
    fs::path out = a.output.empty()
                       ? in.parent_path() / fmt::format("{}_x{}.mp4", in.stem().string(), a.factor)
                       : fs::path(a.output);
    std::error_code ec;
    if (fs::exists(out, ec) && fs::equivalent(out, in, ec)) {
        return fail(ErrorCode::invalid_input, "the output would overwrite the input video");
    }
    ProgressLine progress(ctx.out, "interpolate");
    o.progress = progress.callback();
    COSMOS_TRY(auto r, media::interpolate_video(in, out, o));
    progress.done();
    if (ctx.out.json) {
        ctx.out.print_json({{"input", in.string()},
                            {"output", out.string()},
                            {"method", a.method},
                            {"factor", a.factor},
                            {"smooth", a.smooth},
                            {"input_frames", r.input_frames},
                            {"output_frames", r.output_frames},
                            {"input_fps", r.input_fps},
                            {"output_fps", r.output_fps}});
        return {};
    }
    ctx.out.print_line(fmt::format("{}  {} frames at {} fps ({} x{} of {} frames at {:.3g} fps)",
                                   out.string(),
                                   r.output_frames,
                                   r.output_fps,
                                   a.method,
                                   a.factor,
                                   r.input_frames,
                                   r.input_fps));
    return {};
}

void add_interpolate(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<InterpolateArgs>();
    auto* cmd = parent.add_subcommand(
        "interpolate",
        "Make in-between frames: factor k turns N frames into k*(N-1)+1 at k times the frame "
        "rate (same duration)");
    cmd->add_option("VIDEO", a->video, "The video to interpolate")->required();
    cmd->add_option("--factor", a->factor, "2 or 4")
        ->check(CLI::IsMember({2, 4}))
        ->capture_default_str();
    cmd->add_option("--method",
                    a->method,
                    "mci: motion-compensated (libavfilter minterpolate; sharp, may warp on fast "
                    "motion); blend: cross-fade of neighbours (framerate; never warps, ghosts)")
        ->check(CLI::IsMember({"mci", "blend"}))
        ->capture_default_str();
    cmd->add_flag("--smooth",
                  a->smooth,
                  "Add a temporal smoothing pass (3-frame 1-2-1 tmix) against flicker");
    cmd->add_option(
           "-o,--output", a->output, "Output mp4 (default: <VIDEO stem>_x<factor>.mp4 beside it)")
        ->type_name("FILE");
    cmd->add_option("--crf", a->crf, "libx264 quality")
        ->check(CLI::Range(0, 51))
        ->capture_default_str();
    cmd->add_option("--preset", a->preset, "libx264 preset")->capture_default_str();
    cmd->footer(
        "Examples:\n"
        "  cosmos interpolate outputs/rs_x/output.mp4 --factor 2\n"
        "  cosmos interpolate clip.mp4 --factor 4 --method blend --smooth -o clip_96fps.mp4");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] { return ctx.guard([&] { return run_interpolate(ctx, *a); }); };
    });
}

struct ChunkArgs {
    std::string input, output, preset = "veryfast";
    std::int64_t window = media::k_model_window;
    std::int64_t overlap = services::k_default_overlap;
    int crf = 18;
    bool force = false;
};

core::Status run_chunk(Context& ctx, const ChunkArgs& a) {
    services::ChunkRequest req;
    req.input = a.input;
    fs::path in = fs::absolute(a.input);
    req.output_dir = a.output.empty() ? in.parent_path() /
                                            (in.filename().replace_extension().string() + "_chunks")
                                      : fs::path(a.output);
    req.window = a.window;
    req.overlap = a.overlap;
    req.crf = a.crf;
    req.preset = a.preset;
    req.force = a.force;
    req.cancel = &g_interrupted;
    ProgressLine progress(ctx.out, "chunk");
    req.progress = progress.callback();
    COSMOS_TRY(auto r, services::chunk_input(req));
    progress.done();
    if (ctx.out.json) {
        nlohmann::ordered_json j;
        j["manifest"] = r.manifest.string();
        j.update(services::chunk_plan_json(r, true));
        ctx.out.print_json(j);
        return {};
    }
    ctx.out.print_line(fmt::format("{} frames -> {} chunks of up to {} frames, overlap {}",
                                   r.frames,
                                   r.chunks.size(),
                                   r.window,
                                   r.overlap));
    for (const auto& c : r.chunks) {
        ctx.out.print_line(fmt::format("  {:>3}  frames {:>5}..{:<5} {}",
                                       c.index,
                                       c.window.start,
                                       c.window.end() - 1,
                                       c.path.string()));
    }
    ctx.out.print_line(
        fmt::format("manifest {}\nnext     run each chunk, then: cosmos stitch "
                    "--manifest {} OUT_0.mp4 OUT_1.mp4 ... -o stitched.mp4",
                    r.manifest.string(),
                    r.manifest.string()));
    return {};
}

void add_chunk(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<ChunkArgs>();
    auto* cmd = parent.add_subcommand(
        "chunk",
        "Split a long video, or every video of an input set at the same frames, into "
        "overlapping windows (parallel long-video mode) with a chunks.json manifest");
    cmd->add_option("INPUT", a->input, "A video file or an input-set folder")->required();
    cmd->add_option(
           "-o,--output", a->output, "Folder for the chunks (default: <INPUT>_chunks beside it)")
        ->type_name("DIR");
    cmd->add_option("--window", a->window, "Frames per window (121 = one model chunk)")
        ->check(CLI::Range(2, 100000))
        ->capture_default_str();
    cmd->add_option("--overlap",
                    a->overlap,
                    "Frames shared by neighbouring windows, cross-faded when stitching (at most "
                    "half the window)")
        ->check(CLI::Range(0, 50000))
        ->capture_default_str();
    cmd->add_option("--crf", a->crf, "libx264 quality")
        ->check(CLI::Range(0, 51))
        ->capture_default_str();
    cmd->add_option("--preset", a->preset, "libx264 preset")->capture_default_str();
    cmd->add_flag("--force", a->force, "Replace chunks already in the output folder");
    cmd->footer(
        "Window i covers frames i*(window-overlap) .. +window-1; the last window ends on the "
        "last frame and may be shorter.\nExamples:\n"
        "  cosmos chunk inputs/shot010                       # input set -> "
        "shot010_chunks/chunk_000/...\n"
        "  cosmos chunk long.mp4 --window 121 --overlap 24 -o long_chunks");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] { return ctx.guard([&] { return run_chunk(ctx, *a); }); };
    });
}

struct StitchArgs {
    std::vector<std::string> parts;
    std::string manifest, output, preset = "veryfast";
    std::int64_t overlap = services::k_default_overlap;
    int fps = 0, crf = 18;
};

core::Status run_stitch(Context& ctx, const StitchArgs& a) {
    services::StitchRequest req;
    for (const auto& p : a.parts) {
        req.parts.emplace_back(p);
    }
    if (!a.manifest.empty()) {
        req.manifest = a.manifest;
    }
    req.overlap = a.overlap;
    req.output = a.output;
    req.fps = a.fps;
    req.crf = a.crf;
    req.preset = a.preset;
    req.cancel = &g_interrupted;
    ProgressLine progress(ctx.out, "stitch");
    req.progress = progress.callback();
    COSMOS_TRY(auto r, services::stitch_parts(req));
    progress.done();
    if (ctx.out.json) {
        nlohmann::ordered_json windows = nlohmann::ordered_json::array();
        for (const auto& w : r.windows) {
            windows.push_back({{"start", w.start}, {"frames", w.frames}});
        }
        ctx.out.print_json(
            {{"output", r.output.string()}, {"frames", r.frames}, {"windows", windows}});
        return {};
    }
    ctx.out.print_line(
        fmt::format("{}  {} frames from {} parts", r.output.string(), r.frames, r.windows.size()));
    return {};
}

void add_stitch(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<StitchArgs>();
    auto* cmd = parent.add_subcommand(
        "stitch",
        "Join the outputs of overlapping windows into one video, cross-fading linearly across "
        "each overlap");
    cmd->add_option(
        "PARTS",
        a->parts,
        "The windows' videos in order (default with --manifest: the chunks themselves)");
    cmd->add_option("--manifest", a->manifest, "chunks.json from cosmos chunk (window positions)")
        ->type_name("FILE");
    cmd->add_option(
           "--overlap", a->overlap, "Frames shared by neighbouring parts (without --manifest)")
        ->capture_default_str();
    cmd->add_option("-o,--output", a->output, "The stitched mp4")->type_name("FILE")->required();
    cmd->add_option("--fps", a->fps, "Output frame rate (default: the manifest's or first part's)");
    cmd->add_option("--crf", a->crf, "libx264 quality")
        ->check(CLI::Range(0, 51))
        ->capture_default_str();
    cmd->add_option("--preset", a->preset, "libx264 preset")->capture_default_str();
    cmd->footer(
        "In an overlap of L frames the j-th frame is (1-a)*earlier + a*later, a = (j+1)/(L+1).\n"
        "Parts may hold more frames than their window (extra frames at the end are ignored).\n"
        "Examples:\n"
        "  cosmos stitch --manifest shot_chunks/chunks.json out0.mp4 out1.mp4 out2.mp4 -o "
        "shot.mp4\n"
        "  cosmos stitch a.mp4 b.mp4 --overlap 16 -o joined.mp4");
    cmd->callback([&ctx, a] {
        ctx.action = [&ctx, a] { return ctx.guard([&] { return run_stitch(ctx, *a); }); };
    });
}

struct LongRunArgs {
    std::string prompt, host;
    std::int64_t window = media::k_model_window;
    std::int64_t overlap = services::k_default_overlap;
    RunOptionsBinding binding;
};

int run_long(Context& ctx, LongRunArgs& a) {
    std::optional<services::LongRunResult> result;
    int code = ctx.guard([&]() -> core::Status {
        COSMOS_TRY(auto opts, a.binding.options());
        COSMOS_TRY(auto* app, ctx.app());
        services::LongRunRequest req;
        req.prompt_id = a.prompt;
        req.options = opts;
        req.window = a.window;
        req.overlap = a.overlap;
        if (!a.host.empty()) {
            req.execute.host = a.host;
        }
        req.execute.cancel = &g_interrupted;
        auto printer = std::make_shared<RunPrinter>(ctx.out);
        req.execute.sink = [printer](const backends::JobEvent& e) { (*printer)(e); };
        COSMOS_TRY(result, services::run_parallel(*app, req));
        return {};
    });
    if (!result) {
        return code;
    }
    const auto& parent = result->parent;
    if (ctx.out.json) {
        auto j = services::run_json(parent);
        j["windows_manifest"] = result->chunks_manifest.string();
        j["children"] = nlohmann::ordered_json::array();
        for (const auto& c : result->children) {
            j["children"].push_back(services::run_json(c));
        }
        ctx.out.print_json(j);
    } else {
        for (const auto& c : result->children) {
            ctx.out.print_line(fmt::format("  window {}  {}  {}",
                                           c.id,
                                           store::to_string(c.status),
                                           c.output_video.value_or(c.error.value_or(""))));
        }
        ctx.out.print_line(fmt::format("{}\t{}\t{}",
                                       parent.id,
                                       store::to_string(parent.status),
                                       parent.output_video.value_or(parent.error.value_or(""))));
    }
    if (g_interrupted.load()) {
        return 130;
    }
    if (parent.status != store::RunStatus::succeeded) {
        ctx.out.note(fmt::format("parallel run {} {}; see `cosmos show {}`",
                                 parent.id,
                                 store::to_string(parent.status),
                                 parent.id));
        return core::exit_code_for(ErrorCode::remote_failed);
    }
    return 0;
}

void add_long_run(CLI::App& parent, Context& ctx) {
    auto a = std::make_shared<LongRunArgs>();
    auto* cmd = parent.add_subcommand(
        "long-run",
        "Run a prompt's video in parallel mode: cut it into overlapping windows, run each "
        "window as a child run of one parent run, and stitch the outputs (cross-faded over "
        "each overlap) into the parent's output video");
    cmd->add_option("PROMPT_ID", a->prompt, "The prompt whose input video to run")->required();
    cmd->add_option("--window", a->window, "Frames per window (121 = one model chunk)")
        ->check(CLI::Range(2, 100000))
        ->capture_default_str();
    cmd->add_option("--overlap",
                    a->overlap,
                    "Frames shared by neighbouring windows (at most half the window)")
        ->check(CLI::Range(0, 50000))
        ->capture_default_str();
    cmd->add_option("--host", a->host, "Host to run on (default: [run] host)");
    a->binding.add_to(*cmd);
    cmd->footer(
        "Every window gets the same prompt text, parameters and seed. Window prompts are "
        "children of PROMPT_ID (parent), window runs children of the parent run.\n"
        "For native mode (the model chains its own 121-frame chunks) use `cosmos inference`.\n"
        "Examples:\n"
        "  cosmos long-run ps_1a2b3c --overlap 24 --seed 7\n"
        "  cosmos long-run ps_1a2b3c --weight depth=0.6 --json\n"
        "Exit code 10 when a window failed (cosmos show PARENT_RUN_ID names it).");
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return run_long(ctx, *a); }; });
}

}  // namespace

void add_media_commands(CLI::App& app, Context& ctx) {
    add_prepare(app, ctx);
    add_interpolate(app, ctx);
    add_chunk(app, ctx);
    add_stitch(app, ctx);
    add_long_run(app, ctx);
}

}  // namespace cosmos::cli
