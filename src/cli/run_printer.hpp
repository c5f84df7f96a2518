#pragma once
// Shows a running job: on a terminal, log lines scroll above one redrawn progress line; in a
// pipe, log lines and progress changes are plain lines on stderr.

#include <chrono>
#include <string>

#include "backends/job_event.hpp"
#include "cli/output.hpp"

namespace cosmos::cli {

class RunPrinter {
public:
    explicit RunPrinter(const Output& out) : m_out(out) {}
    ~RunPrinter() { clear_bar(); }
    RunPrinter(const RunPrinter&) = delete;
    RunPrinter& operator=(const RunPrinter&) = delete;

    void operator()(const backends::JobEvent& event);

private:
    void clear_bar();
    void draw_bar();

    const Output& m_out;
    std::string m_run_id;
    double m_fraction = 0;
    int m_chunk = 0;
    int m_chunks = 1;
    std::string m_phase = "starting";
    bool m_bar_shown = false;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

}  // namespace cosmos::cli
