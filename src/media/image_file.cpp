// Still-image decoding and PNG writing with libavcodec (see image_file.hpp).

#include "media/image_file.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "core/read_file.hpp"
#include "media/av_lazy.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "media/av_error.hpp"

namespace cosmos::media {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

struct CodecCtxDeleter {
    void operator()(AVCodecContext* c) const { av::avcodec_free_context(&c); }
};
struct FrameDeleter {
    void operator()(AVFrame* f) const { av::av_frame_free(&f); }
};
struct PacketDeleter {
    void operator()(AVPacket* p) const { av::av_packet_free(&p); }
};
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCtxDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

std::string lower_ext(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return ext;
}

AVCodecID codec_for(const std::string& ext) {
    if (ext == ".png") {
        return AV_CODEC_ID_PNG;
    }
    if (ext == ".jpg" || ext == ".jpeg") {
        return AV_CODEC_ID_MJPEG;
    }
    if (ext == ".exr") {
        return AV_CODEC_ID_EXR;
    }
    if (ext == ".tif" || ext == ".tiff") {
        return AV_CODEC_ID_TIFF;
    }
    if (ext == ".bmp") {
        return AV_CODEC_ID_BMP;
    }
    return AV_CODEC_ID_NONE;
}

core::Unexpected bad_image(const fs::path& path, std::string_view why) {
    return fail(ErrorCode::invalid_input,
                fmt::format("cannot decode image {}: {}", path.string(), why));
}

// Converts `src` to `dst_format` into a packed buffer of `bytes_per_pixel`.
core::Status convert(const fs::path& path,
                     const AVFrame& src,
                     AVPixelFormat dst_format,
                     std::uint8_t* dst,
                     int dst_stride,
                     SwsContext*& sws) {
    sws = av::sws_getCachedContext(sws,
                                   src.width,
                                   src.height,
                                   static_cast<AVPixelFormat>(src.format),
                                   src.width,
                                   src.height,
                                   dst_format,
                                   SWS_POINT,
                                   nullptr,
                                   nullptr,
                                   nullptr);
    if (sws == nullptr) {
        return bad_image(
            path,
            fmt::format("unsupported pixel format {}",
                        av::av_get_pix_fmt_name(static_cast<AVPixelFormat>(src.format))));
    }
    std::uint8_t* planes[4] = {dst, nullptr, nullptr, nullptr};
    int strides[4] = {dst_stride, 0, 0, 0};
    av::sws_scale(sws, src.data, src.linesize, 0, src.height, planes, strides);
    return {};
}

}  // namespace

bool is_image_extension(const std::string& ext) {
    return codec_for(ext) != AV_CODEC_ID_NONE;
}

struct ImageDecoder::Impl {
    std::map<AVCodecID, CodecPtr> decoders;
    PacketPtr packet{av::av_packet_alloc()};
    FramePtr frame{av::av_frame_alloc()};
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint8_t> scratch;
    SwsContext* sws = nullptr;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() { av::sws_freeContext(sws); }

    // Reads and decodes the whole file into `frame`, in its native pixel format.
    core::Status decode(const fs::path& path);
};

core::Status ImageDecoder::Impl::decode(const fs::path& path) {
    quiet_libav_logging();
    if (!packet || !frame) {
        return fail(ErrorCode::internal, "out of memory decoding an image");
    }
    AVCodecID id = codec_for(lower_ext(path));
    const AVCodec* codec = id == AV_CODEC_ID_NONE ? nullptr : av::avcodec_find_decoder(id);
    if (codec == nullptr) {
        return bad_image(path, "unsupported file type (png, jpg, exr, tif, bmp)");
    }
    auto data = core::read_file(path, core::kImageFileMax, "image");
    if (!data) {
        if (data.error().code == ErrorCode::not_found) {
            return fail(ErrorCode::not_found, fmt::format("image not found: {}", path.string()));
        }
        return fail(std::move(data).error());
    }
    const std::size_t size = data->size();
    if (size == 0) {
        return bad_image(path, "empty file");
    }
    bytes.assign(data->begin(), data->end());
    bytes.resize(size + AV_INPUT_BUFFER_PADDING_SIZE, std::uint8_t{0});
    CodecPtr& ctx = decoders[id];
    if (!ctx) {
        ctx.reset(av::avcodec_alloc_context3(codec));
        if (!ctx) {
            return fail(ErrorCode::internal, "out of memory decoding an image");
        }
        ctx->thread_count = 1;
        int rc = av::avcodec_open2(ctx.get(), codec, nullptr);
        if (rc < 0) {
            ctx.reset();
            return bad_image(path, av_error_text(rc));
        }
    } else {
        av::avcodec_flush_buffers(ctx.get());
    }
    av::av_packet_unref(packet.get());
    packet->data = bytes.data();
    packet->size = static_cast<int>(size);
    packet->flags |= AV_PKT_FLAG_KEY;
    av::av_frame_unref(frame.get());
    int rc = av::avcodec_send_packet(ctx.get(), packet.get());
    packet->data = nullptr;
    packet->size = 0;
    if (rc < 0) {
        return bad_image(path, av_error_text(rc));
    }
    rc = av::avcodec_receive_frame(ctx.get(), frame.get());
    if (rc == AVERROR(EAGAIN)) {
        av::avcodec_send_packet(ctx.get(), nullptr);
        rc = av::avcodec_receive_frame(ctx.get(), frame.get());
    }
    if (rc < 0) {
        return bad_image(path, av_error_text(rc));
    }
    if (frame->width <= 0 || frame->height <= 0) {
        return bad_image(path, "no picture size");
    }
    return {};
}

