// Window planning, splitting and cross-fade stitching (see chunking.hpp).

#include "media/chunking.hpp"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "media/probe.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"

namespace cosmos::media {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

core::Result<std::vector<Window>> plan_windows(std::int64_t total,
                                               std::int64_t window,
                                               std::int64_t overlap) {
    if (total < 1) {
        return fail(ErrorCode::invalid_input, "cannot chunk a video without frames");
    }
    if (window < 2) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("window of {} frames is too short (at least 2)", window));
    }
    if (overlap < 0 || 2 * overlap > window) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "overlap {} must be between 0 and half the window ({})", overlap, window / 2),
            "a frame may be shared by two windows, never three");
    }
    std::vector<Window> out;
    std::int64_t stride = window - overlap;
    for (std::int64_t start = 0;; start += stride) {
        if (start + window >= total) {
            out.push_back(Window{start, total - start});
            break;
        }
        out.push_back(Window{start, window});
    }
    return out;
}

core::Result<std::vector<Window>> windows_from_parts(const std::vector<std::int64_t>& frames,
                                                     std::int64_t overlap) {
    std::vector<Window> out;
    std::int64_t start = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i > 0 && overlap >= frames[i]) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("part {} has {} frames, not more than the overlap {}",
                                    i + 1,
                                    frames[i],
                                    overlap));
        }
        if (i > 0) {
            start -= overlap;
        }
        out.push_back(Window{start, frames[i]});
        start += frames[i];
    }
    return out;
}

core::Status split_video(const fs::path& in,
                         const std::vector<Window>& windows,
                         const std::vector<fs::path>& outputs,
                         const SplitOptions& options) {
    if (windows.size() != outputs.size() || windows.empty()) {
        return fail(ErrorCode::internal, "split_video: one output per window");
    }
    COSMOS_TRY(VideoInfo info, probe_video(in));
    std::int64_t total = 0;
    for (const auto& w : windows) {
        total = std::max(total, w.end());
    }
    if (total > info.frames) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format(
                "windows reach frame {} but {} has {} frames", total, in.string(), info.frames));
    }
    VideoReader reader;
    if (auto s = reader.open(in); !s) {
        return s;
    }
    WriterOptions wo;
    wo.width = reader.width();
    wo.height = reader.height();
    wo.fps = options.fps > 0 ? options.fps : std::max(1, static_cast<int>(std::lround(info.fps)));
    wo.crf = options.crf;
    wo.preset = options.preset;
    std::vector<std::unique_ptr<VideoWriter>> writers(windows.size());
    Frame frame;
    for (std::int64_t t = 0; t < total; ++t) {
        COSMOS_TRY(bool got, reader.read_frame(frame));
        if (!got) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("{} ended after {} frames", in.string(), t));
        }
        if (options.cancel != nullptr && options.cancel->load()) {
            return fail(ErrorCode::interrupted, "interrupted");
        }
        for (std::size_t i = 0; i < windows.size(); ++i) {
            const Window& w = windows[i];
            if (t < w.start || t >= w.end()) {
                continue;
            }
            if (!writers[i]) {
                writers[i] = std::make_unique<VideoWriter>();
                if (auto s = writers[i]->open(outputs[i], wo); !s) {
                    return s;
                }
            }
            if (auto s = writers[i]->write_frame(frame); !s) {
                return s;
            }
            if (t + 1 == w.end()) {
                if (auto s = writers[i]->finish(); !s) {
                    return s;
                }
                writers[i].reset();
            }
        }
        if (options.progress) {
            options.progress(t + 1, total);
        }
    }
    return {};
}

namespace {

struct OpenPart {
    std::size_t index = 0;
    VideoReader reader;
    std::int64_t read = 0;
};

}  // namespace

