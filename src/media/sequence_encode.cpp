// Render sequence -> mp4 per modality (see sequence_encode.hpp).

#include "media/sequence_encode.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/guard.hpp"
#include "media/filter_graph.hpp"
#include "media/video_writer.hpp"

namespace cosmos::media {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

int worker_count(int requested) {
    if (requested > 0) {
        return requested;
    }
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 2 : static_cast<int>(hw);
}

// What each decoding thread keeps between frames: its decoders and a scratch image.
struct Worker {
    ImageDecoder decoder;
    ScalarImage scalar;
};

// Decodes items 0..n-1 on `workers` persistent threads into a ring of `ahead` reused slots
// (`decode(worker, i, slot)`) and hands them to `consume(i, slot)` in order on the calling
// thread. Slots and decoders are reused, so a steady sequence allocates nothing per frame.
// Stops at the first error (of either) or when cancelled.
template <class Slot, class Decode, class Consume>
core::Status decode_in_order(std::int64_t n,
                             int workers,
                             int ahead,
                             const std::atomic<bool>* cancel,
                             Decode decode,
                             Consume consume) {
    struct Entry {
        Slot value;
        std::int64_t index = -1;
        bool ready = false;
        std::optional<core::Error> error;
    };
    std::vector<Entry> ring(static_cast<std::size_t>(ahead));
    std::mutex mutex;
    std::condition_variable changed;
    std::int64_t next_claim = 0;
    std::int64_t consumed = 0;
    bool stop = false;
    auto work = [&] {
        Worker state;
        while (true) {
            std::int64_t i = 0;
            {
                std::unique_lock<std::mutex> lock(mutex);
                changed.wait(
                    lock, [&] { return stop || next_claim >= n || next_claim < consumed + ahead; });
                if (stop || next_claim >= n) {
                    return;
                }
                i = next_claim++;
            }
            Entry& e = ring[static_cast<std::size_t>(i % ahead)];
            core::Status r = decode(state, i, e.value);
            {
                std::lock_guard<std::mutex> lock(mutex);
                e.index = i;
                e.ready = true;
                if (!r) {
                    e.error = r.error();
                }
            }
            changed.notify_all();
        }
    };
    std::vector<std::thread> threads;
    for (int k = 0; k < workers; ++k) {
        threads.emplace_back([&work] { core::guarded("an encoder thread", work); });
    }
    auto finish = [&](core::Status status) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        changed.notify_all();
        for (auto& t : threads) {
            t.join();
        }
        return status;
    };
    for (std::int64_t i = 0; i < n; ++i) {
        Entry& e = ring[static_cast<std::size_t>(i % ahead)];
        {
            std::unique_lock<std::mutex> lock(mutex);
            changed.wait(lock, [&] { return e.ready && e.index == i; });
        }
        if (e.error) {
            return finish(fail(*e.error));
        }
        if (cancel != nullptr && cancel->load()) {
            return finish(fail(ErrorCode::interrupted, "interrupted"));
        }
        if (auto s = consume(i, e.value); !s) {
            return finish(s);
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            e.ready = false;
            consumed = i + 1;
        }
        changed.notify_all();
    }
    return finish({});
}

std::string frame_label(const fs::path& render_dir_file) {
    return render_dir_file.string();
}

core::Status check_size(
    const SequenceFrame& f, int w, int h, const SequenceFrame& first, int first_w, int first_h) {
    if (w == first_w && h == first_h) {
        return {};
    }
    return fail(ErrorCode::invalid_input,
                fmt::format("frame {} is {}x{} but {} is {}x{}",
                            frame_label(f.path),
                            w,
                            h,
                            frame_label(first.path),
                            first_w,
                            first_h),
                "render every frame of every pass at one resolution; frames are never resized");
}

struct DepthMap {
    double lo = 0;
    double hi = 255;
    bool invert = false;
};

