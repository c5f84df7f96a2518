// Still-image decoding and PNG writing with libavcodec (see image_file.hpp).

#include "media/image_file.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>

#include <fmt/format.h>

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
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameDeleter {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
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

// Reads and decodes the whole file into one AVFrame in its native pixel format.
core::Result<FramePtr> decode_file(const fs::path& path) {
    quiet_libav_logging();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return fail(ErrorCode::not_found, fmt::format("image not found: {}", path.string()));
    }
    AVCodecID id = codec_for(lower_ext(path));
    const AVCodec* codec = id == AV_CODEC_ID_NONE ? nullptr : avcodec_find_decoder(id);
    if (codec == nullptr) {
        return bad_image(path, "unsupported file type (png, jpg, exr, tif, bmp)");
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        return fail(ErrorCode::io, fmt::format("cannot read {}", path.string()));
    }
    if (bytes.empty()) {
        return bad_image(path, "empty file");
    }
    CodecPtr ctx(avcodec_alloc_context3(codec));
    PacketPtr packet(av_packet_alloc());
    FramePtr frame(av_frame_alloc());
    if (!ctx || !packet || !frame) {
        return fail(ErrorCode::internal, "out of memory decoding an image");
    }
    ctx->thread_count = 1;
    int rc = avcodec_open2(ctx.get(), codec, nullptr);
    if (rc < 0) {
        return bad_image(path, av_error_text(rc));
    }
    if ((rc = av_new_packet(packet.get(), static_cast<int>(bytes.size()))) < 0) {
        return bad_image(path, av_error_text(rc));
    }
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(packet->data));
    packet->flags |= AV_PKT_FLAG_KEY;
    if ((rc = avcodec_send_packet(ctx.get(), packet.get())) < 0) {
        return bad_image(path, av_error_text(rc));
    }
    rc = avcodec_receive_frame(ctx.get(), frame.get());
    if (rc == AVERROR(EAGAIN)) {
        avcodec_send_packet(ctx.get(), nullptr);
        rc = avcodec_receive_frame(ctx.get(), frame.get());
    }
    if (rc < 0) {
        return bad_image(path, av_error_text(rc));
    }
    if (frame->width <= 0 || frame->height <= 0) {
        return bad_image(path, "no picture size");
    }
    return frame;
}

// Converts `src` to `dst_format` into a packed buffer of `bytes_per_pixel`.
core::Status convert(const fs::path& path,
                     const AVFrame& src,
                     AVPixelFormat dst_format,
                     std::uint8_t* dst,
                     int dst_stride) {
    SwsContext* sws = sws_getContext(src.width,
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
        return bad_image(path,
                         fmt::format("unsupported pixel format {}",
                                     av_get_pix_fmt_name(static_cast<AVPixelFormat>(src.format))));
    }
    std::uint8_t* planes[4] = {dst, nullptr, nullptr, nullptr};
    int strides[4] = {dst_stride, 0, 0, 0};
    sws_scale(sws, src.data, src.linesize, 0, src.height, planes, strides);
    sws_freeContext(sws);
    return {};
}

}  // namespace

bool is_image_extension(const std::string& ext) {
    return codec_for(ext) != AV_CODEC_ID_NONE;
}

core::Result<Frame> read_image_rgb(const fs::path& path) {
    COSMOS_TRY(FramePtr decoded, decode_file(path));
    Frame out;
    out.width = decoded->width;
    out.height = decoded->height;
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    if (decoded->format == AV_PIX_FMT_RGB24 && decoded->linesize[0] >= out.width * 3) {
        for (int y = 0; y < out.height; ++y) {
            std::copy_n(decoded->data[0] + static_cast<std::ptrdiff_t>(y) * decoded->linesize[0],
                        out.width * 3,
                        out.rgb.data() + static_cast<std::size_t>(y) * out.width * 3);
        }
        return out;
    }
    if (auto s = convert(path, *decoded, AV_PIX_FMT_RGB24, out.rgb.data(), out.width * 3); !s) {
        return fail(s.error());
    }
    return out;
}

core::Result<ScalarImage> read_image_scalar(const fs::path& path) {
    COSMOS_TRY(FramePtr decoded, decode_file(path));
    const AVFrame& f = *decoded;
    auto format = static_cast<AVPixelFormat>(f.format);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    ScalarImage img;
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
                std::uint32_t bits = 0;
                const std::uint8_t* p = row + static_cast<std::ptrdiff_t>(x) * 4;
                bits = big_endian ? (std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                                     std::uint32_t(p[2]) << 8 | p[3])
                                  : (std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 |
                                     std::uint32_t(p[1]) << 8 | p[0]);
                float v = 0;
                std::memcpy(&v, &bits, sizeof v);
                img.values[static_cast<std::size_t>(y) * f.width + x] = v;
            }
        }
        return img;
    }
    if (depth > 8) {
        // 16-bit gray or RGB48: convert to gray16 (little endian) and keep the full range.
        img.kind = SampleKind::u16;
        AVPixelFormat target =
            (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0 ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_GRAY16LE;
        int comps = target == AV_PIX_FMT_RGB48LE ? 3 : 1;
        std::vector<std::uint16_t> buf(static_cast<std::size_t>(f.width) * f.height * comps);
        if (auto s = convert(
                path, f, target, reinterpret_cast<std::uint8_t*>(buf.data()), f.width * comps * 2);
            !s) {
            return fail(s.error());
        }
        for (std::size_t i = 0; i < img.values.size(); ++i) {
            img.values[i] = static_cast<float>(buf[i * comps]);
        }
        return img;
    }
    img.kind = SampleKind::u8;
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(f.width) * f.height * 3);
    if (auto s = convert(path, f, AV_PIX_FMT_RGB24, buf.data(), f.width * 3); !s) {
        return fail(s.error());
    }
    for (std::size_t i = 0; i < img.values.size(); ++i) {
        img.values[i] = static_cast<float>(buf[i * 3]);
    }
    return img;
}

namespace {

// Encodes one picture of `format` whose rows `row(y)` are `row_bytes` long into a PNG file.
template <class Row>
core::Status encode_png(
    const fs::path& path, int width, int height, AVPixelFormat format, int row_bytes, Row row) {
    quiet_libav_logging();
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (codec == nullptr) {
        return fail(ErrorCode::internal, "libavcodec has no PNG encoder");
    }
    CodecPtr ctx(avcodec_alloc_context3(codec));
    PacketPtr packet(av_packet_alloc());
    FramePtr picture(av_frame_alloc());
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
    int rc = avcodec_open2(ctx.get(), codec, nullptr);
    if (rc < 0) {
        return io_fail(rc);
    }
    picture->format = format;
    picture->width = width;
    picture->height = height;
    if ((rc = av_frame_get_buffer(picture.get(), 0)) < 0) {
        return io_fail(rc);
    }
    for (int y = 0; y < height; ++y) {
        std::copy_n(row(y),
                    row_bytes,
                    picture->data[0] + static_cast<std::ptrdiff_t>(y) * picture->linesize[0]);
    }
    if ((rc = avcodec_send_frame(ctx.get(), picture.get())) < 0 ||
        (rc = avcodec_send_frame(ctx.get(), nullptr)) < 0 ||
        (rc = avcodec_receive_packet(ctx.get(), packet.get())) < 0) {
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
