#pragma once
// One decoded picture as packed RGB24, the exchange format between readers, writers and the
// frame generators.

#include <cstdint>
#include <cstring>
#include <vector>

namespace cosmos::media {

struct Frame {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;  // width * height * 3 bytes, row-major, no padding
};

// Returns a black frame of the given size.
Frame make_frame(int width, int height);

// swscale's SIMD code reads up to this many bytes past the end of a packed source's last row
// (FFmpeg pads its own buffers by AV_INPUT_BUFFER_PADDING_SIZE, 64, for this).
inline constexpr std::size_t k_sws_padding = 64;

// The bytes of `f` for sws_scale to read: f.rgb itself when its allocation reaches
// k_sws_padding past its end, else a copy in `scratch` that does (an exact-size vector at the end
// of a page made swscale read unmapped memory: found by the unit tests under ASan).
const std::uint8_t* sws_source(const Frame& f, std::vector<std::uint8_t>& scratch);

// --- Inline implementations ---

inline Frame make_frame(int width, int height) {
    Frame f;
    f.width = width;
    f.height = height;
    std::size_t size = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3;
    f.rgb.reserve(size + k_sws_padding);  // sws_source needs no copy
    f.rgb.assign(size, 0);
    return f;
}

inline const std::uint8_t* sws_source(const Frame& f, std::vector<std::uint8_t>& scratch) {
    if (f.rgb.capacity() >= f.rgb.size() + k_sws_padding) {
        return f.rgb.data();
    }
    scratch.resize(f.rgb.size() + k_sws_padding);
    if (!f.rgb.empty()) {
        std::memcpy(scratch.data(), f.rgb.data(), f.rgb.size());
    }
    return scratch.data();
}

}  // namespace cosmos::media
