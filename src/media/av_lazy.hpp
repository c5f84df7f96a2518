#pragma once
// FFmpeg's libraries, loaded the first time a media function needs them.
//
// Why: Debian's FFmpeg libraries pull in about 150 more shared libraries (codecs, X11, Vulkan,
// speech synthesis...). Linked normally, the dynamic loader maps and relocates all of them at
// every start of `cosmos`, which took ~70 ms of an 80 ms `cosmos list runs` on the reference
// machine, against ~8 ms without them. Most commands never touch a video, so media code calls
// FFmpeg through these wrappers instead: the first call of a function dlopens its library by
// the SONAME the headers were built against (libavformat.so.59...) and looks the symbol up
// once; later calls are one indirect call. Nothing links FFmpeg directly (CMakeLists.txt), so a
// call that bypasses this layer fails to link instead of silently loading everything again.
//
// Call FFmpeg as av::NAME(...) (qualified: an unqualified call would find the real function
// through argument-dependent lookup). The headers are the real ones: types, macros and inline
// helpers (av_q2d, AVERROR) are used as usual.

#include <cstring>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace cosmos::media::av {

enum class Library { avutil, avcodec, avformat, avfilter, swscale };

// The address of `name` in `library`, loading the library on first use (thread-safe). When the
// library or the symbol cannot be loaded the installation is broken: prints what is missing and
// how to install it, and ends the process (exit code 70).
void* symbol(Library library, const char* name);

// The SONAME the headers were built against: "libavformat.so.59".
const char* soname(Library library);

template <typename Fn>
Fn function(Library library, const char* name) {
    void* address = symbol(library, name);
    Fn fn;  // a data pointer to a function pointer, without the cast ISO C++ leaves undefined
    static_assert(sizeof fn == sizeof address);
    std::memcpy(&fn, &address, sizeof fn);
    return fn;
}

}  // namespace cosmos::media::av

// Declares av::NAME: forwards to FFmpeg's NAME, looked up on the first call.
#define COSMOS_AV_FUNCTION(LIBRARY, NAME)                                            \
    namespace cosmos::media::av {                                                    \
    template <typename... Args>                                                      \
    inline auto NAME(Args&&... args) {                                               \
        static const auto fn = function<decltype(&::NAME)>(Library::LIBRARY, #NAME); \
        return fn(std::forward<Args>(args)...);                                      \
    }                                                                                \
    }

COSMOS_AV_FUNCTION(avutil, av_dict_free)
COSMOS_AV_FUNCTION(avutil, av_dict_set)
COSMOS_AV_FUNCTION(avutil, av_dict_set_int)
COSMOS_AV_FUNCTION(avutil, av_frame_alloc)
COSMOS_AV_FUNCTION(avutil, av_frame_free)
COSMOS_AV_FUNCTION(avutil, av_frame_get_buffer)
COSMOS_AV_FUNCTION(avutil, av_frame_make_writable)
COSMOS_AV_FUNCTION(avutil, av_frame_unref)
COSMOS_AV_FUNCTION(avutil, av_get_pix_fmt_name)
COSMOS_AV_FUNCTION(avutil, av_log_set_level)
COSMOS_AV_FUNCTION(avutil, av_opt_set_bin)
COSMOS_AV_FUNCTION(avutil, av_pix_fmt_desc_get)
COSMOS_AV_FUNCTION(avutil, av_strdup)
COSMOS_AV_FUNCTION(avutil, av_strerror)

COSMOS_AV_FUNCTION(avcodec, av_packet_alloc)
COSMOS_AV_FUNCTION(avcodec, av_packet_free)
COSMOS_AV_FUNCTION(avcodec, av_packet_rescale_ts)
COSMOS_AV_FUNCTION(avcodec, av_packet_unref)
COSMOS_AV_FUNCTION(avcodec, avcodec_alloc_context3)
COSMOS_AV_FUNCTION(avcodec, avcodec_find_decoder)
COSMOS_AV_FUNCTION(avcodec, avcodec_find_encoder)
COSMOS_AV_FUNCTION(avcodec, avcodec_find_encoder_by_name)
COSMOS_AV_FUNCTION(avcodec, avcodec_flush_buffers)
COSMOS_AV_FUNCTION(avcodec, avcodec_free_context)
COSMOS_AV_FUNCTION(avcodec, avcodec_get_name)
COSMOS_AV_FUNCTION(avcodec, avcodec_open2)
COSMOS_AV_FUNCTION(avcodec, avcodec_parameters_from_context)
COSMOS_AV_FUNCTION(avcodec, avcodec_parameters_to_context)
COSMOS_AV_FUNCTION(avcodec, avcodec_receive_frame)
COSMOS_AV_FUNCTION(avcodec, avcodec_receive_packet)
COSMOS_AV_FUNCTION(avcodec, avcodec_send_frame)
COSMOS_AV_FUNCTION(avcodec, avcodec_send_packet)

COSMOS_AV_FUNCTION(avformat, av_find_best_stream)
COSMOS_AV_FUNCTION(avformat, av_interleaved_write_frame)
COSMOS_AV_FUNCTION(avformat, av_read_frame)
COSMOS_AV_FUNCTION(avformat, av_write_trailer)
COSMOS_AV_FUNCTION(avformat, avformat_alloc_output_context2)
COSMOS_AV_FUNCTION(avformat, avformat_close_input)
COSMOS_AV_FUNCTION(avformat, avformat_find_stream_info)
COSMOS_AV_FUNCTION(avformat, avformat_free_context)
COSMOS_AV_FUNCTION(avformat, avformat_new_stream)
COSMOS_AV_FUNCTION(avformat, avformat_open_input)
COSMOS_AV_FUNCTION(avformat, avformat_write_header)
COSMOS_AV_FUNCTION(avformat, avio_closep)
COSMOS_AV_FUNCTION(avformat, avio_open)

COSMOS_AV_FUNCTION(avfilter, av_buffersink_get_frame)
COSMOS_AV_FUNCTION(avfilter, av_buffersink_get_time_base)
COSMOS_AV_FUNCTION(avfilter, av_buffersrc_add_frame_flags)
COSMOS_AV_FUNCTION(avfilter, avfilter_get_by_name)
COSMOS_AV_FUNCTION(avfilter, avfilter_graph_alloc)
COSMOS_AV_FUNCTION(avfilter, avfilter_graph_config)
COSMOS_AV_FUNCTION(avfilter, avfilter_graph_create_filter)
COSMOS_AV_FUNCTION(avfilter, avfilter_graph_free)
COSMOS_AV_FUNCTION(avfilter, avfilter_graph_parse_ptr)
COSMOS_AV_FUNCTION(avfilter, avfilter_inout_alloc)
COSMOS_AV_FUNCTION(avfilter, avfilter_inout_free)

COSMOS_AV_FUNCTION(swscale, sws_freeContext)
COSMOS_AV_FUNCTION(swscale, sws_getCachedContext)
COSMOS_AV_FUNCTION(swscale, sws_getContext)
COSMOS_AV_FUNCTION(swscale, sws_scale)

#undef COSMOS_AV_FUNCTION
