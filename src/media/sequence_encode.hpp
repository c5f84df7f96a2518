#pragma once
// Encodes one render sequence into an H.264 mp4 the model accepts, converting it for its
// modality: colour as is, depth normalised to 8-bit gray (near = bright), segmentation with
// nearest-neighbour chroma and settings that keep flat colours stable, edge maps computed
// from colour with libavfilter's Canny-style `edgedetect`. Frames are decoded on worker
// threads ahead of the encoder (which itself uses every core).

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "media/image_file.hpp"
#include "media/sequence.hpp"

namespace cosmos::media {

// How a sequence is turned into video.
enum class EncodeMode { color, depth, segmentation, edge_from_color };

// Which end of the depth values is near. `auto_detect`: 8-bit files are taken as already
// near = bright (the model's convention); 16-bit and float files as distances (small = near),
// so they are inverted.
enum class DepthNear { auto_detect, bright, dark };

struct DepthOptions {
    DepthNear near = DepthNear::auto_detect;
    // Values mapped to the ends of 0..255 (in the files' units); unset: the sequence's own
    // minimum and maximum over finite values (one extra decoding pass).
    std::optional<std::pair<double, double>> range;
};

struct EncodeOptions {
    int fps = 24;
    int crf = 18;
    std::string preset = "veryfast";
    int decode_threads = 0;  // 0: one per core
    DepthOptions depth;
    double edge_low = 0.1;  // edgedetect thresholds (0..1)
    double edge_high = 0.4;
    // Called after each encoded frame with (frames done, frames total); may be empty.
    std::function<void(std::int64_t, std::int64_t)> progress;
    // Called with each frame (index, picture as encoded) before it is encoded; may be empty.
    std::function<void(std::int64_t, const Frame&)> on_frame;
    const std::atomic<bool>* cancel = nullptr;
};

struct EncodedSequence {
    std::filesystem::path video;
    int width = 0;  // as encoded (even)
    int height = 0;
    int source_width = 0;  // as rendered
    int source_height = 0;
    std::int64_t frames = 0;
    SampleKind samples = SampleKind::u8;  // of the first source frame
    // Depth only: the near convention found in the files and the value range used.
    bool depth_inverted = false;
    double depth_min = 0;
    double depth_max = 0;
};

// Returns the x264 options used for `mode` (segmentation: no adaptive quantisation or psy
// tuning, weaker deblocking, so flat areas keep one colour), "" for the others.
std::string x264_params_for(EncodeMode mode);
// Returns the crf used for `mode` given the requested one (segmentation: at most 10).
int crf_for(EncodeMode mode, int requested);

// Encodes `seq` into `out`. Odd sizes are padded to even by repeating the last row/column.
// Fails with invalid_input naming the frame file that cannot be decoded or whose size differs
// from the first frame's, io when the video can't be written, interrupted when cancelled.
core::Result<EncodedSequence> encode_sequence(const ImageSequence& seq,
                                              const std::filesystem::path& out,
                                              EncodeMode mode,
                                              const EncodeOptions& options);

// Pads `frame` to even width and height by repeating its last column/row.
Frame pad_to_even(Frame frame);

}  // namespace cosmos::media