ImageDecoder::ImageDecoder() : m_impl(std::make_unique<Impl>()) {}
ImageDecoder::~ImageDecoder() = default;
ImageDecoder::ImageDecoder(ImageDecoder&&) noexcept = default;
ImageDecoder& ImageDecoder::operator=(ImageDecoder&&) noexcept = default;

core::Status ImageDecoder::read_rgb(const fs::path& path, Frame& out) {
    if (auto s = m_impl->decode(path); !s) {
        return s;
    }
    const AVFrame& decoded = *m_impl->frame;
    out.width = decoded.width;
    out.height = decoded.height;
    out.rgb.reserve(static_cast<std::size_t>(out.width) * out.height * 3 +
                    k_sws_padding);  // read by sws_scale in place
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    if (decoded.format == AV_PIX_FMT_RGB24 && decoded.linesize[0] >= out.width * 3) {
        for (int y = 0; y < out.height; ++y) {
            std::copy_n(decoded.data[0] + static_cast<std::ptrdiff_t>(y) * decoded.linesize[0],
                        out.width * 3,
                        out.rgb.data() + static_cast<std::size_t>(y) * out.width * 3);
        }
        return {};
    }
    return convert(path, decoded, AV_PIX_FMT_RGB24, out.rgb.data(), out.width * 3, m_impl->sws);
}

core::Status ImageDecoder::read_scalar(const fs::path& path, ScalarImage& img) {
    if (auto s = m_impl->decode(path); !s) {
        return s;
    }
    const AVFrame& f = *m_impl->frame;
    auto format = static_cast<AVPixelFormat>(f.format);
    const AVPixFmtDescriptor* desc = av::av_pix_fmt_desc_get(format);
    img.width = f.width;
    img.height = f.height;
    img.values.resize(static_cast<std::size_t>(f.width) * f.height);
    bool is_float = desc != nullptr && (desc->flags & AV_PIX_FMT_FLAG_FLOAT) != 0;
    int depth = desc != nullptr ? desc->comp[0].depth : 8;
    if (is_float) {
        // EXR decodes to planar float (gbrpf32 / gbrapf32 / grayf32); plane 2 is red in gbrp.
        img.kind = SampleKind::f32;
        int plane = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0 && desc->nb_components >= 3
                        ? desc->comp[2].plane
                        : desc->comp[0].plane;
        bool big_endian = (desc->flags & AV_PIX_FMT_FLAG_BE) != 0;
        for (int y = 0; y < f.height; ++y) {
            const std::uint8_t* row =
                f.data[plane] + static_cast<std::ptrdiff_t>(y) * f.linesize[plane];
            for (int x = 0; x < f.width; ++x) {
                const std::uint8_t* p = row + static_cast<std::ptrdiff_t>(x) * 4;
                std::uint32_t bits = big_endian
                                         ? (std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                                            std::uint32_t(p[2]) << 8 | p[3])
                                         : (std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 |
                                            std::uint32_t(p[1]) << 8 | p[0]);
                float v = 0;
                std::memcpy(&v, &bits, sizeof v);
                img.values[static_cast<std::size_t>(y) * f.width + x] = v;
            }
        }
        return {};
    }
    std::vector<std::uint8_t>& buf = m_impl->scratch;
    if (depth > 8) {
        // 16-bit gray or RGB48: convert to gray16 / rgb48 (little endian), keep the full range.
        img.kind = SampleKind::u16;
        bool rgb = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0;
        int comps = rgb ? 3 : 1;
        buf.resize(static_cast<std::size_t>(f.width) * f.height * comps * 2);
        if (auto s = convert(path,
                             f,
                             rgb ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_GRAY16LE,
                             buf.data(),
                             f.width * comps * 2,
                             m_impl->sws);
            !s) {
            return s;
        }
        for (std::size_t i = 0; i < img.values.size(); ++i) {
            std::size_t k = i * static_cast<std::size_t>(comps) * 2;
            img.values[i] = static_cast<float>(buf[k] | (buf[k + 1] << 8));
        }
        return {};
    }
    img.kind = SampleKind::u8;
    buf.resize(static_cast<std::size_t>(f.width) * f.height * 3);
    if (auto s = convert(path, f, AV_PIX_FMT_RGB24, buf.data(), f.width * 3, m_impl->sws); !s) {
        return s;
    }
    for (std::size_t i = 0; i < img.values.size(); ++i) {
        img.values[i] = static_cast<float>(buf[i * 3]);
    }
    return {};
}

