#pragma once
// A one-line transfer progress bar on stderr: label, bar, percent, bytes, rate and ETA, redrawn
// at most 10 times a second. Drawn only on an interactive terminal (stdout and stderr TTYs,
// TERM not dumb, no CI / NO_COLOR), never with --json or --quiet: callers pass `enabled`.

#include <chrono>
#include <cstdint>
#include <string>

namespace cosmos::cli {

class ProgressBar {
public:
    // `enabled` false makes every call a no-op (the default asks detect()).
    ProgressBar(std::string label, std::uint64_t total, bool enabled = detect());
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // True when stdout and stderr are terminals and the environment allows drawing.
    static bool detect();

    // Records `done` bytes; redraws when 100 ms have passed since the last draw.
    void update(std::uint64_t done);
    // Draws the final state and ends the line (also done by the destructor if needed).
    void finish();

    static std::string human_duration(double seconds);

private:
    void draw(bool final);

    std::string m_label;
    std::uint64_t m_total;
    bool m_enabled;
    bool m_finished = false;
    std::uint64_t m_done = 0;
    std::uint64_t m_first = 0;  // bytes already there at the first update (resumed)
    bool m_started = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw{};
};

}  // namespace cosmos::cli