void depth_to_gray(const ScalarImage& img, const DepthMap& map, Frame& f) {
    f.width = img.width;
    f.height = img.height;
    f.rgb.reserve(static_cast<std::size_t>(img.width) * img.height * 3 +
                  k_sws_padding);  // read by sws_scale in place
    f.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
    double span = map.hi - map.lo;
    double scale = span > 0 ? 1.0 / span : 0.0;
    for (std::size_t i = 0; i < img.values.size(); ++i) {
        double v = img.values[i];
        double t = 0;  // non-finite (no hit, infinitely far) -> black
        if (std::isfinite(v)) {
            t = span > 0 ? std::clamp((v - map.lo) * scale, 0.0, 1.0) : 0.5;
            if (map.invert) {
                t = 1.0 - t;
            }
        }
        auto g = static_cast<std::uint8_t>(std::lround(t * 255.0));
        f.rgb[i * 3] = g;
        f.rgb[i * 3 + 1] = g;
        f.rgb[i * 3 + 2] = g;
    }
}

}  // namespace

std::string x264_params_for(EncodeMode mode) {
    if (mode == EncodeMode::segmentation) {
        return "aq-mode=0:psy-rd=0.0,0.0:deblock=-2,-2";
    }
    return "";
}

int crf_for(EncodeMode mode, int requested) {
    return mode == EncodeMode::segmentation ? std::min(requested, 10) : requested;
}

Frame pad_to_even(Frame frame) {
    int w = frame.width + (frame.width % 2);
    int h = frame.height + (frame.height % 2);
    if (w == frame.width && h == frame.height) {
        return frame;
    }
    Frame out = make_frame(w, h);
    for (int y = 0; y < h; ++y) {
        int sy = std::min(y, frame.height - 1);
        const std::uint8_t* src = frame.rgb.data() + static_cast<std::size_t>(sy) * frame.width * 3;
        std::uint8_t* dst = out.rgb.data() + static_cast<std::size_t>(y) * w * 3;
        std::copy_n(src, frame.width * 3, dst);
        if (w != frame.width) {
            std::copy_n(src + static_cast<std::ptrdiff_t>(frame.width - 1) * 3,
                        3,
                        dst + static_cast<std::ptrdiff_t>(frame.width) * 3);
        }
    }
    return out;
}

