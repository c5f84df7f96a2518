#pragma once
// Still images in and out (render frames, thumbnails): decodes png/jpg/exr/tif/bmp files with
// libavcodec straight from their bytes (no demuxer), and writes PNGs.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media {

// What a file's samples are: 8-bit, 16-bit integer, or floating point (EXR).
enum class SampleKind { u8, u16, f32 };

// One channel of a decoded image in the file's own units (0..255, 0..65535 or floats).
struct ScalarImage {
    int width = 0;
    int height = 0;
    SampleKind kind = SampleKind::u8;
    std::vector<float> values;  // width * height, row-major
};

// Returns true for the still-image extensions the sequence scanner accepts (lower-case, with
// the dot): .png .jpg .jpeg .exr .tif .tiff .bmp.
bool is_image_extension(const std::string& ext);

// Decodes still images one after another, keeping its decoders, file buffer and the caller's
// output buffers between calls (a sequence of same-sized frames allocates nothing after the
// first). Not thread-safe: one per thread.
class ImageDecoder {
public:
    ImageDecoder();
    ~ImageDecoder();
    ImageDecoder(ImageDecoder&&) noexcept;
    ImageDecoder& operator=(ImageDecoder&&) noexcept;
    ImageDecoder(const ImageDecoder&) = delete;
    ImageDecoder& operator=(const ImageDecoder&) = delete;

    // Decodes `path` to RGB24 into `out` (reusing its buffer). Fails with not_found when
    // missing and invalid_input (naming the file) when it is not a decodable image.
    core::Status read_rgb(const std::filesystem::path& path, Frame& out);
    // Decodes `path` to one channel into `out`: gray as is, colour images by their first (red)
    // channel, 16-bit and float samples kept (for depth normalisation).
    core::Status read_scalar(const std::filesystem::path& path, ScalarImage& out);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// One-off forms of ImageDecoder::read_rgb / read_scalar.
core::Result<Frame> read_image_rgb(const std::filesystem::path& path);
core::Result<ScalarImage> read_image_scalar(const std::filesystem::path& path);

// Writes `frame` as an RGB PNG; fails with io naming the file.
core::Status write_png(const std::filesystem::path& path, const Frame& frame);

// Writes a 16-bit grayscale PNG (`values` row-major, width * height); fails with io.
core::Status write_png_gray16(const std::filesystem::path& path,
                              int width,
                              int height,
                              const std::vector<std::uint16_t>& values);

}  // namespace cosmos::media
