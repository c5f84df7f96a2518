// libavfilter graph wrapper (see filter_graph.hpp).

#include "media/filter_graph.hpp"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "media/av_lazy.hpp"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
}

#include "media/av_error.hpp"

namespace cosmos::media {

using core::ErrorCode;
using core::fail;

struct FilterGraph::Impl {
    std::string description;
    AVFilterGraph* graph = nullptr;
    AVFilterContext* source = nullptr;
    AVFilterContext* sink = nullptr;
    AVFrame* in = nullptr;
    AVFrame* out = nullptr;
    int width = 0;
    int height = 0;
    std::int64_t next_pts = 0;

    ~Impl() {
        av::av_frame_free(&in);
        av::av_frame_free(&out);
        av::avfilter_graph_free(&graph);
    }

    core::Unexpected error(std::string_view what, int rc) const {
        return fail(ErrorCode::invalid_input,
                    fmt::format("filter '{}': {} ({})", description, what, av_error_text(rc)));
    }
};

FilterGraph::FilterGraph() = default;
FilterGraph::~FilterGraph() = default;
FilterGraph::FilterGraph(FilterGraph&&) noexcept = default;
FilterGraph& FilterGraph::operator=(FilterGraph&&) noexcept = default;

core::Status FilterGraph::open(
    int width, int height, int fps_num, int fps_den, const std::string& description) {
    quiet_libav_logging();
    auto impl = std::make_unique<Impl>();
    impl->description = description;
    impl->width = width;
    impl->height = height;
    impl->graph = av::avfilter_graph_alloc();
    impl->in = av::av_frame_alloc();
    impl->out = av::av_frame_alloc();
    if (impl->graph == nullptr || impl->in == nullptr || impl->out == nullptr) {
        return fail(ErrorCode::internal, "out of memory building a filter graph");
    }
    std::string args =
        fmt::format("video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect=1/1:frame_rate={}/{}",
                    width,
                    height,
                    static_cast<int>(AV_PIX_FMT_RGB24),
                    fps_den,
                    fps_num,
                    fps_num,
                    fps_den);
    int rc = av::avfilter_graph_create_filter(&impl->source,
                                              av::avfilter_get_by_name("buffer"),
                                              "in",
                                              args.c_str(),
                                              nullptr,
                                              impl->graph);
    if (rc < 0) {
        return impl->error("buffer source", rc);
    }
    rc = av::avfilter_graph_create_filter(
        &impl->sink, av::avfilter_get_by_name("buffersink"), "out", nullptr, nullptr, impl->graph);
    if (rc < 0) {
        return impl->error("buffer sink", rc);
    }
    const AVPixelFormat formats[] = {AV_PIX_FMT_RGB24, AV_PIX_FMT_NONE};
    // av_opt_set_int_list without its macro (which calls FFmpeg directly): the list without
    // its AV_PIX_FMT_NONE terminator, as bytes.
    rc = av::av_opt_set_bin(impl->sink,
                            "pix_fmts",
                            reinterpret_cast<const std::uint8_t*>(formats),
                            static_cast<int>(sizeof(formats) - sizeof(formats[0])),
                            AV_OPT_SEARCH_CHILDREN);
    if (rc < 0) {
        return impl->error("sink format", rc);
    }
    AVFilterInOut* outputs = av::avfilter_inout_alloc();
    AVFilterInOut* inputs = av::avfilter_inout_alloc();
    outputs->name = av::av_strdup("in");
    outputs->filter_ctx = impl->source;
    outputs->pad_idx = 0;
    outputs->next = nullptr;
    inputs->name = av::av_strdup("out");
    inputs->filter_ctx = impl->sink;
    inputs->pad_idx = 0;
    inputs->next = nullptr;
    rc = av::avfilter_graph_parse_ptr(impl->graph, description.c_str(), &inputs, &outputs, nullptr);
    av::avfilter_inout_free(&inputs);
    av::avfilter_inout_free(&outputs);
    if (rc < 0) {
        return impl->error("parse", rc);
    }
    if ((rc = av::avfilter_graph_config(impl->graph, nullptr)) < 0) {
        return impl->error("configure", rc);
    }
    m_impl = std::move(impl);
    return {};
}

core::Status FilterGraph::push(const Frame& frame) {
    if (!m_impl) {
        return fail(ErrorCode::internal, "push on a filter graph that is not open");
    }
    Impl& g = *m_impl;
    if (frame.width != g.width || frame.height != g.height) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("frame of {}x{} does not fit filter '{}' opened for {}x{}",
                                frame.width,
                                frame.height,
                                g.description,
                                g.width,
                                g.height));
    }
    av::av_frame_unref(g.in);
    g.in->format = AV_PIX_FMT_RGB24;
    g.in->width = frame.width;
    g.in->height = frame.height;
    int rc = av::av_frame_get_buffer(g.in, 0);
    if (rc < 0) {
        return g.error("frame buffer", rc);
    }
    for (int y = 0; y < frame.height; ++y) {
        std::copy_n(frame.rgb.data() + static_cast<std::size_t>(y) * frame.width * 3,
                    frame.width * 3,
                    g.in->data[0] + static_cast<std::ptrdiff_t>(y) * g.in->linesize[0]);
    }
    g.in->pts = g.next_pts++;
    if ((rc = av::av_buffersrc_add_frame_flags(g.source, g.in, AV_BUFFERSRC_FLAG_KEEP_REF)) < 0) {
        return g.error("push", rc);
    }
    return {};
}

core::Status FilterGraph::close_input() {
    if (!m_impl) {
        return fail(ErrorCode::internal, "close_input on a filter graph that is not open");
    }
    int rc = av::av_buffersrc_add_frame_flags(m_impl->source, nullptr, 0);
    if (rc < 0) {
        return m_impl->error("flush", rc);
    }
    return {};
}

core::Result<bool> FilterGraph::pull(Frame& frame, double& seconds) {
    if (!m_impl) {
        return fail(ErrorCode::internal, "pull on a filter graph that is not open");
    }
    Impl& g = *m_impl;
    int rc = av::av_buffersink_get_frame(g.sink, g.out);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
        return false;
    }
    if (rc < 0) {
        return g.error("pull", rc);
    }
    AVRational tb = av::av_buffersink_get_time_base(g.sink);
    seconds = g.out->pts == AV_NOPTS_VALUE ? 0 : static_cast<double>(g.out->pts) * av_q2d(tb);
    frame = make_frame(g.out->width, g.out->height);
    for (int y = 0; y < g.out->height; ++y) {
        std::copy_n(g.out->data[0] + static_cast<std::ptrdiff_t>(y) * g.out->linesize[0],
                    g.out->width * 3,
                    frame.rgb.data() + static_cast<std::size_t>(y) * frame.width * 3);
    }
    av::av_frame_unref(g.out);
    return true;
}

}  // namespace cosmos::media
