#include "media/probe.hpp"

#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "media/av_lazy.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

#include "media/av_error.hpp"

namespace cosmos::media {

namespace {

struct InputCloser {
    void operator()(AVFormatContext* ctx) const { av::avformat_close_input(&ctx); }
};
using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;

core::Unexpected unreadable(const std::filesystem::path& path, std::string_view why) {
    return core::fail(core::ErrorCode::invalid_input,
                      fmt::format("not a readable video: {} ({})", path.string(), why),
                      "check that the file is a complete video (e.g. with ffprobe)");
}

// Counts the packets of stream `index` by reading the whole file.
core::Result<std::int64_t> count_packets(AVFormatContext* ctx,
                                         int index,
                                         const std::filesystem::path& path) {
    AVPacket* pkt = av::av_packet_alloc();
    if (pkt == nullptr) {
        return core::fail(core::ErrorCode::internal, "out of memory allocating a packet");
    }
    std::int64_t count = 0;
    int rc = 0;
    while ((rc = av::av_read_frame(ctx, pkt)) >= 0) {
        if (pkt->stream_index == index) {
            ++count;
        }
        av::av_packet_unref(pkt);
    }
    av::av_packet_free(&pkt);
    if (rc != AVERROR_EOF) {
        return unreadable(path, av_error_text(rc));
    }
    return count;
}

double stream_fps(const AVStream* st) {
    if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) {
        return av_q2d(st->avg_frame_rate);
    }
    if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0) {
        return av_q2d(st->r_frame_rate);
    }
    return 0;
}

double stream_duration(const AVFormatContext* ctx, const AVStream* st, const VideoInfo& info) {
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
        return static_cast<double>(st->duration) * av_q2d(st->time_base);
    }
    if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
        return static_cast<double>(ctx->duration) / AV_TIME_BASE;
    }
    return info.fps > 0 ? static_cast<double>(info.frames) / info.fps : 0;
}

}  // namespace

core::Result<VideoInfo> probe_video(const std::filesystem::path& path) {
    quiet_libav_logging();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return core::fail(core::ErrorCode::not_found,
                          fmt::format("video not found: {}", path.string()));
    }
    AVFormatContext* raw = nullptr;
    int rc = av::avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
        return unreadable(path, av_error_text(rc));
    }
    InputPtr ctx(raw);
    if ((rc = av::avformat_find_stream_info(ctx.get(), nullptr)) < 0) {
        return unreadable(path, av_error_text(rc));
    }
    int index = av::av_find_best_stream(ctx.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (index < 0) {
        return unreadable(path, "no video stream");
    }
    const AVStream* st = ctx->streams[index];
    const AVCodecParameters* par = st->codecpar;
    if (par->width <= 0 || par->height <= 0) {
        return unreadable(path, "video stream has no picture size");
    }
    VideoInfo info;
    info.width = par->width;
    info.height = par->height;
    info.codec = av::avcodec_get_name(par->codec_id);
    const char* pix = av::av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
    info.pixel_format = pix != nullptr ? pix : "";
    info.fps = stream_fps(st);
    if (st->nb_frames > 0) {
        info.frames = st->nb_frames;
    } else {
        COSMOS_TRY(std::int64_t counted, count_packets(ctx.get(), index, path));
        info.frames = counted;
    }
    info.duration_s = stream_duration(ctx.get(), st, info);
    return info;
}

}  // namespace cosmos::media
