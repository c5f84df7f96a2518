// Thumbnails and contact sheets (see preview.hpp).

#include "media/preview.hpp"

#include <algorithm>
#include <cmath>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "media/av_lazy.hpp"

extern "C" {
#include <libswscale/swscale.h>
}

#include "media/image_file.hpp"
#include "media/probe.hpp"
#include "media/video_reader.hpp"

namespace cosmos::media {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

constexpr int k_gap = 4;

Frame scaled(const Frame& src, int w, int h) {
    if (src.width == w && src.height == h) {
        return src;
    }
    Frame out = make_frame(w, h);
    SwsContext* sws = av::sws_getContext(src.width,
                                         src.height,
                                         AV_PIX_FMT_RGB24,
                                         w,
                                         h,
                                         AV_PIX_FMT_RGB24,
                                         SWS_AREA,
                                         nullptr,
                                         nullptr,
                                         nullptr);
    if (sws == nullptr) {
        return out;
    }
    std::vector<std::uint8_t> scratch;
    const std::uint8_t* in[4] = {sws_source(src, scratch), nullptr, nullptr, nullptr};
    int in_stride[4] = {src.width * 3, 0, 0, 0};
    std::uint8_t* dst[4] = {out.rgb.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {w * 3, 0, 0, 0};
    av::sws_scale(sws, in, in_stride, 0, src.height, dst, dst_stride);
    av::sws_freeContext(sws);
    return out;
}

}  // namespace

PreviewBuilder::PreviewBuilder(int source_width,
                               int source_height,
                               std::int64_t frames,
                               const PreviewOptions& options)
    : m_options(options) {
    m_options.columns = std::max(1, m_options.columns);
    m_options.rows = std::max(1, m_options.rows);
    m_cell_w = std::max(2, options.width - options.width % 2);
    m_cell_h = std::max(2,
                        static_cast<int>(std::lround(static_cast<double>(source_height) * m_cell_w /
                                                     std::max(1, source_width))));
    frames = std::max<std::int64_t>(1, frames);
    m_middle = (frames - 1) / 2;
    const int cells = m_options.columns * m_options.rows;
    for (int i = cells - 1; i >= 0; --i) {
        std::int64_t pick = cells == 1 ? 0 : (frames - 1) * i / (cells - 1);
        m_slots[pick] = i;
    }
}

bool PreviewBuilder::wants(std::int64_t index) const {
    return index == m_middle || m_slots.count(index) != 0;
}

void PreviewBuilder::add(std::int64_t index, const Frame& frame) {
    if (wants(index)) {
        m_frames[index] = scaled(frame, m_cell_w, m_cell_h);
    }
}

core::Result<PreviewFiles> PreviewBuilder::write(const fs::path& dir,
                                                 const std::string& stem) const {
    if (m_frames.empty()) {
        return fail(ErrorCode::invalid_input, "no frames for the previews");
    }
    const int cols = m_options.columns;
    Frame sheet = make_frame(cols * m_cell_w + (cols + 1) * k_gap,
                             m_options.rows * m_cell_h + (m_options.rows + 1) * k_gap);
    std::fill(sheet.rgb.begin(), sheet.rgb.end(), std::uint8_t{24});
    const int cells = cols * m_options.rows;
    // Each cell shows its pick, or the nearest earlier frame kept (short videos).
    std::vector<std::int64_t> cell_frame(static_cast<std::size_t>(cells), -1);
    for (const auto& [index, cell] : m_slots) {
        for (int c = cell; c < cells; ++c) {
            cell_frame[static_cast<std::size_t>(c)] = index;
        }
    }
    for (int c = 0; c < cells; ++c) {
        auto it = m_frames.find(cell_frame[static_cast<std::size_t>(c)]);
        if (it == m_frames.end()) {
            continue;
        }
        const Frame& f = it->second;
        int x0 = k_gap + (c % cols) * (m_cell_w + k_gap);
        int y0 = k_gap + (c / cols) * (m_cell_h + k_gap);
        for (int y = 0; y < m_cell_h; ++y) {
            std::copy_n(
                f.rgb.data() + static_cast<std::size_t>(y) * m_cell_w * 3,
                m_cell_w * 3,
                sheet.rgb.data() + (static_cast<std::size_t>(y0 + y) * sheet.width + x0) * 3);
        }
    }
    auto thumb = m_frames.find(m_middle);
    const Frame& t = thumb != m_frames.end() ? thumb->second : m_frames.begin()->second;
    std::error_code ec;
    fs::create_directories(dir, ec);
    PreviewFiles files{dir / (stem + ".thumb.png"), dir / (stem + ".sheet.png")};
    if (auto s = write_png(files.thumbnail, t); !s) {
        return fail(s.error());
    }
    if (auto s = write_png(files.contact_sheet, sheet); !s) {
        return fail(s.error());
    }
    return files;
}

core::Result<PreviewFiles> write_previews(const fs::path& video,
                                          const fs::path& dir,
                                          const std::string& stem,
                                          const PreviewOptions& options) {
    COSMOS_TRY(VideoInfo info, probe_video(video));
    PreviewBuilder builder(info.width, info.height, info.frames, options);
    VideoReader reader;
    if (auto s = reader.open(video, ReadOptions{builder.cell_width(), builder.cell_height()}); !s) {
        return fail(s.error());
    }
    Frame f;
    for (std::int64_t t = 0; t < info.frames; ++t) {
        COSMOS_TRY(bool got, reader.read_frame(f));
        if (!got) {
            break;
        }
        builder.add(t, f);
    }
    return builder.write(dir, stem);
}

}  // namespace cosmos::media
