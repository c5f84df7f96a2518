#pragma once
// Previews of a video for the CLI and the web UI: a thumbnail (its middle frame) and a
// contact sheet (a grid of frames evenly spaced from first to last), both PNG.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media {

struct PreviewOptions {
    int width = 320;  // width of the thumbnail and of each sheet cell (height keeps the aspect)
    int columns = 4;
    int rows = 3;
};

struct PreviewFiles {
    std::filesystem::path thumbnail;
    std::filesystem::path contact_sheet;
};

// Collects the frames previews need while something else walks through a video (so `cosmos
// prepare` makes them from the frames it encodes, without decoding its output again).
class PreviewBuilder {
public:
    PreviewBuilder(int source_width,
                   int source_height,
                   std::int64_t frames,
                   const PreviewOptions& options = {});

    // True when frame `index` (0-based) goes into the thumbnail or the sheet.
    bool wants(std::int64_t index) const;
    // Keeps frame `index` scaled to the cell size when it is wanted.
    void add(std::int64_t index, const Frame& frame);
    // Writes `<dir>/<stem>.thumb.png` and `<dir>/<stem>.sheet.png` (creating `dir`).
    core::Result<PreviewFiles> write(const std::filesystem::path& dir,
                                     const std::string& stem) const;

    int cell_width() const { return m_cell_w; }
    int cell_height() const { return m_cell_h; }

private:
    PreviewOptions m_options;
    int m_cell_w = 0;
    int m_cell_h = 0;
    std::int64_t m_middle = 0;
    std::map<std::int64_t, int> m_slots;  // frame index -> first sheet cell showing it
    std::map<std::int64_t, Frame> m_frames;
};

// Writes `<dir>/<stem>.thumb.png` and `<dir>/<stem>.sheet.png` for `video` (creating `dir`).
// Fails like VideoReader::open for a bad video and with io when a PNG can't be written.
core::Result<PreviewFiles> write_previews(const std::filesystem::path& video,
                                          const std::filesystem::path& dir,
                                          const std::string& stem,
                                          const PreviewOptions& options = {});

}  // namespace cosmos::media
