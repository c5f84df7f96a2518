// Frame interpolation with libavfilter (see interpolate.hpp).

#include "media/interpolate.hpp"

#include <cmath>

#include <fmt/format.h>

#include "media/filter_graph.hpp"
#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"

namespace cosmos::media {

using core::ErrorCode;
using core::fail;

std::string interpolation_filter(const InterpolateOptions& options, int fps) {
    int out_fps = fps * options.factor;
    std::string desc =
        options.method == InterpolationMethod::mci
            ? fmt::format(
                  "minterpolate=fps={}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1:scd=none",
                  out_fps)
            : fmt::format("framerate=fps={}:interp_start=0:interp_end=255:scene=100", out_fps);
    if (options.smooth) {
        desc += ",tmix=frames=3:weights='1 2 1'";
    }
    return desc;
}

core::Result<InterpolateResult> interpolate_video(const std::filesystem::path& in,
                                                  const std::filesystem::path& out,
                                                  const InterpolateOptions& options) {
    if (options.factor != 2 && options.factor != 4) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("interpolation factor {} is not 2 or 4", options.factor));
    }
    COSMOS_TRY(VideoInfo info, probe_video(in));
    if (info.frames < 2) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "{} has {} frame(s); interpolation needs at least 2", in.string(), info.frames));
    }
    VideoReader reader;
    if (auto s = reader.open(in); !s) {
        return fail(s.error());
    }
    int fps = std::max(1, static_cast<int>(std::lround(info.fps)));
    InterpolateResult result;
    result.input_fps = info.fps;
    result.output_fps = fps * options.factor;
    FilterGraph graph;
    if (auto s =
            graph.open(reader.width(), reader.height(), fps, 1, interpolation_filter(options, fps));
        !s) {
        return fail(s.error());
    }
    WriterOptions wo;
    wo.width = reader.width() - reader.width() % 2;
    wo.height = reader.height() - reader.height() % 2;
    wo.fps = result.output_fps;
    wo.crf = options.crf;
    wo.preset = options.preset;
    if (wo.width != reader.width() || wo.height != reader.height()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} is {}x{}; H.264 output needs even sizes",
                                in.string(),
                                reader.width(),
                                reader.height()));
    }
    VideoWriter writer;
    if (auto s = writer.open(out, wo); !s) {
        return fail(s.error());
    }
    // Output frame k shows time k / output_fps; the last wanted one is the last source frame.
    std::int64_t wanted = 0;  // set once the input count is known (probe may be approximate)
    std::int64_t written = 0;
    Frame last;
    auto drain = [&](bool final_pass) -> core::Status {
        Frame f;
        double t = 0;
        while (true) {
            COSMOS_TRY(bool got, graph.pull(f, t));
            if (!got) {
                return {};
            }
            auto k = static_cast<std::int64_t>(std::llround(t * result.output_fps));
            if (k < written || (final_pass && k >= wanted)) {
                continue;  // duplicate timestamp, or past the last source frame
            }
            while (written < k && !last.rgb.empty()) {  // a gap: repeat the previous frame
                if (auto s = writer.write_frame(last); !s) {
                    return s;
                }
                ++written;
            }
            if (auto s = writer.write_frame(f); !s) {
                return s;
            }
            ++written;
            last = std::move(f);
        }
    };
    Frame frame;
    Frame source_last;
    while (true) {
        COSMOS_TRY(bool got, reader.read_frame(frame));
        if (!got) {
            break;
        }
        if (options.cancel != nullptr && options.cancel->load()) {
            return fail(ErrorCode::interrupted, "interrupted");
        }
        if (auto s = graph.push(frame); !s) {
            return fail(s.error());
        }
        ++result.input_frames;
        source_last = frame;
        if (options.progress) {
            options.progress(result.input_frames, info.frames);
        }
        // Hold back output until the end so frames past the last source frame are dropped.
        wanted = options.factor * (result.input_frames - 1) + 1;
        if (auto s = drain(false); !s) {
            return fail(s.error());
        }
    }
    if (auto s = graph.close_input(); !s) {
        return fail(s.error());
    }
    if (auto s = drain(true); !s) {
        return fail(s.error());
    }
    while (written < wanted) {  // the filter stopped early: end on the last source frame
        if (auto s = writer.write_frame(source_last); !s) {
            return fail(s.error());
        }
        ++written;
    }
    if (auto s = writer.finish(); !s) {
        return fail(s.error());
    }
    result.output_frames = written;
    return result;
}

}  // namespace cosmos::media
