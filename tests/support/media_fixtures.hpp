#pragma once
// Render sequences for media tests, written with the project's own PNG writer: a moving
// colour scene, matching depth (16-bit distances) and flat segmentation labels.

#include <cstdint>
#include <filesystem>
#include <string>

#include "media/frame.hpp"

namespace cosmos::test {

// Frame `i` of a small moving scene: a gradient background and a square moving right.
media::Frame scene_frame(int width, int height, int i);

// Frame `i` of the scene's segmentation: two flat label colours (background, square).
media::Frame label_frame(int width, int height, int i);

// Writes `<dir>/<prefix><number padded to digits>.png` for numbers first..first+count-1.
// kind: "color", "seg" (labels) or "depth16" (16-bit distances: the square is near).
void write_sequence(const std::filesystem::path& dir,
                    const std::string& prefix,
                    const std::string& kind,
                    int width,
                    int height,
                    int first,
                    int count,
                    int digits = 4);

// Writes a video of `frames` frames of the moving scene (ultrafast preset).
void write_scene_video(
    const std::filesystem::path& path, int width, int height, int frames, int fps = 24);

}  // namespace cosmos::test
