#include "cli/run_printer.hpp"

#include <iostream>

#include <fmt/format.h>

namespace cosmos::cli {

void RunPrinter::clear_bar() {
    if (m_bar_shown) {
        std::cerr << "\r\033[2K";
        std::cerr.flush();
        m_bar_shown = false;
    }
}

void RunPrinter::draw_bar() {
    if (!m_out.fancy || m_out.quiet) {
        return;
    }
    constexpr int k_width = 24;
    int filled = static_cast<int>(m_fraction * k_width + 0.5);
    std::string bar;
    for (int i = 0; i < k_width; ++i) {
        bar += i < filled ? "█" : "░";
    }
    auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - m_start)
            .count();
    std::cerr << "\r\033[2K"
              << fmt::format("{} {} {:3.0f}% {} chunk {}/{} {:02}:{:02}",
                             m_run_id,
                             bar,
                             m_fraction * 100,
                             m_phase,
                             m_chunk,
                             m_chunks,
                             secs / 60,
                             secs % 60);
    std::cerr.flush();
    m_bar_shown = true;
}

void RunPrinter::operator()(const backends::JobEvent& event) {
    if (m_out.quiet) {
        return;
    }
    if (const auto* l = std::get_if<backends::Launched>(&event)) {
        m_run_id = l->run_id;
        m_start = std::chrono::steady_clock::now();
        m_out.note(fmt::format("{} started on {}", l->run_id, l->host));
        draw_bar();
    } else if (const auto* line = std::get_if<backends::LogLine>(&event)) {
        clear_bar();
        std::cerr << (m_out.fancy ? m_out.style(line->line, "2") : line->line) << '\n';
        draw_bar();
    } else if (const auto* p = std::get_if<backends::Progress>(&event)) {
        bool changed = p->chunk != m_chunk || p->phase != m_phase;
        m_fraction = p->fraction;
        m_chunk = p->chunk;
        m_chunks = p->chunks;
        m_phase = p->phase;
        if (m_out.fancy) {
            draw_bar();
        } else if (changed) {
            std::cerr << fmt::format("progress {} {:.0f}% {} chunk {}/{}\n",
                                     p->run_id,
                                     p->fraction * 100,
                                     p->phase,
                                     p->chunk,
                                     p->chunks);
        }
    } else if (const auto* t = std::get_if<backends::Transfer>(&event)) {
        // Uploads draw on the terminal only; in a pipe one line per file when it completes.
        if (m_out.fancy) {
            double pct = t->total > 0 ? 100.0 * static_cast<double>(t->done) / t->total : 100.0;
            std::cerr << "\r\033[2K"
                      << fmt::format("{} {} {} {:3.0f}% {:.1f}/{:.1f} MiB",
                                     t->run_id,
                                     t->direction,
                                     t->file,
                                     pct,
                                     t->done / 1048576.0,
                                     t->total / 1048576.0);
            std::cerr.flush();
            m_bar_shown = true;
        } else if (t->done == t->total) {
            std::cerr << fmt::format(
                "{} {} {} {} bytes\n", t->run_id, t->direction, t->file, t->total);
        }
    } else if (const auto* f = std::get_if<backends::Finished>(&event)) {
        clear_bar();
        m_out.note(m_out.style(fmt::format("{} succeeded: {}", f->run_id, f->output_video), "32"));
    } else if (const auto* failed = std::get_if<backends::Failed>(&event)) {
        clear_bar();
        m_out.note(m_out.style(fmt::format("{} failed: {}", failed->run_id, failed->error), "31"));
    }
}

}  // namespace cosmos::cli
