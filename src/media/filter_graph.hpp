#pragma once
// A libavfilter graph over RGB24 frames (edgedetect, minterpolate, framerate, tmix, ...):
// frames go in at a constant rate, filtered frames come out with their timestamps.

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media {

class FilterGraph {
public:
    FilterGraph();
    ~FilterGraph();
    FilterGraph(FilterGraph&&) noexcept;
    FilterGraph& operator=(FilterGraph&&) noexcept;
    FilterGraph(const FilterGraph&) = delete;
    FilterGraph& operator=(const FilterGraph&) = delete;

    // Builds `description` (libavfilter syntax, one input, one output, e.g.
    // "edgedetect=low=0.1:high=0.4") for RGB24 input of `width`x`height` at `fps_num/fps_den`
    // frames per second. Fails with invalid_input naming the description when it does not parse.
    core::Status open(
        int width, int height, int fps_num, int fps_den, const std::string& description);

    // Feeds the next input frame (timestamps are 0, 1, 2, ... in units of one input frame).
    core::Status push(const Frame& frame);
    // Signals the end of input so the filters flush what they hold.
    core::Status close_input();
    // Takes the next output frame (RGB24) and its time in seconds. Returns false when none is
    // ready (more input needed, or all output taken after close_input).
    core::Result<bool> pull(Frame& frame, double& seconds);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace cosmos::media
