#include "media/video_reader.hpp"

#include <system_error>

#include <fmt/format.h>

#include "media/av_lazy.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include "media/av_error.hpp"

namespace cosmos::media {

struct VideoReader::Impl {
    std::filesystem::path path;
    AVFormatContext* input = nullptr;
    AVCodecContext* decoder = nullptr;
    SwsContext* sws = nullptr;
    AVPacket* packet = nullptr;
    AVFrame* decoded = nullptr;
    int stream = -1;
    int out_width = 0;
    int out_height = 0;
    double fps = 0;
    bool draining = false;
    bool finished = false;

    ~Impl() {
        av::sws_freeContext(sws);
        av::av_frame_free(&decoded);
        av::av_packet_free(&packet);
        av::avcodec_free_context(&decoder);
        av::avformat_close_input(&input);
    }

    core::Unexpected corrupt(std::string_view why) const {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("not a readable video: {} ({})", path.string(), why));
    }

    core::Status open_decoder();
    core::Result<bool> receive(Frame& frame);
    core::Status feed();
    core::Status convert(Frame& frame);
};

core::Status VideoReader::Impl::open_decoder() {
    int rc = av::avformat_open_input(&input, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
        return corrupt(av_error_text(rc));
    }
    if ((rc = av::avformat_find_stream_info(input, nullptr)) < 0) {
        return corrupt(av_error_text(rc));
    }
    const AVCodec* codec = nullptr;
    stream = av::av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0 || codec == nullptr) {
        return corrupt("no decodable video stream");
    }
    decoder = av::avcodec_alloc_context3(codec);
    packet = av::av_packet_alloc();
    decoded = av::av_frame_alloc();
    if (decoder == nullptr || packet == nullptr || decoded == nullptr) {
        return core::fail(core::ErrorCode::internal, "out of memory opening a decoder");
    }
    const AVStream* st = input->streams[stream];
    if ((rc = av::avcodec_parameters_to_context(decoder, st->codecpar)) < 0) {
        return corrupt(av_error_text(rc));
    }
    decoder->thread_count = 0;
    if ((rc = av::avcodec_open2(decoder, codec, nullptr)) < 0) {
        return corrupt(av_error_text(rc));
    }
    if (decoder->width <= 0 || decoder->height <= 0) {
        return corrupt("video stream has no picture size");
    }
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
    return {};
}

// Sends the next packet of our stream to the decoder (or the flush packet at end of file).
core::Status VideoReader::Impl::feed() {
    while (true) {
        int rc = av::av_read_frame(input, packet);
        if (rc == AVERROR_EOF) {
            draining = true;
            av::avcodec_send_packet(decoder, nullptr);
            return {};
        }
        if (rc < 0) {
            return corrupt(av_error_text(rc));
        }
        if (packet->stream_index != stream) {
            av::av_packet_unref(packet);
            continue;
        }
        rc = av::avcodec_send_packet(decoder, packet);
        av::av_packet_unref(packet);
        if (rc < 0 && rc != AVERROR(EAGAIN)) {
            return corrupt(av_error_text(rc));
        }
        return {};
    }
}

core::Status VideoReader::Impl::convert(Frame& frame) {
    sws = av::sws_getCachedContext(sws,
                                   decoded->width,
                                   decoded->height,
                                   static_cast<AVPixelFormat>(decoded->format),
                                   out_width,
                                   out_height,
                                   AV_PIX_FMT_RGB24,
                                   SWS_BILINEAR,
                                   nullptr,
                                   nullptr,
                                   nullptr);
    if (sws == nullptr) {
        return corrupt("unsupported pixel format");
    }
    frame = make_frame(out_width, out_height);
    uint8_t* dst[4] = {frame.rgb.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {out_width * 3, 0, 0, 0};
    av::sws_scale(sws, decoded->data, decoded->linesize, 0, decoded->height, dst, dst_stride);
    return {};
}

core::Result<bool> VideoReader::Impl::receive(Frame& frame) {
    while (!finished) {
        int rc = av::avcodec_receive_frame(decoder, decoded);
        if (rc == 0) {
            core::Status converted = convert(frame);
            av::av_frame_unref(decoded);
            if (!converted) {
                return core::fail(std::move(converted).error());
            }
            return true;
        }
        if (rc == AVERROR_EOF) {
            finished = true;
            break;
        }
        if (rc != AVERROR(EAGAIN)) {
            return corrupt(av_error_text(rc));
        }
        if (draining) {
            finished = true;
            break;
        }
        core::Status fed = feed();
        if (!fed) {
            return core::fail(std::move(fed).error());
        }
    }
    return false;
}

VideoReader::VideoReader() = default;
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

core::Status VideoReader::open(const std::filesystem::path& path, ReadOptions options) {
    quiet_libav_logging();
    m_impl.reset();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return core::fail(core::ErrorCode::not_found,
                          fmt::format("video not found: {}", path.string()));
    }
    if ((options.width == 0) != (options.height == 0) || options.width < 0 || options.height < 0) {
        return core::fail(
            core::ErrorCode::invalid_input,
            fmt::format(
                "invalid read size {}x{} for {}", options.width, options.height, path.string()));
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    core::Status opened = impl->open_decoder();
    if (!opened) {
        return opened;
    }
    const AVCodecParameters* par = impl->input->streams[impl->stream]->codecpar;
    impl->out_width = options.width > 0 ? options.width : par->width;
    impl->out_height = options.height > 0 ? options.height : par->height;
    m_impl = std::move(impl);
    return {};
}

core::Result<bool> VideoReader::read_frame(Frame& frame) {
    if (!m_impl) {
        return core::fail(core::ErrorCode::invalid_input,
                          "read_frame on a reader that is not open");
    }
    return m_impl->receive(frame);
}

int VideoReader::width() const {
    return m_impl ? m_impl->out_width : 0;
}
int VideoReader::height() const {
    return m_impl ? m_impl->out_height : 0;
}
int VideoReader::source_width() const {
    return m_impl ? m_impl->decoder->width : 0;
}
int VideoReader::source_height() const {
    return m_impl ? m_impl->decoder->height : 0;
}
double VideoReader::fps() const {
    return m_impl ? m_impl->fps : 0;
}

}  // namespace cosmos::media