core::Result<EncodedSequence> encode_sequence(const ImageSequence& seq,
                                              const fs::path& out,
                                              EncodeMode mode,
                                              const EncodeOptions& options) {
    if (seq.frames.empty()) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} sequence has no frames", seq.modality));
    }
    const auto n = static_cast<std::int64_t>(seq.frames.size());
    const SequenceFrame& first = seq.frames.front();
    EncodedSequence result;
    result.video = out;
    DepthMap depth;
    if (mode == EncodeMode::depth) {
        COSMOS_TRY(ScalarImage img, read_image_scalar(first.path));
        result.source_width = img.width;
        result.source_height = img.height;
        result.samples = img.kind;
        depth.invert = options.depth.near == DepthNear::dark ||
                       (options.depth.near == DepthNear::auto_detect && img.kind != SampleKind::u8);
        if (options.depth.range) {
            depth.lo = options.depth.range->first;
            depth.hi = options.depth.range->second;
        } else if (img.kind == SampleKind::u8) {
            depth.lo = 0;
            depth.hi = 255;
        } else {
            // First pass: the sequence's own range, so brightness means the same in every frame.
            double lo = std::numeric_limits<double>::infinity();
            double hi = -lo;
            int w0 = img.width, h0 = img.height;
            using Range = std::pair<float, float>;
            auto decode = [&](Worker& w, std::int64_t i, Range& range) -> core::Status {
                const SequenceFrame& f = seq.frames[static_cast<std::size_t>(i)];
                if (auto s = w.decoder.read_scalar(f.path, w.scalar); !s) {
                    return s;
                }
                if (auto c = check_size(f, w.scalar.width, w.scalar.height, first, w0, h0); !c) {
                    return c;
                }
                float a = std::numeric_limits<float>::infinity(), b = -a;
                for (float v : w.scalar.values) {
                    if (std::isfinite(v)) {
                        a = std::min(a, v);
                        b = std::max(b, v);
                    }
                }
                range = Range{a, b};
                return {};
            };
            auto consume = [&](std::int64_t, const Range& r) -> core::Status {
                lo = std::min(lo, static_cast<double>(r.first));
                hi = std::max(hi, static_cast<double>(r.second));
                return {};
            };
            int workers = worker_count(options.decode_threads);
            if (auto s = decode_in_order<Range>(
                    n, workers, 2 * workers, options.cancel, decode, consume);
                !s) {
                return fail(s.error());
            }
            if (!std::isfinite(lo) || !std::isfinite(hi)) {
                lo = 0;
                hi = 1;
            }
            depth.lo = lo;
            depth.hi = hi;
        }
        result.depth_inverted = depth.invert;
        result.depth_min = depth.lo;
        result.depth_max = depth.hi;
    } else {
        COSMOS_TRY(Frame f, read_image_rgb(first.path));
        result.source_width = f.width;
        result.source_height = f.height;
    }
    result.width = result.source_width + result.source_width % 2;
    result.height = result.source_height + result.source_height % 2;

    WriterOptions wo;
    wo.width = result.width;
    wo.height = result.height;
    wo.fps = options.fps;
    wo.crf = crf_for(mode, options.crf);
    wo.preset = options.preset;
    wo.x264_params = x264_params_for(mode);
    wo.point_sampling = mode == EncodeMode::segmentation;
    VideoWriter writer;
    if (auto s = writer.open(out, wo); !s) {
        return fail(s.error());
    }
    FilterGraph edges;
    if (mode == EncodeMode::edge_from_color) {
        std::string desc = fmt::format("format=gray,edgedetect=low={:.3f}:high={:.3f}:mode=wires",
                                       options.edge_low,
                                       options.edge_high);
        if (auto s = edges.open(result.width, result.height, options.fps, 1, desc); !s) {
            return fail(s.error());
        }
    }
    const int sw = result.source_width;
    const int sh = result.source_height;
    auto decode = [&](Worker& w, std::int64_t i, Frame& frame) -> core::Status {
        const SequenceFrame& f = seq.frames[static_cast<std::size_t>(i)];
        if (mode == EncodeMode::depth) {
            if (auto s = w.decoder.read_scalar(f.path, w.scalar); !s) {
                return s;
            }
            if (auto c = check_size(f, w.scalar.width, w.scalar.height, first, sw, sh); !c) {
                return c;
            }
            depth_to_gray(w.scalar, depth, frame);
        } else {
            if (auto s = w.decoder.read_rgb(f.path, frame); !s) {
                return s;
            }
            if (auto c = check_size(f, frame.width, frame.height, first, sw, sh); !c) {
                return c;
            }
        }
        if (frame.width % 2 != 0 || frame.height % 2 != 0) {
            frame = pad_to_even(std::move(frame));
        }
        return {};
    };
    std::int64_t written = 0;
    auto drain_edges = [&]() -> core::Status {
        Frame e;
        double t = 0;
        while (true) {
            COSMOS_TRY(bool got, edges.pull(e, t));
            if (!got) {
                return {};
            }
            if (auto s = writer.write_frame(e); !s) {
                return s;
            }
            ++written;
            if (options.progress) {
                options.progress(written, n);
            }
        }
    };
    auto consume = [&](std::int64_t index, const Frame& frame) -> core::Status {
        if (options.on_frame) {
            options.on_frame(index, frame);
        }
        if (mode == EncodeMode::edge_from_color) {
            if (auto s = edges.push(frame); !s) {
                return s;
            }
            return drain_edges();
        }
        if (auto s = writer.write_frame(frame); !s) {
            return s;
        }
        ++written;
        if (options.progress) {
            options.progress(written, n);
        }
        return {};
    };
    int workers = worker_count(options.decode_threads);
    if (auto s = decode_in_order<Frame>(n, workers, 2 * workers, options.cancel, decode, consume);
        !s) {
        return fail(s.error());
    }
    if (mode == EncodeMode::edge_from_color) {
        if (auto s = edges.close_input(); !s) {
            return fail(s.error());
        }
        if (auto s = drain_edges(); !s) {
            return fail(s.error());
        }
    }
    if (auto s = writer.finish(); !s) {
        return fail(s.error());
    }
    result.frames = written;
    if (written != n) {
        return fail(ErrorCode::internal,
                    fmt::format("{}: encoded {} of {} frames", out.string(), written, n));
    }
    return result;
}

}  // namespace cosmos::media