core::Result<Frame> read_image_rgb(const fs::path& path) {
    ImageDecoder decoder;
    Frame out;
    if (auto s = decoder.read_rgb(path, out); !s) {
        return fail(s.error());
    }
    return out;
}

core::Result<ScalarImage> read_image_scalar(const fs::path& path) {
    ImageDecoder decoder;
    ScalarImage out;
    if (auto s = decoder.read_scalar(path, out); !s) {
        return fail(s.error());
    }
    return out;
}

namespace {

// Encodes one picture of `format` whose rows `row(y)` are `row_bytes` long into a PNG file.
template <class Row>
core::Status encode_png(
    const fs::path& path, int width, int height, AVPixelFormat format, int row_bytes, Row row) {
    quiet_libav_logging();
    const AVCodec* codec = av::avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (codec == nullptr) {
        return fail(ErrorCode::internal, "libavcodec has no PNG encoder");
    }
    CodecPtr ctx(av::avcodec_alloc_context3(codec));
    PacketPtr packet(av::av_packet_alloc());
    FramePtr picture(av::av_frame_alloc());
    if (!ctx || !packet || !picture) {
        return fail(ErrorCode::internal, "out of memory encoding a PNG");
    }
    ctx->width = width;
    ctx->height = height;
    ctx->pix_fmt = format;
    ctx->time_base = AVRational{1, 25};
    auto io_fail = [&](int rc) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write PNG {}: {}", path.string(), av_error_text(rc)));
    };
    int rc = av::avcodec_open2(ctx.get(), codec, nullptr);
    if (rc < 0) {
        return io_fail(rc);
    }
    picture->format = format;
    picture->width = width;
    picture->height = height;
    if ((rc = av::av_frame_get_buffer(picture.get(), 0)) < 0) {
        return io_fail(rc);
    }
    for (int y = 0; y < height; ++y) {
        std::copy_n(row(y),
                    row_bytes,
                    picture->data[0] + static_cast<std::ptrdiff_t>(y) * picture->linesize[0]);
    }
    if ((rc = av::avcodec_send_frame(ctx.get(), picture.get())) < 0 ||
        (rc = av::avcodec_send_frame(ctx.get(), nullptr)) < 0 ||
        (rc = av::avcodec_receive_packet(ctx.get(), packet.get())) < 0) {
        return io_fail(rc);
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(packet->data), packet->size);
    out.close();
    if (!out) {
        return fail(ErrorCode::io, fmt::format("cannot write PNG {}", path.string()));
    }
    return {};
}

}  // namespace

core::Status write_png(const fs::path& path, const Frame& frame) {
    return encode_png(
        path, frame.width, frame.height, AV_PIX_FMT_RGB24, frame.width * 3, [&](int y) {
            return frame.rgb.data() + static_cast<std::size_t>(y) * frame.width * 3;
        });
}

core::Status write_png_gray16(const fs::path& path,
                              int width,
                              int height,
                              const std::vector<std::uint16_t>& values) {
    if (values.size() != static_cast<std::size_t>(width) * height) {
        return fail(ErrorCode::internal, "write_png_gray16: values do not match the size");
    }
    // PNG stores 16-bit samples big endian; libavcodec takes GRAY16BE as is.
    std::vector<std::uint8_t> be(values.size() * 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        be[i * 2] = static_cast<std::uint8_t>(values[i] >> 8);
        be[i * 2 + 1] = static_cast<std::uint8_t>(values[i] & 0xff);
    }
    return encode_png(path, width, height, AV_PIX_FMT_GRAY16BE, width * 2, [&](int y) {
        return be.data() + static_cast<std::size_t>(y) * width * 2;
    });
}

}  // namespace cosmos::media
