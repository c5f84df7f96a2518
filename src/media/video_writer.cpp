#include "media/video_writer.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "media/av_lazy.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "media/av_error.hpp"

namespace cosmos::media {

struct VideoWriter::Impl {
    std::filesystem::path path;
    WriterOptions options;
    AVFormatContext* output = nullptr;
    AVCodecContext* encoder = nullptr;
    AVStream* stream = nullptr;
    SwsContext* sws = nullptr;
    std::vector<std::uint8_t> scratch;  // a padded copy of a frame for sws_scale (frame.hpp)
    AVFrame* picture = nullptr;
    AVPacket* packet = nullptr;
    std::int64_t next_pts = 0;
    bool header_written = false;

    ~Impl() {
        av::sws_freeContext(sws);
        av::av_frame_free(&picture);
        av::av_packet_free(&packet);
        av::avcodec_free_context(&encoder);
        if (output != nullptr) {
            if (output->pb != nullptr) {
                av::avio_closep(&output->pb);
            }
            av::avformat_free_context(output);
        }
    }

    core::Unexpected io_error(std::string_view what, int rc) const {
        return core::fail(
            core::ErrorCode::io,
            fmt::format("cannot write video {}: {} ({})", path.string(), what, av_error_text(rc)));
    }

    core::Status open_encoder();
    core::Status open_file();
    core::Status drain(bool flushing);
};

namespace {

core::Status check_options(const std::filesystem::path& path, const WriterOptions& o) {
    auto bad = [&](std::string what) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("cannot write video {}: {}", path.string(), what));
    };
    if (o.width <= 0 || o.height <= 0 || o.width % 2 != 0 || o.height % 2 != 0) {
        return bad(
            fmt::format("size {}x{} must be positive and even (H.264 yuv420p)", o.width, o.height));
    }
    if (o.fps <= 0 || o.fps > 1000) {
        return bad(fmt::format("fps {} out of range 1..1000", o.fps));
    }
    if (o.crf < 0 || o.crf > 51) {
        return bad(fmt::format("crf {} out of range 0..51", o.crf));
    }
    return {};
}

// libx264 when present, else the container's default video encoder.
const AVCodec* find_encoder(const AVFormatContext* output) {
    const AVCodec* codec = av::avcodec_find_encoder_by_name("libx264");
    if (codec == nullptr) {
        codec = av::avcodec_find_encoder(output->oformat->video_codec);
    }
    return codec;
}

}  // namespace

core::Status VideoWriter::Impl::open_encoder() {
    const AVCodec* codec = find_encoder(output);
    if (codec == nullptr) {
        return core::fail(core::ErrorCode::internal, "no H.264 or mp4 video encoder in libavcodec");
    }
    encoder = av::avcodec_alloc_context3(codec);
    picture = av::av_frame_alloc();
    packet = av::av_packet_alloc();
    if (encoder == nullptr || picture == nullptr || packet == nullptr) {
        return core::fail(core::ErrorCode::internal, "out of memory opening an encoder");
    }
    encoder->width = options.width;
    encoder->height = options.height;
    encoder->time_base = AVRational{1, options.fps};
    encoder->framerate = AVRational{options.fps, 1};
    encoder->pix_fmt = AV_PIX_FMT_YUV420P;
    encoder->thread_count = options.threads;
    if ((output->oformat->flags & AVFMT_GLOBALHEADER) != 0) {
        encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    AVDictionary* opts = nullptr;
    if (std::string_view(codec->name) == "libx264") {
        av::av_dict_set(&opts, "preset", options.preset.c_str(), 0);
        av::av_dict_set_int(&opts, "crf", options.crf, 0);
        if (!options.x264_params.empty()) {
            av::av_dict_set(&opts, "x264-params", options.x264_params.c_str(), 0);
        }
    }
    int rc = av::avcodec_open2(encoder, codec, &opts);
    av::av_dict_free(&opts);
    if (rc < 0) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("cannot open encoder {} for {} (preset '{}'): {}",
                                      codec->name,
                                      path.string(),
                                      options.preset,
                                      av_error_text(rc)));
    }
    picture->format = AV_PIX_FMT_YUV420P;
    picture->width = options.width;
    picture->height = options.height;
    if ((rc = av::av_frame_get_buffer(picture, 0)) < 0) {
        return io_error("frame buffer", rc);
    }
    return {};
}

