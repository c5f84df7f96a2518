#include "cli/progress_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include <fmt/format.h>

#include "core/units.hpp"

namespace cosmos::cli {

using Clock = std::chrono::steady_clock;

ProgressBar::ProgressBar(std::string label, std::uint64_t total, bool enabled)
    : m_label(std::move(label)), m_total(total), m_enabled(enabled), m_start(Clock::now()) {
    if (m_label.size() > 28) {
        m_label = m_label.substr(0, 12) + "..." + m_label.substr(m_label.size() - 13);
    }
}

ProgressBar::~ProgressBar() {
    if (m_enabled && !m_finished && m_started) {
        std::fputs("\n", stderr);
    }
}

bool ProgressBar::detect() {
    const char* term = std::getenv("TERM");
    bool dumb = term == nullptr || std::strcmp(term, "dumb") == 0;
    return isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 && !dumb &&
           std::getenv("CI") == nullptr && std::getenv("NO_COLOR") == nullptr;
}

std::string ProgressBar::human_duration(double s) {
    if (s < 0 || s > 359999) {
        return "--:--";
    }
    long t = std::lround(s);
    return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                     : fmt::format("{}:{:02}", t / 60, t % 60);
}

void ProgressBar::update(std::uint64_t done) {
    if (!m_enabled || m_finished) {
        return;
    }
    if (!m_started) {
        m_started = true;
        m_first = done;
        m_start = Clock::now();
    }
    m_done = done;
    auto now = Clock::now();
    if (now - m_last_draw >= std::chrono::milliseconds(100)) {
        m_last_draw = now;
        draw(false);
    }
}

void ProgressBar::finish() {
    if (!m_enabled || m_finished) {
        return;
    }
    m_finished = true;
    if (!m_started) {
        m_start = Clock::now();
    }
    m_done = std::max(m_done, m_total);
    draw(true);
    std::fputs("\n", stderr);
    std::fflush(stderr);
}

void ProgressBar::draw(bool final) {
    double elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
    double rate = elapsed > 0.05 ? static_cast<double>(m_done - m_first) / elapsed : 0.0;
    double frac = m_total > 0 ? static_cast<double>(m_done) / static_cast<double>(m_total) : 1.0;
    frac = std::clamp(frac, 0.0, 1.0);
    constexpr int width = 24;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    std::string tail;
    if (final) {
        tail = fmt::format("in {}", human_duration(elapsed));
    } else {
        double eta =
            rate > 0 ? static_cast<double>(m_total - std::min(m_done, m_total)) / rate : -1.0;
        tail = fmt::format("ETA {}", human_duration(eta));
    }
    std::string line = fmt::format("\r{:<28} [{}] {:3.0f}%  {} / {}  {}/s  {}\x1b[K",
                                   m_label,
                                   bar,
                                   frac * 100,
                                   core::human_bytes(static_cast<double>(m_done)),
                                   core::human_bytes(static_cast<double>(m_total)),
                                   core::human_bytes(rate),
                                   tail);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
}

}  // namespace cosmos::cli
