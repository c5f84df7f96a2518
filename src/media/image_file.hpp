#pragma once
// Still images in and out (render frames, thumbnails): decodes png/jpg/exr/tif/bmp files with
// libavcodec straight from their bytes (no demuxer), and writes PNGs.

#include <cstdint>
#include <filesystem>
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

// Decodes `path` to RGB24. Fails with not_found when missing and invalid_input (naming the
// file) when it is not a decodable image.
core::Result<Frame> read_image_rgb(const std::filesystem::path& path);

// Decodes `path` to one channel: gray as is, colour images by their first (red) channel,
// 16-bit and float samples kept (for depth normalisation).
core::Result<ScalarImage> read_image_scalar(const std::filesystem::path& path);

// Writes `frame` as an RGB PNG; fails with io naming the file.
core::Status write_png(const std::filesystem::path& path, const Frame& frame);

// Writes a 16-bit grayscale PNG (`values` row-major, width * height); fails with io.
core::Status write_png_gray16(const std::filesystem::path& path,
                              int width,
                              int height,
                              const std::vector<std::uint16_t>& values);

}  // namespace cosmos::media