core::Status stitch_videos(const std::vector<fs::path>& parts,
                           const std::vector<Window>& windows,
                           const fs::path& out,
                           const StitchOptions& options) {
    if (parts.empty() || parts.size() != windows.size()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} parts for {} windows", parts.size(), windows.size()));
    }
    std::vector<VideoInfo> infos;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        COSMOS_TRY(VideoInfo info, probe_video(parts[i]));
        if (info.frames < windows[i].frames) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("part {} ({}) has {} frames but its window needs {}",
                                    i + 1,
                                    parts[i].string(),
                                    info.frames,
                                    windows[i].frames));
        }
        if (i > 0 && (info.width != infos[0].width || info.height != infos[0].height)) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("part {} ({}) is {}x{} but part 1 is {}x{}",
                                    i + 1,
                                    parts[i].string(),
                                    info.width,
                                    info.height,
                                    infos[0].width,
                                    infos[0].height));
        }
        if (i > 1 && windows[i].start < windows[i - 2].end()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("part {} overlaps part {} and part {}; a frame may be shared "
                                    "by two parts only",
                                    i + 1,
                                    i - 1,
                                    i));
        }
        if (i > 0 && windows[i].start > windows[i - 1].end()) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("gap between part {} (ends at frame {}) and part {} (starts "
                                    "at {})",
                                    i,
                                    windows[i - 1].end(),
                                    i + 1,
                                    windows[i].start));
        }
        infos.push_back(info);
    }
    const std::int64_t total = windows.back().end();
    WriterOptions wo;
    wo.width = infos[0].width;
    wo.height = infos[0].height;
    wo.fps =
        options.fps > 0 ? options.fps : std::max(1, static_cast<int>(std::lround(infos[0].fps)));
    wo.crf = options.crf;
    wo.preset = options.preset;
    VideoWriter writer;
    if (auto s = writer.open(out, wo); !s) {
        return s;
    }
    std::vector<std::unique_ptr<OpenPart>> open(parts.size());
    auto frame_of = [&](std::size_t i, std::int64_t t, Frame& f) -> core::Status {
        if (!open[i]) {
            open[i] = std::make_unique<OpenPart>();
            open[i]->index = i;
            if (auto s = open[i]->reader.open(parts[i]); !s) {
                return s;
            }
        }
        OpenPart& p = *open[i];
        std::int64_t want = t - windows[i].start;
        while (p.read <= want) {
            COSMOS_TRY(bool got, p.reader.read_frame(f));
            if (!got) {
                return fail(
                    ErrorCode::invalid_input,
                    fmt::format(
                        "part {} ({}) ended after {} frames", i + 1, parts[i].string(), p.read));
            }
            ++p.read;
        }
        return {};
    };
    Frame a;
    Frame b;
    for (std::int64_t t = 0; t < total; ++t) {
        if (options.cancel != nullptr && options.cancel->load()) {
            return fail(ErrorCode::interrupted, "interrupted");
        }
        // The (at most two) windows covering t: the latest one starting at or before t, and
        // the one before it when t is still inside it.
        std::size_t cur = 0;
        for (std::size_t i = 0; i < windows.size(); ++i) {
            if (windows[i].start <= t) {
                cur = i;
            }
        }
        bool overlap = cur > 0 && t < windows[cur - 1].end();
        if (auto s = frame_of(cur, t, b); !s) {
            return s;
        }
        if (overlap) {
            if (auto s = frame_of(cur - 1, t, a); !s) {
                return s;
            }
            std::int64_t len = windows[cur - 1].end() - windows[cur].start;
            std::int64_t j = t - windows[cur].start;
            double alpha = static_cast<double>(j + 1) / static_cast<double>(len + 1);
            for (std::size_t k = 0; k < b.rgb.size(); ++k) {
                double v = (1.0 - alpha) * a.rgb[k] + alpha * b.rgb[k];
                b.rgb[k] = static_cast<std::uint8_t>(std::lround(v));
            }
        }
        // Parts behind t are done: close them.
        for (std::size_t i = 0; i + 1 < cur; ++i) {
            open[i].reset();
        }
        if (auto s = writer.write_frame(b); !s) {
            return s;
        }
        if (options.progress) {
            options.progress(t + 1, total);
        }
    }
    return writer.finish();
}

}  // namespace cosmos::media