core::Status VideoWriter::Impl::open_file() {
    stream = av::avformat_new_stream(output, nullptr);
    if (stream == nullptr) {
        return core::fail(core::ErrorCode::internal, "out of memory adding a stream");
    }
    int rc = av::avcodec_parameters_from_context(stream->codecpar, encoder);
    if (rc < 0) {
        return io_error("stream parameters", rc);
    }
    stream->time_base = encoder->time_base;
    stream->avg_frame_rate = encoder->framerate;
    if ((rc = av::avio_open(&output->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0) {
        return io_error("open", rc);
    }
    if ((rc = av::avformat_write_header(output, nullptr)) < 0) {
        return io_error("header", rc);
    }
    header_written = true;
    return {};
}

// Moves every packet the encoder has ready into the file.
core::Status VideoWriter::Impl::drain(bool flushing) {
    while (true) {
        int rc = av::avcodec_receive_packet(encoder, packet);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
            return {};
        }
        if (rc < 0) {
            return io_error("encode", rc);
        }
        av::av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
        packet->stream_index = stream->index;
        rc = av::av_interleaved_write_frame(output, packet);
        av::av_packet_unref(packet);
        if (rc < 0) {
            return io_error(flushing ? "flush" : "write", rc);
        }
    }
}

VideoWriter::VideoWriter() = default;
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;

VideoWriter::~VideoWriter() {
    if (m_impl) {
        core::warn_on_error(finish(), "finish");
    }
}

core::Status VideoWriter::open(const std::filesystem::path& path, const WriterOptions& options) {
    quiet_libav_logging();
    m_impl.reset();
    core::Status valid = check_options(path, options);
    if (!valid) {
        return valid;
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    int rc = av::avformat_alloc_output_context2(&impl->output, nullptr, nullptr, path.c_str());
    if (rc < 0 || impl->output == nullptr) {
        rc = av::avformat_alloc_output_context2(&impl->output, nullptr, "mp4", path.c_str());
    }
    if (rc < 0 || impl->output == nullptr) {
        return impl->io_error("container", rc);
    }
    core::Status encoder = impl->open_encoder();
    if (!encoder) {
        return encoder;
    }
    core::Status file = impl->open_file();
    if (!file) {
        return file;
    }
    m_impl = std::move(impl);
    return {};
}

core::Status VideoWriter::write_frame(const Frame& frame) {
    if (!m_impl) {
        return core::fail(core::ErrorCode::invalid_input,
                          "write_frame on a writer that is not open");
    }
    Impl& w = *m_impl;
    std::size_t expected = static_cast<std::size_t>(w.options.width) * w.options.height * 3;
    if (frame.width != w.options.width || frame.height != w.options.height ||
        frame.rgb.size() != expected) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("frame of {}x{} does not fit video {} of {}x{}",
                                      frame.width,
                                      frame.height,
                                      w.path.string(),
                                      w.options.width,
                                      w.options.height));
    }
    int rc = av::av_frame_make_writable(w.picture);
    if (rc < 0) {
        return w.io_error("frame buffer", rc);
    }
    w.sws = av::sws_getCachedContext(w.sws,
                                     frame.width,
                                     frame.height,
                                     AV_PIX_FMT_RGB24,
                                     frame.width,
                                     frame.height,
                                     AV_PIX_FMT_YUV420P,
                                     w.options.point_sampling ? SWS_POINT : SWS_BILINEAR,
                                     nullptr,
                                     nullptr,
                                     nullptr);
    const uint8_t* src[4] = {sws_source(frame, w.scratch), nullptr, nullptr, nullptr};
    int src_stride[4] = {frame.width * 3, 0, 0, 0};
    av::sws_scale(w.sws, src, src_stride, 0, frame.height, w.picture->data, w.picture->linesize);
    w.picture->pts = w.next_pts++;
    if ((rc = av::avcodec_send_frame(w.encoder, w.picture)) < 0) {
        return w.io_error("encode", rc);
    }
    return w.drain(false);
}

core::Status VideoWriter::finish() {
    if (!m_impl) {
        return core::fail(core::ErrorCode::invalid_input, "finish on a writer that is not open");
    }
    std::unique_ptr<Impl> w = std::move(m_impl);
    int rc = av::avcodec_send_frame(w->encoder, nullptr);
    if (rc < 0 && rc != AVERROR_EOF) {
        return w->io_error("flush", rc);
    }
    core::Status drained = w->drain(true);
    if (!drained) {
        return drained;
    }
    if ((rc = av::av_write_trailer(w->output)) < 0) {
        return w->io_error("trailer", rc);
    }
    if ((rc = av::avio_closep(&w->output->pb)) < 0) {
        return w->io_error("close", rc);
    }
    return {};
}

std::int64_t VideoWriter::frames_written() const {
    return m_impl ? m_impl->next_pts : 0;
}

}  // namespace cosmos::media
