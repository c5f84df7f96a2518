#pragma once
// One decoded picture as packed RGB24, the exchange format between readers, writers and the
// frame generators.

#include <cstdint>
#include <vector>

namespace cosmos::media {

struct Frame {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;  // width * height * 3 bytes, row-major, no padding
};

// Returns a black frame of the given size.
Frame make_frame(int width, int height);

// --- Inline implementations ---

inline Frame make_frame(int width, int height) {
    Frame f;
    f.width = width;
    f.height = height;
    f.rgb.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, 0);
    return f;
}

}  // namespace cosmos::media
