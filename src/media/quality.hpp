#pragma once
// Quality scores computed locally from decoded frames (no model): how well an output keeps a
// control's structure, how stable it is over time compared with its input, and how visible the
// seams of a stitched long video are. Every score works on grayscale luma at a reduced working
// size (the long side scaled to 256 px by default), so a 720p video costs little more than its
// decode. Formulas, ranges and limits: docs/quality.md.
//
// Each score has an in-memory form over luma planes (what the unit tests build) and a form that
// reads video files through VideoReader.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/result.hpp"
#include "media/frame.hpp"

namespace cosmos::media::quality {

// One 8-bit luma plane, row-major, no padding (width * height bytes).
struct Luma {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;

    std::uint8_t at(int x, int y) const {
        return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                      static_cast<std::size_t>(x)];
    }
};

using Frames = std::vector<Luma>;

inline constexpr int k_default_long_side = 256;

struct ReadLumaOptions {
    // The working size: the long side scaled down to this many pixels (never up), the short side
    // in proportion, both rounded to even. 0 keeps the source size.
    int long_side = k_default_long_side;
    // Forces this exact size (both or neither; e.g. a control read at its output's size).
    int width = 0;
    int height = 0;
    int max_frames = 0;  // 0: every frame
};

// The working size for a source of width x height (see ReadLumaOptions::long_side).
void working_size(int width, int height, int long_side, int& out_width, int& out_height);

// BT.601 luma of an RGB24 frame: Y = (77 R + 150 G + 29 B + 128) >> 8.
Luma to_luma(const Frame& frame);

// Decodes `path` into luma planes at the working size. Fails as VideoReader::open (not_found,
// invalid_input) and with invalid_input for a video without frames.
core::Result<Frames> read_luma(const std::filesystem::path& path, const ReadLumaOptions& options);

// --- structure -----------------------------------------------------------------------------

// How a control's edges are found: an edge control's edges are its own bright pixels; any other
// control (depth, segmentation, ...) has its edges found like the output's (gradient edges).
enum class ControlKind { edge, gradient };

struct StructureScore {
    double score = 0;               // 0..1, mean of per_frame
    std::vector<double> per_frame;  // soft edge F1 of each frame whose control has edges
    int frames_compared = 0;        // min(output frames, control frames)
    int frames_without_edges = 0;   // control frames with no edge (not scored)
    double precision = 0;           // means over the scored frames
    double recall = 0;
};

// Edge agreement between `output` and `control`, frame by frame (the first min(n, m) frames;
// equal sizes required). Fails with invalid_input on empty inputs, different frame sizes, or a
// control without a single edge in any compared frame.
core::Result<StructureScore> structure(const Frames& output,
                                       const Frames& control,
                                       ControlKind kind);

// The same on video files: the control is read at the output's working size.
core::Result<StructureScore> structure(const std::filesystem::path& output,
                                       const std::filesystem::path& control,
                                       ControlKind kind,
                                       int long_side = k_default_long_side);

// The binary edge map structure() uses for a frame (1 = edge): exposed for tests and tools.
std::vector<std::uint8_t> edge_map(const Luma& frame, ControlKind kind);

// --- stability -----------------------------------------------------------------------------

// Luma levels (0..255) of extra frame-to-frame change that bring a pair's score to 0, and the
// allowance for codec noise below which extra change is free.
inline constexpr double k_stability_range = 10.0;
inline constexpr double k_stability_allowance = 1.0;

struct StabilityScore {
    double score = 0;               // 0..1, mean of per_pair
    std::vector<double> per_pair;   // pair t (frames t-1, t) at index t-1
    int pairs = 0;                  // min(output frames, input frames) - 1
    double mean_output_change = 0;  // mean |O_t - O_t-1| over the pairs, luma levels
    double mean_input_change = 0;
    int worst_pair = 0;  // the frame index t of the lowest-scoring pair
};

// The output's frame-to-frame change against the input's over the first min(n, m) frames.
// Fails with invalid_input with fewer than 2 frames on either side or frames of different sizes
// within a sequence (the output and input may differ in size: changes are per-pixel means).
core::Result<StabilityScore> stability(const Frames& output, const Frames& input);

core::Result<StabilityScore> stability(const std::filesystem::path& output,
                                       const std::filesystem::path& input,
                                       int long_side = k_default_long_side);

// --- seams ---------------------------------------------------------------------------------

// A seam step up to this many times the normal step scores 1.
inline constexpr double k_seam_tolerance = 1.5;
// The smallest normal step (luma levels) a ratio is taken against, so a still video's seam is
// not divided by ~0.
inline constexpr double k_seam_min_step = 0.5;

struct SeamScore {
    double ratio = 0;            // the worst seam's step / the normal step
    double score = 0;            // 0..1: min(1, k_seam_tolerance / ratio)
    int worst_seam = 0;          // the frame index of the worst seam
    double normal_step = 0;      // median of the steps away from seams, luma levels
    std::vector<double> ratios;  // per seam, in the order given
    std::vector<double> steps;   // step t (frames t-1, t) at index t-1
};

// `seams` holds the first frame index of each window after the first (the step between frames
// s-1 and s is the seam's; with radius r the largest step of s-r .. s+r). Fails with
// invalid_input with fewer than 3 frames, no seam, a seam outside 1 .. frames-1, frames of
// different sizes, or no step left away from the seams.
core::Result<SeamScore> seam(const Frames& video, const std::vector<int>& seams, int radius = 1);

core::Result<SeamScore> seam(const std::filesystem::path& video,
                             const std::vector<int>& seams,
                             int radius = 1,
                             int long_side = k_default_long_side);

// The mean absolute luma difference of two planes of the same size, in luma levels.
double mean_abs_diff(const Luma& a, const Luma& b);

}  // namespace cosmos::media::quality
